// The messages between the supervisor (main thread) and a worker thread. Plain objects only:
// they cross the thread boundary by structured clone.
import type { ProxyConfig } from '@kproxy/core/config/proxy-config'
import type { MetricsSnapshot } from '@kproxy/core/metrics/metrics-registry'
import type { KproxyCode } from '@kproxy/core/errors/error-codes'
import type { ClientsSnapshot } from '@kproxy/core/bridge/client-report'
import type { PrincipalCertificate } from '@kproxy/core/policy/principal-certificates'
import type { ProducerClaim } from '../mesh-mode/producer-id-registry.ts'
import type { UpstreamProducer } from '../mesh-mode/producer-ids.ts'

export type LogLevel = ProxyConfig['logLevel']

// workerId null: a standby thread that loads its modules and waits for a 'start' message, so a
// crashed worker is replaced without paying for module loading (which takes about a second).
export interface WorkerData {
  workerId: number | null
  config: ProxyConfig
  // the process-wide quota table (shared, not copied), null while no config had policy.quotas
  quota?: WorkerQuota | null
}

// The quota table every worker shares, and this worker's own record of the connection places it
// holds in it (the supervisor gives them back if the worker dies). Both shared, not copied.
export interface WorkerQuota {
  table: SharedArrayBuffer
  holds: SharedArrayBuffer
}

// supervisor -> worker
export type ToWorker =
  | { type: 'start', workerId: number, config: ProxyConfig, quota?: WorkerQuota | null }
  | { type: 'snapshot', requestId: number }
  | { type: 'status', requestId: number }
  // the worker's part of the readiness report (GET /clients)
  | { type: 'clients', requestId: number }
  | { type: 'set-log-level', level: LogLevel }
  | { type: 'reload', config: ProxyConfig, quota?: WorkerQuota | null }
  | { type: 'add-broker', nodeId: number, host?: string, port?: number }
  | { type: 'shutdown', timeoutMs: number }
  // only sent when KPROXY_DEBUG_ENDPOINTS=1: the worker throws from the event loop (a crash)
  | { type: 'crash' }
  // the answer to a 'principal-cert' request (upstreamIdentity: certificate)
  | { type: 'principal-cert', requestId: number, cert: PrincipalCertificate | null, code?: KproxyCode, message?: string }
  // the answer to a 'producer-id-claim' (mesh mode, producer-id-registry.ts)
  | { type: 'producer-id-claim', requestId: number, claim: ProducerClaim }

export interface WorkerStatus {
  activeConnections: number
  upstreamHealthy: boolean
  logLevel: string
}

// worker -> supervisor
export type FromWorker =
  | { type: 'ready' }
  // a standby thread (workerId null) has loaded its modules
  | { type: 'standby' }
  // start-up failed (e.g. a port could not be bound); the worker exits after sending it
  | { type: 'fatal', code: KproxyCode, message: string }
  | { type: 'snapshot', requestId: number, snapshot: MetricsSnapshot }
  | { type: 'status', requestId: number, status: WorkerStatus }
  | { type: 'clients', requestId: number, clients: ClientsSnapshot }
  | { type: 'broker-discovered', nodeId: number, port: number, upstreamHost: string, upstreamPort: number }
  | { type: 'drained' }
  // upstreamIdentity: certificate: the principal's upstream client certificate, signed by the
  // supervisor (off every worker's event loop)
  | { type: 'principal-cert', requestId: number, principal: string }
  // mesh mode: the process-wide producer id mappings the supervisor holds (producer-id-registry.ts)
  | { type: 'producer-id-claim', requestId: number, key: string }
  | { type: 'producer-id-made', key: string, producer: UpstreamProducer | null, error: string | null }
  | { type: 'producer-id-release', key: string, producer: UpstreamProducer }
