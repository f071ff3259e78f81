// The main thread: starts N worker threads, restarts one that dies (the others keep their
// connections), relays broker discovery, broadcasts log levels and reloads, collects metric
// snapshots, and shuts everything down within the configured timeout.
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { ProxyConfig } from '@kproxy/core/config/proxy-config'
import { applyLiveChanges } from '@kproxy/core/config/live-reload'
import type { LiveChange } from '@kproxy/core/config/live-reload'
import type { MetricsSnapshot } from '@kproxy/core/metrics/metrics-registry'
import { foldSnapshots, mergeSnapshots, retireSnapshot } from '@kproxy/core/metrics/metrics-merge'
import type { MergedMetrics } from '@kproxy/core/metrics/metrics-merge'
import { mergeClientSnapshots } from '@kproxy/core/bridge/client-report'
import type { ClientsSnapshot } from '@kproxy/core/bridge/client-report'
import type { FromWorker, LogLevel, ToWorker, WorkerData, WorkerStatus } from '@kproxy/workers/runtime/messages'
import { SharedQuotaState } from '@kproxy/workers/policy/quota-shared'
import { NO_POLICY, policyOf } from '@kproxy/core/config/schema/policy-schema'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { PrincipalCertService } from './principal-cert-service.ts'
import { ProducerIdRegistry } from '@kproxy/workers/mesh-mode/producer-id-registry'

const WORKER_ENTRY = new URL(import.meta.resolve('@kproxy/workers/runtime/worker-main'))
const QUERY_TIMEOUT_MS = 2000
// A worker that keeps dying right after start is restarted with a pause, not in a hot loop.
const FAST_FAILURE_MS = 2000
const CRASH_LOOP_DELAY_MS = 5000

type SlotState = 'starting' | 'ready' | 'stopping' | 'down'

interface Slot {
  id: number
  worker: Worker | null
  state: SlotState
  startedAt: number
  readyAt: number
  fastFailures: number
  lastSnapshot: MetricsSnapshot | null
}

export interface WorkerRestart {
  workerId: number
  exitCode: number
  diedAt: number
  readyAt: number | null
}

export interface Readiness {
  ready: boolean
  reason: string | null
  // the standby thread that replaces a crashed worker: 'loaded' means a restart takes ~100 ms
  spare: 'none' | 'loading' | 'loaded'
  workers: Array<{ id: number, state: SlotState } & Partial<WorkerStatus>>
}

interface Pending {
  resolve (value: unknown): void
}

export class Supervisor {
  #config: ProxyConfig
  readonly #logger: Logger
  readonly #slots: Slot[] = []
  readonly #pending = new Map<number, Pending>()
  // node id -> where the worker that discovered it saw it (other workers may not be able to ask)
  readonly #knownBrokers = new Map<number, { host: string, port: number }>()
  readonly restarts: WorkerRestart[] = []
  readonly startedAt = Date.now()
  #retired: MetricsSnapshot | null = null
  #nextRequestId = 1
  #shuttingDown = false
  #startWaiter: { resolve (): void, reject (err: Error): void } | null = null
  // A thread with its modules loaded, waiting to replace a worker that dies (restart < 1 s).
  #spare: Worker | null = null
  #spareLoaded = false
  readonly #owner = new Map<Worker, Slot | 'spare'>()
  // the quota table every worker shares (made once, kept across worker restarts and reloads)
  readonly #quota: SharedQuotaState
  // mesh mode: the producer id mappings every worker shares
  readonly #producerIds = new ProducerIdRegistry()
  // upstreamIdentity: certificate (null when the mode is none)
  #certs: PrincipalCertService | null = null

  constructor (config: ProxyConfig, logger: Logger) {
    this.#config = config
    this.#logger = logger
    this.#quota = new SharedQuotaState(config.policy, logger)
    this.#applyIdentity()
  }

  // The signing service for the running policy.upstreamIdentity (rebuilt when a reload changes it).
  #applyIdentity (): void {
    let identity = null
    try {
      identity = policyOf(this.#config.policy ?? NO_POLICY).upstreamIdentity
    } catch {}
    const wanted = identity !== null && identity.mode === 'certificate' ? identity : null
    if (JSON.stringify(wanted) === JSON.stringify(this.#certs?.config ?? null)) return
    const old = this.#certs
    this.#certs = wanted === null ? null : new PrincipalCertService(wanted, this.#logger)
    if (old !== null) void old.close()
  }

  #principalCert (worker: Worker, requestId: number, principal: string): void {
    const service = this.#certs
    const reply = (m: ToWorker): void => { try { worker.postMessage(m) } catch {} }
    if (service === null) {
      reply({ type: 'principal-cert', requestId, cert: null, code: 'KPROXY_ERR_PRINCIPAL_CERT', message: 'policy.upstreamIdentity.mode is not certificate' })
      return
    }
    service.certificate(principal).then(cert => reply({ type: 'principal-cert', requestId, cert }), (err: unknown) => {
      const code = isKproxyError(err) ? err.code : 'KPROXY_ERR_PRINCIPAL_CERT'
      this.#logger.warn({ code, principal, err: (err as Error).message }, 'cannot issue an upstream client certificate')
      reply({ type: 'principal-cert', requestId, cert: null, code, message: (err as Error).message })
    })
  }

  get config (): ProxyConfig { return this.#config }

  // The upstream brokers the workers have learned of (node id -> where the broker really is).
  brokers (): Array<{ nodeId: number, address: { host: string, port: number } }> {
    return [...this.#knownBrokers].map(([nodeId, a]) => ({ nodeId, address: { host: a.host, port: a.port } }))
  }
  get workerCount (): number { return this.#slots.length }

  // Resolves when every worker is listening with the broker directory loaded; rejects (and stops
  // the workers) when one cannot start, e.g. its port is taken.
  start (): Promise<void> {
    const started = new Promise<void>((resolve, reject) => { this.#startWaiter = { resolve, reject } })
    for (let id = 0; id < this.#config.workers; id++) {
      const slot: Slot = { id, worker: null, state: 'down', startedAt: 0, readyAt: 0, fastFailures: 0, lastSnapshot: null }
      this.#slots.push(slot)
      this.#spawn(slot)
    }
    return started
  }

  #newThread (workerId: number | null): Worker {
    const data: WorkerData = { workerId, config: this.#config, quota: workerId === null ? null : this.#quota.forWorker(workerId) }
    const worker = new Worker(WORKER_ENTRY, { workerData: data, name: workerId === null ? 'kproxy-spare' : `kproxy-worker-${workerId}` })
    worker.on('message', (m: FromWorker) => {
      const owner = this.#owner.get(worker)
      if (owner === 'spare' && m.type === 'standby' && this.#spare === worker) this.#spareLoaded = true
      else if (owner !== undefined && owner !== 'spare') this.#onMessage(owner, worker, m)
    })
    worker.on('error', err => {
      const owner = this.#owner.get(worker)
      const id = owner === 'spare' || owner === undefined ? 'spare' : owner.id
      this.#logger.error({ code: 'KPROXY_ERR_WORKER_CRASH', worker: id, err: err.message }, `worker ${id} crashed: ${err.message}`)
    })
    worker.on('exit', code => {
      const owner = this.#owner.get(worker)
      this.#owner.delete(worker)
      if (owner === 'spare') {
        if (this.#spare === worker) this.#spare = null
        this.#ensureSpare(1000)
      } else if (owner !== undefined) {
        this.#onExit(owner, worker, code)
      }
    })
    return worker
  }

  #ensureSpare (delayMs: number): void {
    if (this.#spare !== null || this.#shuttingDown) return
    setTimeout(() => {
      if (this.#spare !== null || this.#shuttingDown) return
      this.#spareLoaded = false
      this.#spare = this.#newThread(null)
      this.#owner.set(this.#spare, 'spare')
    }, delayMs).unref()
  }

  #spawn (slot: Slot): void {
    let worker: Worker
    if (this.#spare !== null) {
      worker = this.#spare
      this.#spare = null
      this.#spareLoaded = false
      worker.postMessage({ type: 'start', workerId: slot.id, config: this.#config, quota: this.#quota.forWorker(slot.id) } satisfies ToWorker)
    } else {
      worker = this.#newThread(slot.id)
    }
    this.#owner.set(worker, slot)
    slot.worker = worker
    slot.state = 'starting'
    slot.startedAt = Date.now()
  }

  #onMessage (slot: Slot, worker: Worker, m: FromWorker): void {
    if (slot.worker !== worker) return
    switch (m.type) {
      case 'ready': {
        slot.state = 'ready'
        slot.readyAt = Date.now()
        for (const [nodeId, a] of this.#knownBrokers) worker.postMessage({ type: 'add-broker', nodeId, host: a.host, port: a.port } satisfies ToWorker)
        const restart = this.restarts.findLast(r => r.workerId === slot.id && r.readyAt === null)
        if (restart !== undefined) {
          restart.readyAt = slot.readyAt
          this.#logger.info({ worker: slot.id, ms: restart.readyAt - restart.diedAt }, `worker ${slot.id} is back`)
        }
        if (this.#startWaiter !== null && this.#slots.every(s => s.state === 'ready')) {
          this.#startWaiter.resolve()
          this.#startWaiter = null
        }
        // Load the next spare once the data path is up, so it does not slow this start.
        if (this.#slots.every(s => s.state === 'ready')) this.#ensureSpare(0)
        break
      }
      case 'fatal':
        if (this.#startWaiter !== null) {
          this.#startWaiter.reject(new KproxyError(m.code, m.message))
          this.#startWaiter = null
          void this.shutdown()
        }
        break
      case 'broker-discovered':
        if (!this.#knownBrokers.has(m.nodeId)) {
          this.#knownBrokers.set(m.nodeId, { host: m.upstreamHost, port: m.upstreamPort })
          this.#logger.info({ nodeId: m.nodeId, port: m.port }, `new upstream broker ${m.nodeId}; every worker now listens on port ${m.port}`)
        }
        this.#broadcast({ type: 'add-broker', nodeId: m.nodeId, host: m.upstreamHost, port: m.upstreamPort }, slot)
        break
      case 'snapshot':
        slot.lastSnapshot = m.snapshot
        this.#settle(m.requestId, m.snapshot)
        break
      case 'status':
        this.#settle(m.requestId, m.status)
        break
      case 'clients':
        this.#settle(m.requestId, m.clients)
        break
      case 'drained':
        break
      case 'principal-cert':
        this.#principalCert(worker, m.requestId, m.principal)
        break
      case 'producer-id-claim': {
        const requestId = m.requestId
        this.#producerIds.claim(slot.id, m.key, claim => {
          // the asker may have died meanwhile; its claims die with it
          try { worker.postMessage({ type: 'producer-id-claim', requestId, claim } satisfies ToWorker) } catch {}
        })
        break
      }
      case 'producer-id-made':
        this.#producerIds.made(slot.id, m.key, m.producer, m.error)
        break
      case 'producer-id-release':
        this.#producerIds.release(m.key, m.producer)
        break
    }
  }

  #onExit (slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return
    slot.worker = null
    const wasState = slot.state
    slot.state = 'down'
    // its connections are gone with it: their places in the quota table are free again
    this.#quota.workerGone(slot.id)
    this.#producerIds.workerGone(slot.id)
    if (slot.lastSnapshot !== null) {
      this.#retired = foldSnapshots(this.#retired === null ? [retireSnapshot(slot.lastSnapshot)] : [this.#retired, retireSnapshot(slot.lastSnapshot)])
      slot.lastSnapshot = null
    }
    if (this.#shuttingDown || wasState === 'stopping') return
    if (this.#startWaiter !== null) {
      this.#startWaiter.reject(new KproxyError('KPROXY_ERR_WORKER_START', `worker ${slot.id} exited with code ${code} while starting`))
      this.#startWaiter = null
      void this.shutdown()
      return
    }
    const now = Date.now()
    slot.fastFailures = now - slot.startedAt < FAST_FAILURE_MS ? slot.fastFailures + 1 : 0
    const delay = slot.fastFailures >= 3 ? CRASH_LOOP_DELAY_MS : 0
    this.restarts.push({ workerId: slot.id, exitCode: code, diedAt: now, readyAt: null })
    this.#logger.error({ code: 'KPROXY_ERR_WORKER_EXIT', worker: slot.id, exitCode: code, restartInMs: delay }, `worker ${slot.id} exited with code ${code}; restarting`)
    const restart = (): void => { if (!this.#shuttingDown) this.#spawn(slot) }
    if (delay === 0) restart()
    else setTimeout(restart, delay).unref()
  }

  #settle (requestId: number, value: unknown): void {
    const p = this.#pending.get(requestId)
    if (p === undefined) return
    this.#pending.delete(requestId)
    p.resolve(value)
  }

  #broadcast (message: ToWorker, except?: Slot): void {
    for (const s of this.#slots) {
      if (s !== except && s.worker !== null && s.state !== 'stopping') s.worker.postMessage(message)
    }
  }

  // Ask one worker; undefined if it does not answer in time (or is down).
  #ask<T> (slot: Slot, make: (requestId: number) => ToWorker): Promise<T | undefined> {
    const worker = slot.worker
    if (worker === null) return Promise.resolve(undefined)
    const requestId = this.#nextRequestId++
    return new Promise(resolve => {
      const timer = setTimeout(() => { this.#pending.delete(requestId); resolve(undefined) }, QUERY_TIMEOUT_MS)
      this.#pending.set(requestId, { resolve: v => { clearTimeout(timer); resolve(v as T) } })
      worker.postMessage(make(requestId))
    })
  }

  // Every worker's counters merged, plus those of workers that have died since the start.
  async metrics (): Promise<MergedMetrics> {
    const snaps = await Promise.all(this.#slots.map(s => this.#ask<MetricsSnapshot>(s, requestId => ({ type: 'snapshot', requestId }))))
    const live = snaps.filter((s): s is MetricsSnapshot => s !== undefined)
    const merged = mergeSnapshots(this.#retired === null ? live : [...live, this.#retired])
    merged.workers = live.length
    return merged
  }

  // The readiness report's records of every live worker, merged (workers that died took theirs).
  async clients (): Promise<ClientsSnapshot> {
    const snaps = await Promise.all(this.#slots.map(s => this.#ask<ClientsSnapshot>(s, requestId => ({ type: 'clients', requestId }))))
    return mergeClientSnapshots(snaps.filter((s): s is ClientsSnapshot => s !== undefined))
  }

  async readiness (): Promise<Readiness> {
    const statuses = await Promise.all(this.#slots.map(s => s.state === 'ready'
      ? this.#ask<WorkerStatus>(s, requestId => ({ type: 'status', requestId }))
      : Promise.resolve(undefined)))
    const workers = this.#slots.map((s, i) => ({ id: s.id, state: s.state, ...statuses[i] }))
    let reason: string | null = null
    if (this.#shuttingDown) reason = 'shutting down'
    for (const w of workers) {
      if (reason !== null) break
      if (w.state !== 'ready') reason = `worker ${w.id} is ${w.state}`
      else if (w.upstreamHealthy === undefined) reason = `worker ${w.id} did not answer within ${QUERY_TIMEOUT_MS} ms`
      else if (!w.upstreamHealthy) reason = `worker ${w.id} has no healthy upstream connection`
    }
    const spare = this.#spare === null ? 'none' : this.#spareLoaded ? 'loaded' : 'loading'
    return { ready: reason === null, reason, spare, workers }
  }

  setLogLevel (level: LogLevel): void {
    this.#config = { ...this.#config, logLevel: level }
    this.#logger.level = level
    this.#broadcast({ type: 'set-log-level', level })
  }

  // Applies what can change live and tells every worker; the rest is reported.
  reload (next: ProxyConfig): LiveChange {
    const change = applyLiveChanges(this.#config, next)
    this.#config = change.config
    this.#logger.level = change.config.logLevel
    this.#quota.reload(change.config.policy)
    this.#applyIdentity()
    for (const s of this.#slots) {
      if (s.worker !== null && s.state !== 'stopping') s.worker.postMessage({ type: 'reload', config: change.config, quota: this.#quota.forWorker(s.id) } satisfies ToWorker)
    }
    this.#logger.info({ applied: change.applied, needsRestart: change.needsRestart }, change.needsRestart.length === 0
      ? 'configuration reloaded'
      : `configuration reloaded; changes to ${change.needsRestart.join(', ')} need a restart and were not applied`)
    return change
  }

  // Debug only (KPROXY_DEBUG_ENDPOINTS=1): make worker `id` crash.
  crashWorker (id: number): boolean {
    const slot = this.#slots[id]
    if (slot === undefined || slot.worker === null) return false
    slot.worker.postMessage({ type: 'crash' } satisfies ToWorker)
    return true
  }

  // Stop accepting everywhere, let in-flight requests finish (bounded by shutdownTimeoutMs), then
  // make sure every thread is gone.
  async shutdown (): Promise<void> {
    if (this.#shuttingDown) return
    this.#shuttingDown = true
    void this.#certs?.close()
    const timeoutMs = this.#config.shutdownTimeoutMs
    const exits = this.#slots.filter(s => s.worker !== null).map(s => {
      const worker = s.worker!
      s.state = 'stopping'
      return new Promise<void>(resolve => {
        worker.once('exit', () => resolve())
        worker.postMessage({ type: 'shutdown', timeoutMs } satisfies ToWorker)
      })
    })
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), timeoutMs + 1000) })
    const outcome = await Promise.race([Promise.all(exits).then(() => 'done' as const), deadline])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      this.#logger.warn({ code: 'KPROXY_ERR_DRAIN_TIMEOUT' }, 'workers did not stop in time; terminating them')
      await Promise.all(this.#slots.map(s => s.worker?.terminate()))
    }
    await this.#spare?.terminate()
    this.#spare = null
    for (const p of this.#pending.values()) p.resolve(undefined)
    this.#pending.clear()
  }
}
