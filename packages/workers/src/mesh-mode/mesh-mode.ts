// Mesh mode in one worker thread: one listener (SO_REUSEPORT, shared by every worker), the
// clusters with their metadata and shared connections, and a session per client connection whose
// route is a MeshRoute. The filter chain is broker mode's without what is specific to one
// upstream cluster: the API key policy, the quota filter, the ACL filter, the configured filters,
// and the metrics and client-usage taps. ApiVersions is answered by the route (every cluster's
// versions ∩ kproxy's, plus SaslHandshake and SaslAuthenticate while kproxy terminates SASL).
//
// The policy section (docs/policy.md) is broker mode's, through the same ListenerPolicy: SASL
// termination toward clients, ACLs on the client's topic names (before any mesh rename; topic ids
// looked up in every cluster, mesh-topic-ids.ts), quotas. With mesh.tls the listener is a TLS
// server (strict, or permissive/disabled with plaintext counted as in broker mode). What mesh mode
// refuses (kproxy's own upstream login in policy.sasl.upstream, upstreamIdentity certificate) is
// refused by the config check. A reload applies the policy section, mesh.tls.mode and
// mesh.filters; the other mesh keys need a restart.
import type { Logger } from 'pino'
import type { MeshConfig } from '@kproxy/core/config/proxy-config'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { FlowRegistry } from '@kproxy/core/metrics/flow-registry'
import { HomeRouter, TopicRouter } from '@kproxy/core/mesh/topic-router'
import type { VersionRange } from '@kproxy/core/protocol/api-keys'
import type { ClientsSnapshot } from '@kproxy/core/bridge/client-report'
import type { ListenerInfo } from '../filters/filter-api.ts'
import { FilterChain } from '../filters/filter-chain.ts'
import type { ChainMember } from '../filters/filter-chain.ts'
import { createMembers, prepareFilters } from '../filters/filter-loader.ts'
import { rebuildChain } from '../filters/chain-reload.ts'
import { PlaintextSessions } from '../session/plaintext-sessions.ts'
import type { PreparedFilter } from '../filters/filter-loader.ts'
import { createApiKeyPolicy } from '../filters/builtin/api-key-policy.ts'
import { MetricsTap } from '../filters/builtin/metrics-tap.ts'
import type { AdvertisedBroker } from '../filters/error-response.ts'
import { ClientUsageTap } from '../report/client-usage-tap.ts'
import { ClientRegistry } from '../report/client-registry.ts'
import { ListenerSet } from '../net/listener-set.ts'
import type { Accepted } from '../net/listener-set.ts'
import { meshClusterDialer } from './mesh-cluster-dialer.ts'
import { DownstreamTls } from '../net/downstream-tls.ts'
import { ListenerPolicy } from '../policy/listener-policy.ts'
import type { QuotaService } from '../policy/quota-service.ts'
import { meshTopicLookup } from './mesh-topic-ids.ts'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import { ClientSession } from '../session/client-session.ts'
import type { SessionHost, SessionSettings } from '../session/client-session.ts'
import { MeshCluster } from './mesh-cluster.ts'
import type { MeshHost } from './mesh-host.ts'
import { createMeshMetrics } from './mesh-metrics.ts'
import type { MeshMetrics } from './mesh-metrics.ts'
import { meshVersions } from './mesh-apis.ts'
import { FlushQueue } from './flush-queue.ts'
import { MeshRoute } from './mesh-route.ts'
import { MeshProducerIds } from './producer-ids.ts'
import { ProducerIdLog, processOnlyStore } from './producer-id-log.ts'
import type { ProducerIdClaims } from './producer-id-registry.ts'

export interface MeshModeContext {
  config: MeshConfig
  // the config's policy section (SASL termination, ACLs, quotas); absent: no policy
  policy?: PolicySection
  metrics: ProxyMetrics
  logger: Logger
  // policy.quotas of this worker (absent or without an enforcer: no quota filter)
  quotas?: QuotaService
  // the process's producer id mappings (the supervisor's registry); absent: this worker's own
  producerIdClaims?: ProducerIdClaims
}

// How long start-up waits for a cluster's ApiVersions before going on without it (a cluster down
// at start-up must not keep the others from being served).
const START_PROBE_MS = 5000

export interface MeshModeListeners {
  readonly ready: Promise<void>
  stopAccepting (): Promise<void>
  drain (timeoutMs: number): Promise<void>
  readonly activeConnections: number
  readonly upstreamHealthy: boolean
  clients (): ClientsSnapshot
  // a reloaded config: the policy section and mesh.tls.mode are applied, the filter chain rebuilt
  // (a chain that cannot be built leaves the running one, logged); other mesh keys need a restart
  reload (config: MeshConfig, policy: PolicySection | undefined): Promise<void>
}

const LISTENER_NAME = 'mesh'
// how often the producer id mappings in use are offered to the log to be written again
const REFRESH_MS = 3_600_000

class MeshMode implements MeshModeListeners, SessionHost, MeshHost {
  readonly #ctx: MeshModeContext
  readonly #workerId: number
  readonly ready: Promise<void>
  readonly clusters = new Map<string, MeshCluster>()
  readonly topics: TopicRouter
  readonly groups: HomeRouter
  readonly transactions: HomeRouter
  readonly metrics: ProxyMetrics
  readonly meshMetrics: MeshMetrics
  readonly producerIds: MeshProducerIds
  readonly #listeners: ListenerSet<'mesh'>
  readonly #tls: DownstreamTls | null
  readonly #policy: ListenerPolicy
  readonly #sessions = new Set<ClientSession>()
  // plaintext connections on a TLS listener (mode permissive or disabled): closed when a reload
  // makes the listener strict
  readonly #plaintext = new PlaintextSessions()
  readonly #dialers: UpstreamDialer[] = []
  readonly #flushes = new FlushQueue()
  readonly #clients = new ClientRegistry()
  readonly #usageTap = new ClientUsageTap()
  #chain: FilterChain
  #versions: VersionRange[] = []
  readonly #learning = new Set<MeshCluster>()
  #stopped = false
  #refreshTimer: NodeJS.Timeout | null = null
  #drainWaiter: (() => void) | null = null
  readonly listener: ListenerInfo

  constructor (ctx: MeshModeContext, reusePort: boolean, workerId: number) {
    this.#ctx = ctx
    this.#workerId = workerId
    const config = ctx.config
    this.metrics = ctx.metrics
    this.meshMetrics = createMeshMetrics(ctx.metrics)
    const log = config.producerIdLog
    this.topics = new TopicRouter(config.routes, config.defaultCluster, log === null ? null : { cluster: config.homeDefaultCluster, name: log.topic })
    this.groups = new HomeRouter(config.groups, config.homeDefaultCluster)
    this.transactions = new HomeRouter(config.transactions, config.homeDefaultCluster)
    for (const [i, c] of config.clusters.entries()) {
      const dialer = meshClusterDialer(c, i, ctx.logger, ctx.metrics, this.meshMetrics)
      this.#dialers.push(dialer)
      this.clusters.set(c.name, new MeshCluster(c, {
        dialer,
        connectTimeoutMs: config.upstreamConnectTimeoutMs,
        maxFrameSize: config.maxFrameSize,
        metadataMaxAgeMs: config.metadataMaxAgeMs,
        logger: ctx.logger,
        metrics: this.meshMetrics
      }))
    }
    const home = this.clusters.get(config.homeDefaultCluster)!
    const store = log === null ? processOnlyStore : new ProducerIdLog(home, log, ctx.logger)
    this.producerIds = new MeshProducerIds(ctx.logger, ctx.producerIdClaims, undefined, undefined, store)
    // mappings in use written again before the log's retention deletes them
    if (log !== null) this.#refreshTimer = setInterval(() => { this.producerIds.refreshInUse() }, Math.min(REFRESH_MS, log.retentionMs / 4)).unref()
    // reads the credentials and rules files now: a bad one stops the start here
    this.#policy = new ListenerPolicy({
      logger: ctx.logger,
      metrics: ctx.metrics,
      quotas: ctx.quotas,
      topicLookup: meshTopicLookup(() => this.clusters.values(), this.topics)
    }, ctx.policy)
    this.#tls = config.tls !== null ? new DownstreamTls(config.tls, ctx.logger, ctx.metrics) : null
    this.listener = { name: LISTENER_NAME, port: config.listen.port, tls: this.#tls !== null }
    this.#listeners = new ListenerSet<'mesh'>({
      host: config.listen.host,
      reusePort,
      tls: this.#tls,
      logger: ctx.logger,
      tlsMode: () => this.#ctx.config.tls?.mode ?? 'strict',
      accept: this.#accept.bind(this)
    })
    this.#chain = this.#buildChain([])
    this.ready = prepareFilters(config.filters ?? [], 'mesh.filters').then(async prepared => {
      this.#chain = this.#buildChain(prepared)
      await this.#probe()
      await this.#listeners.listen('mesh', config.listen.port)
    })
  }

  // Every cluster's ApiVersions (what the mesh may offer) and brokers, in parallel, bounded.
  async #probe (): Promise<void> {
    await Promise.all([...this.clusters.values()].map(c => new Promise<void>(resolve => {
      const timer = setTimeout(() => {
        this.#ctx.logger.warn({ code: 'KPROXY_WARN_MESH_CLUSTER_DOWN', cluster: c.name }, `mesh cluster ${c.name} did not answer ApiVersions within ${START_PROBE_MS} ms at start-up; serving the other clusters, its topics fail until it answers`)
        resolve()
      }, START_PROBE_MS)
      c.learnVersions(() => {
        c.metadata([], false, () => {
          clearTimeout(timer)
          resolve()
        })
      })
    })))
    this.#recomputeVersions()
  }

  #recomputeVersions (): void {
    const c = this.#ctx.config
    // SASL termination: the session's SASL stage answers SaslHandshake and SaslAuthenticate
    this.#versions = meshVersions([...this.clusters.values()].map(x => x.apiVersions), c.apiKeysAllowed, c.apiKeysDenied, this.#policy.sasl !== null)
  }

  #buildChain (prepared: readonly PreparedFilter[]): FilterChain {
    const ctx = this.#ctx
    const members: ChainMember[] = []
    const policy = createApiKeyPolicy(ctx.config.apiKeysAllowed, ctx.config.apiKeysDenied, ctx.metrics, ctx.logger)
    if (policy !== null) members.push({ label: 'apiKeyPolicy', filter: policy, builtin: true })
    const quota = this.#policy.quotaMember()
    if (quota !== null) members.push(quota)
    // before the configured filters, as in broker mode: rules name the client's topics
    const acl = this.#policy.aclMember()
    if (acl !== null) members.push(acl)
    members.push(...createMembers(prepared, { logger: ctx.logger, workerId: this.#workerId, metrics: ctx.metrics }))
    return new FilterChain(members, [new MetricsTap(ctx.metrics), this.#usageTap])
  }

  async reload (config: MeshConfig, policy: PolicySection | undefined): Promise<void> {
    // the runtime keeps the running value of every key that needs a restart
    this.#ctx.config = config
    this.#ctx.policy = policy
    this.#policy.reload(policy)
    this.#recomputeVersions()
    this.#plaintext.closeIfStrict(config.tls?.mode, 'mesh.tls.mode', this.#ctx.logger)
    this.#chain = await rebuildChain(this.#chain, config.filters ?? [], 'mesh.filters', this.#buildChain.bind(this), this.#ctx.logger)
  }

  // ---- MeshHost ------------------------------------------------------------------------------------

  get config (): MeshConfig { return this.#ctx.config }
  get nodeId (): number { return this.#ctx.config.nodeId }
  get advertisedHost (): string { return this.#ctx.config.advertisedHost }
  get advertisedPort (): number { return this.#ctx.config.listen.port }
  get clusterId (): string { return 'kproxy-mesh' }

  versions (): ReadonlyArray<{ apiKey: number, minVersion: number, maxVersion: number }> {
    // a cluster that was down at start-up is asked again; it narrows the offer once it answers
    for (const c of this.clusters.values()) {
      if (c.apiVersions === null && !this.#learning.has(c)) {
        this.#learning.add(c)
        c.learnVersions(() => {
          this.#learning.delete(c)
          this.#recomputeVersions()
        })
      }
    }
    return this.#versions
  }

  // ---- SessionHost ---------------------------------------------------------------------------------

  get flows () { return (this.#ctx.metrics as { flows?: FlowRegistry | null }).flows ?? null }
  get logger () { return this.#ctx.logger }
  get workerId (): number { return this.#workerId }
  get settings (): SessionSettings { return this.#ctx.config }
  get chain (): FilterChain { return this.#chain }
  get downstreamTls (): boolean { return this.#tls !== null }

  advertisedBrokers (): AdvertisedBroker[] {
    return [{ nodeId: this.nodeId, host: this.advertisedHost, port: this.advertisedPort }]
  }

  sessionClosed (session: ClientSession): void {
    this.#sessions.delete(session)
    this.#plaintext.delete(session)
    this.#clients.closed(session.context)
    if (this.#sessions.size === 0 && this.#drainWaiter !== null) {
      const waiter = this.#drainWaiter
      this.#drainWaiter = null
      waiter()
    }
  }

  // ---- MeshModeListeners ---------------------------------------------------------------------------

  get activeConnections (): number { return this.#sessions.size }
  get upstreamHealthy (): boolean { return [...this.clusters.values()].every(c => !c.down) }

  clients (): ClientsSnapshot {
    return { bridgeEnabled: false, upstream: null, clients: this.#clients.report([...this.#sessions].map(s => s.context)) }
  }

  async stopAccepting (): Promise<void> {
    this.#stopped = true
    if (this.#refreshTimer !== null) clearInterval(this.#refreshTimer)
    this.#policy.close()
    this.#listeners.close()
  }

  drain (timeoutMs: number): Promise<void> {
    const finish = (): void => {
      for (const c of this.clusters.values()) c.close()
      for (const d of this.#dialers) d.close()
    }
    for (const s of [...this.#sessions]) s.drain()
    if (this.#sessions.size === 0) {
      finish()
      return Promise.resolve()
    }
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.#drainWaiter = null
        for (const s of [...this.#sessions]) s.close('KPROXY_ERR_DRAIN_TIMEOUT', `requests still in flight after the ${timeoutMs} ms shutdown timeout`)
        finish()
        resolve()
      }, timeoutMs)
      this.#drainWaiter = () => { clearTimeout(timer); finish(); resolve() }
    })
  }

  #accept (c: Accepted<'mesh'>): void {
    if (this.#stopped) {
      c.socket.destroy()
      return
    }
    const permissive = c.plaintext && this.#ctx.config.tls?.mode === 'permissive'
    const session = new ClientSession(this, c.socket, {
      principal: c.principal,
      sasl: this.#policy.sasl,
      plaintextOn: permissive ? LISTENER_NAME : null,
      logFields: { target: 'mesh' },
      route: sink => new MeshRoute(sink, this, this.#flushes)
    })
    if (session.closed) return
    this.#sessions.add(session)
    if (c.plaintext) this.#plaintext.add(session)
  }
}

export function startMeshMode (ctx: MeshModeContext, options: { reusePort: boolean, workerId?: number }): MeshModeListeners {
  return new MeshMode(ctx, options.reusePort, options.workerId ?? 0)
}
