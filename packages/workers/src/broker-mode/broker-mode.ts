// Broker mode in one worker thread: a bootstrap listener plus one listener per upstream broker
// (port from the deterministic mapping), each client connection a session whose route is its own
// upstream connection (broker-route.ts). With reusePort every worker listens on the same ports and
// the kernel spreads connections between them.
//
// The listener's filter chain: kproxy's API key policy first (a denied key reaches nobody), the
// version bridge when it is on (so that every other filter sees requests and answers at versions
// the upstream accepts), then the configured filters in order, then ApiVersions and broker
// address rewriting nearest the upstream (so every filter sees responses with the addresses
// clients see), with the metrics and client-usage taps on every frame. The connections' clients
// and the versions they used make the readiness report (clients()).
//
// With brokerMode.tls the listeners are TLS servers (downstream-tls.ts); with brokerMode.sni
// there is only the one TLS port and the server name picks the upstream broker.
import type { TLSSocket } from 'node:tls'
import type { BrokerModeConfig, HostPort } from '@kproxy/core/config/proxy-config'
import type { FlowRegistry } from '@kproxy/core/metrics/flow-registry'
import type { ListenerInfo } from '../filters/filter-api.ts'
import { FilterChain } from '../filters/filter-chain.ts'
import type { ChainMember } from '../filters/filter-chain.ts'
import { createMembers, prepareFilters } from '../filters/filter-loader.ts'
import { rebuildChain } from '../filters/chain-reload.ts'
import { PlaintextSessions } from '../session/plaintext-sessions.ts'
import type { PreparedFilter } from '../filters/filter-loader.ts'
import { createApiKeyPolicy } from '../filters/builtin/api-key-policy.ts'
import { createApiVersionsFilter } from '../filters/builtin/api-versions-filter.ts'
import { ApiVersionsMemo } from '../filters/builtin/api-versions-memo.ts'
import { createVersionBridge } from '../filters/builtin/version-bridge.ts'
import { fetchTopicIds } from '../policy/acl-topic-lookup.ts'
import { ListenerPolicy } from '../policy/listener-policy.ts'
import { ClientUsageTap } from '../report/client-usage-tap.ts'
import { ClientRegistry } from '../report/client-registry.ts'
import type { ClientsSnapshot } from '@kproxy/core/bridge/client-report'
import { createAddressRewriteFilter } from '../filters/builtin/address-rewrite-filter.ts'
import { MetricsTap } from '../filters/builtin/metrics-tap.ts'
import type { AdvertisedBroker } from '../filters/error-response.ts'
import { ListenerSet } from '../net/listener-set.ts'
import type { Accepted } from '../net/listener-set.ts'
import { DownstreamTls, sniTarget } from '../net/downstream-tls.ts'
import { createUpstreamDialer, withLogin } from '../net/upstream-dialer.ts'
import { STATIC_READ_BUFFERS } from '../net/read-slabs.ts'
import { NO_POLICY, policyOf } from '@kproxy/core/config/schema/policy-schema'
import type { SaslPolicyConfig } from '@kproxy/core/policy/policy-config'
import { upstreamCredentials } from '@kproxy/core/policy/upstream-credentials'
import type { UpstreamLogin } from '../upstream/upstream-sasl-login.ts'
import { UpstreamIdentity } from '../policy/upstream-identity.ts'
import type { UpstreamIdentityConfig } from '@kproxy/core/policy/policy-config'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import { ClientSession } from '../session/client-session.ts'
import type { SessionHost, SessionSettings } from '../session/client-session.ts'
import { FAILURE_MEMORY_MS, ServerHealth } from '../upstream/server-health.ts'
import { BrokerRoute, DEFAULT_BOOTSTRAP_ANSWER_TIMEOUT_MS } from './broker-route.ts'
import type { BrokerRouteHost } from './broker-route.ts'
import { mappedPort } from './broker-directory.ts'
import { ClusterView } from './cluster-view.ts'
import type { ClusterViewOwner } from './cluster-view.ts'
import type { ListenerTarget, ProxyContext } from './proxy-context.ts'

export interface BrokerModeListeners {
  // every listener bound AND the broker directory loaded from upstream
  readonly ready: Promise<void>
  // listen on that node's port if not already (idempotent); `address`: where another worker saw
  // the broker really is (a worker cannot always ask upstream itself: SASL listeners)
  addBroker (nodeId: number, address?: HostPort): void
  // a reloaded config: the filter chain is rebuilt (a new chain that cannot be built leaves the
  // running one in place, logged); other live keys are read from ctx.config at each use
  reload (config: BrokerModeConfig): Promise<void>
  // close listening sockets; open connections carry on
  stopAccepting (): Promise<void>
  // wait until in-flight requests are answered (then close connections); destroy what is left
  // after timeoutMs
  drain (timeoutMs: number): Promise<void>
  readonly activeConnections: number
  // last upstream contact succeeded
  readonly upstreamHealthy: boolean
  // this worker's part of the readiness report
  clients (): ClientsSnapshot
}

type Key = 'bootstrap' | number

const LISTENER_NAME = 'broker'

class BrokerMode implements BrokerModeListeners, SessionHost, BrokerRouteHost, ClusterViewOwner {
  readonly #ctx: ProxyContext
  readonly #workerId: number
  readonly ready: Promise<void>
  readonly dialer: UpstreamDialer
  readonly health = new ServerHealth(Date.now, this.#bootstrapServerFailed.bind(this))
  readonly #tls: DownstreamTls | null
  readonly #listeners: ListenerSet<Key>
  readonly #view: ClusterView
  readonly #sessions = new Set<ClientSession>()
  // plaintext connections on the TLS listeners (mode permissive or disabled): closed when a
  // reload makes the listeners strict
  readonly #plaintext = new PlaintextSessions()
  readonly #listening: Array<Promise<void>> = []
  // brokers to listen for once the filters are ready
  #early: Array<{ nodeId: number, address?: HostPort }> | null = []
  #chain: FilterChain
  readonly #clients = new ClientRegistry()
  readonly #usageTap = new ClientUsageTap()
  // ApiVersions answers as clients see them, with and without the version bridge; both learn
  // what the upstream accepts from the brokers' answers
  readonly #apiVersionsMemo: ApiVersionsMemo
  readonly #apiVersionsMemoBridged: ApiVersionsMemo
  // SASL termination (policy.sasl), the ACL rules in force (policy.acl) with the topic ids this
  // worker knows, and the quota filter (policy.quotas): shared with mesh mode
  readonly #policy: ListenerPolicy
  #stopped = false
  #drainWaiter: (() => void) | null = null
  readonly listener: ListenerInfo
  // policy.sasl.upstream: kproxy logs in upstream with its own login
  #upstreamLogin: UpstreamLogin | null = null
  // policy.upstreamIdentity: certificate
  identity: UpstreamIdentity | null = null

  constructor (ctx: ProxyContext, reusePort: boolean, workerId: number) {
    this.#ctx = ctx
    this.#workerId = workerId
    const config = ctx.config
    // these read their files now (credentials, ACL rules, certificates): a bad one stops the
    // start here
    const policy = policyOf(ctx.policy ?? NO_POLICY)
    this.#policy = new ListenerPolicy({
      logger: ctx.logger,
      metrics: ctx.metrics,
      quotas: ctx.quotas,
      topicLookup: () => fetchTopicIds(ctx.config.upstream, ctx.config.upstreamConnectTimeoutMs, this.dialer)
    }, ctx.policy)
    this.#applyUpstreamLogin(policy.sasl)
    this.#applyIdentity(policy.upstreamIdentity)
    this.dialer = withLogin(createUpstreamDialer(config.upstreamTls, ctx.logger, ctx.metrics), () => this.#upstreamLogin)
    this.#tls = config.tls !== null ? new DownstreamTls(config.tls, ctx.logger, ctx.metrics) : null
    this.listener = { name: LISTENER_NAME, port: config.listen.port, tls: this.#tls !== null }
    this.#view = new ClusterView(ctx, this, this.dialer, this.health)
    const upstream = this.#view.upstreamVersions
    this.#apiVersionsMemo = new ApiVersionsMemo({ learn: ranges => upstream.learn(ranges) })
    this.#apiVersionsMemoBridged = new ApiVersionsMemo({ widen: true, learn: ranges => upstream.learn(ranges) })
    this.#listeners = new ListenerSet<Key>({
      host: config.listen.host,
      reusePort,
      tls: this.#tls,
      logger: ctx.logger,
      tlsMode: () => this.#ctx.config.tls?.mode ?? 'strict',
      route: this.#routeSni.bind(this),
      accept: this.#accept.bind(this)
    })
    this.#chain = this.#buildChain([])
    this.ready = prepareFilters(config.filters ?? [], filtersWhere(ctx)).then(prepared => {
      this.#chain = this.#buildChain(prepared)
      return this.#start()
    })
  }

  async #start (): Promise<void> {
    const bootstrap = this.#listeners.listen('bootstrap', this.#ctx.config.listen.port)
    const early = this.#early ?? []
    this.#early = null
    for (const e of early) this.addBroker(e.nodeId, e.address)
    await Promise.all([bootstrap, this.#view.load()])
    await Promise.all(this.#listening)
  }

  #buildChain (prepared: readonly PreparedFilter[]): FilterChain {
    const ctx = this.#ctx
    const members: ChainMember[] = []
    const policy = createApiKeyPolicy(ctx.config.apiKeysAllowed, ctx.config.apiKeysDenied, ctx.metrics, ctx.logger)
    if (policy !== null) members.push({ label: 'apiKeyPolicy', filter: policy, builtin: true })
    const quota = this.#policy.quotaMember()
    if (quota !== null) members.push(quota)
    const bridge = ctx.config.versionBridge
    if (bridge?.enabled === true) {
      const filter = createVersionBridge({
        upstream: this.#view.upstreamVersions,
        metrics: ctx.metrics,
        logger: ctx.logger.child({ filter: 'versionBridge' }),
        limits: { maxUncompressedSize: bridge.maxUncompressedBytes }
      })
      members.push({ label: 'versionBridge', filter, builtin: true })
    }
    // after the bridge (requests at versions the upstream accepts), before the configured filters
    const acl = this.#policy.aclMember()
    if (acl !== null) members.push(acl)
    members.push(...createMembers(prepared, { logger: ctx.logger, workerId: this.#workerId, metrics: ctx.metrics }))
    members.push({ label: 'apiVersions', filter: createApiVersionsFilter(bridge?.enabled === true ? this.#apiVersionsMemoBridged : this.#apiVersionsMemo), builtin: true })
    members.push({ label: 'addressRewrite', filter: createAddressRewriteFilter(this.#view.rewriteTarget), builtin: true })
    return new FilterChain(members, [new MetricsTap(ctx.metrics), this.#usageTap])
  }

  // The upstream login from policy.sasl.upstream (SASL termination itself: ListenerPolicy).
  #applyUpstreamLogin (sasl: SaslPolicyConfig | null): void {
    const up = sasl?.upstream ?? null
    this.#upstreamLogin = up === null ? null : { mechanism: up.mechanism, username: up.username, credentials: () => upstreamCredentials(up) }
  }

  // upstreamIdentity certificate: certificates come from the supervisor and are presented over
  // brokerMode.upstreamTls (the brokers require client certificates on a TLS listener).
  #applyIdentity (config: UpstreamIdentityConfig | null): void {
    const wanted = config !== null && config.mode === 'certificate' ? config : null
    if (JSON.stringify(wanted) === JSON.stringify(this.identity?.config ?? null)) return
    if (wanted === null) {
      this.identity = null
      return
    }
    const ctx = this.#ctx
    const ask = ctx.principalCertificate
    let source = (principal: string): Promise<never> => Promise.reject(new KproxyError('KPROXY_ERR_PRINCIPAL_CERT', `no certificate signer in this process for ${principal}`))
    if (ctx.config.upstreamTls === null) {
      ctx.logger.error({ code: 'KPROXY_ERR_PRINCIPAL_CERT' }, 'policy.upstreamIdentity.mode certificate needs TLS to the brokers (brokerMode.upstreamTls): client connections are refused until it is set')
      source = principal => Promise.reject(new KproxyError('KPROXY_ERR_PRINCIPAL_CERT', `the certificate of ${principal} cannot be presented: brokerMode.upstreamTls is not enabled`))
    } else if (ask !== undefined) {
      this.identity = new UpstreamIdentity(wanted, principal => ask.call(ctx, principal))
      return
    }
    this.identity = new UpstreamIdentity(wanted, source)
  }

  #reloadPolicy (): void {
    try {
      const policy = policyOf(this.#ctx.policy ?? NO_POLICY)
      // a credentials file that cannot be read leaves the running termination and login
      if (this.#policy.applySasl(policy.sasl)) this.#applyUpstreamLogin(policy.sasl)
      this.#applyIdentity(policy.upstreamIdentity)
    } catch (err) {
      this.#ctx.logger.error({ code: (err as { code?: string }).code ?? 'KPROXY_ERR_CREDENTIALS_FILE', err: (err as Error).message }, 'the reloaded policy.sasl cannot be used; the running SASL termination stays')
    }
  }

  async reload (config: BrokerModeConfig): Promise<void> {
    this.#reloadPolicy()
    this.#plaintext.closeIfStrict(config.tls?.mode, 'brokerMode.tls.mode', this.#ctx.logger)
    // a policy.acl that cannot be used leaves the running rules (logged)
    this.#policy.acl.apply(this.#ctx.policy ?? NO_POLICY)
    this.#chain = await rebuildChain(this.#chain, config.filters ?? [], filtersWhere(this.#ctx), this.#buildChain.bind(this), this.#ctx.logger)
  }

  // ---- SessionHost ---------------------------------------------------------------------------------

  get metrics () { return this.#ctx.metrics }
  get flows () { return (this.#ctx.metrics as { flows?: FlowRegistry | null }).flows ?? null }
  get logger () { return this.#ctx.logger }
  get workerId (): number { return this.#workerId }
  get settings (): SessionSettings { return this.#ctx.config }
  get chain (): FilterChain { return this.#chain }
  get downstreamTls (): boolean { return this.#tls !== null }

  advertisedBrokers (): AdvertisedBroker[] {
    return this.#view.advertisedBrokers()
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

  // ---- BrokerRouteHost -----------------------------------------------------------------------------

  get connectTimeoutMs (): number { return this.#ctx.config.upstreamConnectTimeoutMs }
  get maxFrameSize (): number { return this.#ctx.config.maxFrameSize }
  get bootstrapAnswerTimeoutMs (): number { return this.#ctx.config.bootstrapAnswerTimeoutMs ?? DEFAULT_BOOTSTRAP_ANSWER_TIMEOUT_MS }

  upstreamFor (target: ListenerTarget): readonly HostPort[] | null {
    return this.#view.upstreamFor(target)
  }

  refreshDirectory (done: () => void): void {
    this.#view.refresh(done)
  }

  upstreamContact (ok: boolean): void {
    this.#view.contact(ok)
  }

  // Stops listening on the broker's port, so that clients are refused as by the dead broker
  // itself; Metadata that lists the broker again triggers a probe that reopens the port once the
  // broker accepts connections. Connections already open are left alone.
  upstreamUnreachable (target: ListenerTarget): void {
    if (target.kind !== 'broker' || this.#stopped || !this.#listeners.has(target.nodeId)) return
    this.#view.unreachable(target.nodeId)
  }

  // A bootstrap server refused, dropped or left a connection unanswered: new connections try the
  // other servers first for a while. Logged once per failure, not per client.
  #bootstrapServerFailed (server: HostPort, why: string): void {
    const address = `${server.host}:${server.port}`
    this.#ctx.logger.warn({ code: 'KPROXY_WARN_BOOTSTRAP_SERVER_SKIPPED', server: address }, `bootstrap server ${address} is tried last for ${FAILURE_MEMORY_MS / 1000} s: ${why}`)
  }

  // ---- ClusterViewOwner ----------------------------------------------------------------------------

  get stopped (): boolean { return this.#stopped }

  brokerListed (nodeId: number): void {
    this.addBroker(nodeId)
  }

  brokerUnreachable (nodeId: number): void {
    if (!this.#listeners.stop(nodeId)) return
    const port = mappedPort(this.#ctx.config.brokerPorts, nodeId)
    this.#ctx.logger.warn({ code: 'KPROXY_WARN_BROKER_PORT_CLOSED', nodeId, port }, `upstream broker ${nodeId} refuses connections: port ${port} stops listening until the broker is listed in Metadata and reachable again, so that clients are refused as by the broker itself`)
  }

  brokerDiscovered (nodeId: number, localPort: number, address: HostPort): void {
    if (this.#listeners.has(nodeId)) return
    this.addBroker(nodeId)
    this.#ctx.onBrokerDiscovered(nodeId, localPort, address)
  }

  // ---- BrokerModeListeners -------------------------------------------------------------------------

  get activeConnections (): number { return this.#sessions.size }

  clients (): ClientsSnapshot {
    return {
      bridgeEnabled: this.#ctx.config.versionBridge?.enabled === true,
      upstream: this.#view.upstreamVersions.ranges(),
      clients: this.#clients.report([...this.#sessions].map(s => s.context))
    }
  }
  get upstreamHealthy (): boolean { return this.#view.healthy }

  addBroker (nodeId: number, address?: HostPort): void {
    if (this.#early !== null) {
      this.#early.push(address === undefined ? { nodeId } : { nodeId, address })
      return
    }
    this.#view.listed(nodeId, address)
    // SNI: every broker is behind the bootstrap port
    if (this.#listeners.has(nodeId) || this.#stopped || this.#ctx.config.sni !== null) return
    const port = mappedPort(this.#ctx.config.brokerPorts, nodeId)
    if (port < 0) {
      this.#ctx.logger.error({ code: 'KPROXY_ERR_BROKER_PORT_UNMAPPED', nodeId }, `upstream broker ${nodeId} has no local port in brokerPorts; clients cannot reach it through kproxy`)
      return
    }
    const listening = this.#listeners.listen(nodeId, port)
    listening.catch(ignore) // logged by the listener set; `ready` reports it
    this.#listening.push(listening)
  }

  async stopAccepting (): Promise<void> {
    this.#stopped = true
    this.#policy.close()
    this.#view.stop()
    this.#listeners.close()
    this.dialer.close()
  }

  drain (timeoutMs: number): Promise<void> {
    for (const s of [...this.#sessions]) s.drain()
    if (this.#sessions.size === 0) return Promise.resolve()
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.#drainWaiter = null
        for (const s of [...this.#sessions]) s.close('KPROXY_ERR_DRAIN_TIMEOUT', `requests still in flight after the ${timeoutMs} ms shutdown timeout`)
        resolve()
      }, timeoutMs)
      this.#drainWaiter = () => { clearTimeout(timer); resolve() }
    })
  }

  // ---- connections ---------------------------------------------------------------------------------

  #routeSni (socket: TLSSocket, key: Key): Key | null {
    const sni = this.#ctx.config.sni
    if (sni === null) return key
    const routed = sniTarget(sni, socket.servername)
    if (routed === null) {
      this.#tls!.refuse(socket, 'unknown_sni', `server name ${String(socket.servername)} is neither ${sni.bootstrapName} nor ${sni.brokerNamePattern}`)
      return null
    }
    return routed.kind === 'bootstrap' ? 'bootstrap' : routed.nodeId
  }

  #accept (c: Accepted<Key>): void {
    if (this.#stopped) {
      c.socket.destroy()
      return
    }
    const target: ListenerTarget = c.key === 'bootstrap' ? { kind: 'bootstrap' } : { kind: 'broker', nodeId: c.key }
    const permissive = c.plaintext && this.#ctx.config.tls?.mode === 'permissive'
    const session = new ClientSession(this, c.socket, {
      principal: c.principal,
      sasl: this.#policy.sasl,
      plaintextOn: permissive ? LISTENER_NAME : null,
      // BrokerRoute reads upstream into slabs and lends its answers (borrowsFrames)
      slabViews: STATIC_READ_BUFFERS,
      logFields: { target: c.key === 'bootstrap' ? 'bootstrap' : `broker-${c.key}` },
      route: sink => new BrokerRoute(sink, this, target, c.principal ?? 'ANONYMOUS')
    })
    if (session.closed) return
    this.#sessions.add(session)
    if (c.plaintext) this.#plaintext.add(session)
  }
}

function filtersWhere (ctx: ProxyContext): string {
  return 'brokerMode.filters'
}

function ignore (): void {}

export function startBrokerMode (ctx: ProxyContext, options: { reusePort: boolean, workerId?: number }): BrokerModeListeners {
  return new BrokerMode(ctx, options.reusePort, options.workerId ?? 0)
}
