// Entry of a worker thread: one broker-mode pipeline with its own metrics registry and pino
// logger, steered by the supervisor's messages (messages.ts). Data never crosses threads; only
// control messages and metric snapshots do.
import { parentPort, workerData } from 'node:worker_threads'
import { setFlagsFromString } from 'node:v8'
import { pino } from 'pino'
import type { Logger } from 'pino'
import type { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { createWorkerMetrics } from './worker-metrics.ts'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { startBrokerMode } from '../broker-mode/broker-mode.ts'
import type { BrokerModeListeners } from '../broker-mode/broker-mode.ts'
import { startMeshMode } from '../mesh-mode/mesh-mode.ts'
import type { MeshModeListeners } from '../mesh-mode/mesh-mode.ts'
import type { HostPort } from '@kproxy/core/config/proxy-config'
import type { ProxyContext } from '../broker-mode/proxy-context.ts'
import type { FromWorker, ToWorker, WorkerData, WorkerQuota } from './messages.ts'
import { policyOf } from '@kproxy/core/config/schema/policy-schema'
import { QuotaService } from '../policy/quota-service.ts'
import type { PrincipalCertificate } from '@kproxy/core/policy/principal-certificates'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { ProducerClaim, ProducerIdClaims } from '../mesh-mode/producer-id-registry.ts'
import { loopTraceFromEnv } from './loop-trace.ts'
import { PendingAsks } from './pending-asks.ts'
import type { LoopTrace } from './loop-trace.ts'

if (parentPort === null) throw new Error('worker-main.ts runs only as a worker thread')

// GC tuning for a relay. Every socket read is a new ArrayBuffer, and with a live heap of ~20 MB
// (the codec and its tables) V8's default old-generation slack is small enough that relaying
// 100 MB/s starts a full mark-compact every ~0.3 s (a bare relay with a 5 MB heap: almost none).
// A heap growing factor of 4 halves those collections (what is left is V8's fixed 64 MB
// external-memory trigger) and cut kproxy's CPU per GB produced by ~17 % when measured, for at
// most ~3x the live heap (~60 MB) more before a collection. The flag is process-wide and read
// at each collection, so setting it here applies to this worker from its next one. Not set when
// the operator chose a value (node --heap-growing-percent=N).
if (!process.execArgv.some(a => a.startsWith('--heap-growing-percent'))) setFlagsFromString('--heap-growing-percent=300')
const port = parentPort
const data = workerData as WorkerData

function post (message: FromWorker): void {
  port.postMessage(message)
}

// JSON lines straight to fd 1 (no transport thread); asynchronous so a slow stdout reader does not
// stall the data path, flushed before the thread exits.
const destination = pino.destination({ dest: 1, sync: false })
let logger: Logger = pino({ level: data.config.logLevel }, destination)

// flows (stats.flows) for the sessions to report Produce/Fetch frames to: metrics.flows
const metrics: MetricsRegistry = createWorkerMetrics(data.config, () => logger)
const knownBrokers = new Set<number>()
// broker mode's pipeline, or mesh mode's (config.mesh set); `listeners` is whichever runs
let broker: BrokerModeListeners | null = null
let mesh: MeshModeListeners | null = null
let listeners: BrokerModeListeners | MeshModeListeners | null = null
let started = false
const early: Array<{ nodeId: number, address: HostPort | undefined }> = []
// Pushed without being asked, so the counters of a worker that crashes are mostly kept.
const SNAPSHOT_PUSH_MS = 5000

// policy.quotas over the process-wide table the supervisor shares with every worker
const quotas = new QuotaService({ logger: () => logger })
// upstream certificates, and (mesh mode) producer id claims, asked of the supervisor
const certAsks = new PendingAsks<Extract<ToWorker, { type: 'principal-cert' }>>()
const claimAsks = new PendingAsks<ProducerClaim>()
const producerIdClaims: ProducerIdClaims = {
  claim (key, answer) {
    claimAsks.ask(requestId => post({ type: 'producer-id-claim', requestId, key }), answer)
  },
  made (key, producer, error) { post({ type: 'producer-id-made', key, producer, error }) },
  release (key, producer) { post({ type: 'producer-id-release', key, producer }) }
}

const ctx: ProxyContext = {
  config: data.config.brokerMode,
  policy: data.config.policy,
  metrics,
  logger,
  quotas,
  principalCertificate (principal: string): Promise<PrincipalCertificate> {
    return new Promise((resolve, reject) => {
      certAsks.ask(requestId => post({ type: 'principal-cert', requestId, principal }), reply => {
        if (reply.cert !== null) resolve(reply.cert)
        else reject(new KproxyError(reply.code ?? 'KPROXY_ERR_PRINCIPAL_CERT', reply.message ?? 'no certificate'))
      })
    })
  },
  onBrokerDiscovered (nodeId: number, localPort: number, address: HostPort): void {
    if (knownBrokers.has(nodeId)) return
    knownBrokers.add(nodeId)
    post({ type: 'broker-discovered', nodeId, port: localPort, upstreamHost: address.host, upstreamPort: address.port })
  }
}

function addBroker (nodeId: number, address?: HostPort): void {
  knownBrokers.add(nodeId)
  if (broker === null) early.push({ nodeId, address })
  else broker.addBroker(nodeId, address)
}

// KPROXY_LOOP_TRACE_DIR: event-loop delay and GC pauses of this worker, written to a file
let loopTrace: LoopTrace | null = null

function exit (code: number): void {
  loopTrace?.stop()
  try { destination.flushSync() } catch {}
  process.exit(code)
}

function applyConfig (config: WorkerData['config'], quota: WorkerQuota | null): void {
  logger.level = config.logLevel
  ctx.config = config.brokerMode
  ctx.policy = config.policy
  try {
    quotas.configure(policyOf(config.policy).quotas, quota, false)
  } catch (err) {
    logger.error({ code: 'KPROXY_ERR_QUOTAS', err: (err as Error).message }, 'the reloaded quotas cannot be used; the running ones stay')
  }
  // the filter chain (API key policy, configured filters) is rebuilt from the new config
  // mesh mode: the policy section and mesh.tls.mode (its other keys need a restart)
  if (config.mesh !== null) {
    void mesh?.reload(config.mesh, config.policy).then(() => {
      logger.info({ logLevel: config.logLevel }, 'configuration reloaded (mesh mode: policy, mesh.tls.mode, filters, log level)')
    })
    return
  }
  void broker?.reload(config.brokerMode).then(() => {
    logger.info({ logLevel: config.logLevel }, 'configuration reloaded')
  })
}

let shuttingDown = false

port.on('message', (message: ToWorker) => {
  if (!started) {
    if (message.type === 'start') begin(message.workerId, message.config, message.quota ?? null)
    else if (message.type === 'shutdown') exit(0)
    return
  }
  switch (message.type) {
    case 'start':
      break
    case 'snapshot':
      post({ type: 'snapshot', requestId: message.requestId, snapshot: metrics.snapshot() })
      break
    case 'status':
      post({
        type: 'status',
        requestId: message.requestId,
        status: {
          activeConnections: listeners?.activeConnections ?? 0,
          upstreamHealthy: listeners?.upstreamHealthy ?? false,
          logLevel: logger.level
        }
      })
      break
    case 'clients':
      post({ type: 'clients', requestId: message.requestId, clients: listeners?.clients() ?? { bridgeEnabled: false, upstream: null, clients: [] } })
      break
    case 'set-log-level':
      logger.level = message.level
      logger.info({ logLevel: message.level }, 'log level changed')
      break
    case 'reload':
      applyConfig(message.config, message.quota ?? null)
      break
    case 'add-broker':
      addBroker(message.nodeId, message.host === undefined || message.port === undefined ? undefined : { host: message.host, port: message.port })
      break
    case 'principal-cert':
      certAsks.answer(message.requestId, message)
      break
    case 'producer-id-claim':
      claimAsks.answer(message.requestId, message.claim)
      break
    case 'crash':
      logger.warn({ code: 'KPROXY_DEBUG_CRASH' }, 'crashing on request (KPROXY_DEBUG_ENDPOINTS)')
      setImmediate(() => { throw new Error('worker crash requested through /debug/crash-worker') })
      break
    case 'shutdown':
      if (shuttingDown) break
      shuttingDown = true
      void shutdown(message.timeoutMs)
      break
  }
})

async function shutdown (timeoutMs: number): Promise<void> {
  const started = Date.now()
  if (listeners !== null) {
    await listeners.stopAccepting()
    logger.info({ activeConnections: listeners.activeConnections, timeoutMs }, 'stopped accepting; draining')
    await listeners.drain(timeoutMs)
  }
  logger.info({ ms: Date.now() - started }, 'drained')
  post({ type: 'drained' })
  exit(0)
}

function begin (workerId: number, config: WorkerData['config'], quota: WorkerQuota | null): void {
  started = true
  loopTrace = loopTraceFromEnv(workerId)
  logger = pino({ level: config.logLevel, base: { worker: workerId } }, destination)
  ctx.logger = logger
  ctx.config = config.brokerMode
  ctx.policy = config.policy
  try {
    // a bad quotas file stops the start here, with its file:line problems
    quotas.configure(policyOf(config.policy).quotas, quota, true)
    if (config.mesh !== null) {
      mesh = startMeshMode({ config: config.mesh, policy: config.policy, metrics, logger, quotas, producerIdClaims }, { reusePort: true, workerId })
      listeners = mesh
    } else {
      broker = startBrokerMode(ctx, { reusePort: true, workerId })
      listeners = broker
      for (const e of early.splice(0)) broker.addBroker(e.nodeId, e.address)
    }
    listeners.ready.then(() => {
      post({ type: 'ready' })
    }, (err: unknown) => {
      fatal(err)
    })
  } catch (err) {
    fatal(err)
  }
  setInterval(() => post({ type: 'snapshot', requestId: 0, snapshot: metrics.snapshot() }), SNAPSHOT_PUSH_MS).unref()
}

if (data.workerId !== null) begin(data.workerId, data.config, data.quota ?? null)
else post({ type: 'standby' })

function fatal (err: unknown): void {
  const e = err as NodeJS.ErrnoException & { address?: string, port?: number }
  const listenError = e.syscall === 'listen' || e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL'
  const code = isKproxyError(err) ? err.code : listenError ? 'KPROXY_ERR_LISTEN' : 'KPROXY_ERR_WORKER_START'
  const where = e.address !== undefined ? `${e.address}:${e.port ?? '?'}` : 'the configured address'
  const message = listenError && !isKproxyError(err)
    ? `cannot listen on ${where}: ${e.code === 'EADDRINUSE' ? 'the address is already in use' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.message}`
    : err instanceof Error ? err.message : String(err)
  logger.error({ code, err: message }, 'worker could not start')
  post({ type: 'fatal', code, message })
  exit(1)
}
