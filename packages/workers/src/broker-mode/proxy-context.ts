// What a worker hands the broker-mode pipeline. The runtime (worker thread) owns sockets'
// listeners, metrics and logs; the pipeline owns everything between a downstream socket and its
// upstream socket.
import type { Logger } from 'pino'
import type { BrokerModeConfig, HostPort } from '@kproxy/core/config/proxy-config'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import type { QuotaService } from '../policy/quota-service.ts'
import type { PrincipalCertificate } from '@kproxy/core/policy/principal-certificates'

// Which upstream a listener stands for.
export type ListenerTarget = { kind: 'bootstrap' } | { kind: 'broker', nodeId: number }

export interface ProxyContext {
  config: BrokerModeConfig
  // the config's policy section (identity, ACLs, quotas); absent: no policy
  policy?: PolicySection
  metrics: ProxyMetrics
  logger: Logger
  // policy.quotas of this worker (absent or without an enforcer: no quota filter in the chain)
  quotas?: QuotaService
  // Called when a response names a broker this worker has no listener for yet; the runtime makes
  // every worker listen on its port (deterministic mapping) without a restart, and tells them
  // where the broker really is.
  onBrokerDiscovered (nodeId: number, localPort: number, address: HostPort): void
  // upstreamIdentity: certificate: the principal's upstream client certificate (signed by the
  // supervisor); absent where no supervisor signs (tests), which refuses such connections
  principalCertificate? (principal: string): Promise<PrincipalCertificate>
}
