// The broker-mode entry point a worker thread calls: a bootstrap listener plus one listener per
// upstream broker (port from the deterministic mapping), each connection piped to its own
// upstream connection (broker-connection.ts). With reusePort every worker thread listens on the
// same ports and the kernel spreads connections between them.
//
// With brokerMode.tls the listeners are TLS servers (downstream-tls.ts); with brokerMode.sni
// there is only the one TLS port and the server name picks the upstream broker.
import { connect, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { HostPort } from '@kproxy/core/config/proxy-config'
import { API_TABLE } from '@kproxy/core/protocol/api-keys'
import type { ProxyContext, ListenerTarget } from './proxy-context.ts'
import { BrokerConnection } from './broker-connection.ts'
import type { ConnectionHost } from './broker-connection.ts'
import { BrokerDirectory, mappedPort } from './broker-directory.ts'
import type { RewriteTarget } from '../filters/builtin/address-rewrite.ts'
import type { AdvertisedBroker } from '../filters/error-response.ts'
import { fetchUpstreamBrokers } from '../upstream/upstream-metadata.ts'
import { DownstreamTls, sniBrokerName, sniTarget } from '../net/downstream-tls.ts'
import { createUpstreamDialer } from '../net/upstream-dialer.ts'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'

export interface BrokerModeListeners {
  // every listener bound AND the broker directory loaded from upstream
  readonly ready: Promise<void>
  // listen on that node's port if not already (idempotent); `address`: where another worker saw
  // the broker really is (a worker cannot always ask upstream itself: SASL listeners)
  addBroker (nodeId: number, address?: HostPort): void
  // close listening sockets; open connections carry on
  stopAccepting (): Promise<void>
  // wait until in-flight requests are answered (then close connections); destroy what is left
  // after timeoutMs
  drain (timeoutMs: number): Promise<void>
  readonly activeConnections: number
  // last upstream contact succeeded
  readonly upstreamHealthy: boolean
}

const DIRECTORY_RETRY_MS = 1000
// at most one reachability probe per second for a broker whose port is closed
const PROBE_INTERVAL_MS = 1000

// Envoy semantics: a key in apiKeysDenied is denied; when apiKeysAllowed is non-empty, only its
// keys are allowed.
export function policyTable (allowedKeys: readonly number[], deniedKeys: readonly number[]): Uint8Array {
  const allowed = new Uint8Array(Math.max(API_TABLE.length, 1))
  for (let k = 0; k < allowed.length; k++) {
    allowed[k] = (allowedKeys.length === 0 || allowedKeys.includes(k)) && !deniedKeys.includes(k) ? 1 : 0
  }
  return allowed
}

class Listeners implements BrokerModeListeners, ConnectionHost {
  readonly ctx: ProxyContext
  // The API key policy (1 = allowed), read per request: a reload may refresh it in place with
  // allowed.set(policyTable(...)).
  readonly allowed: Uint8Array
  readonly rewriteTarget: RewriteTarget
  readonly dialer: UpstreamDialer
  readonly downstreamTls: boolean
  readonly #tls: DownstreamTls | null
  readonly ready: Promise<void>
  readonly #reusePort: boolean
  readonly #directory = new BrokerDirectory()
  readonly #servers = new Map<number | 'bootstrap', Server>()
  readonly #listening: Array<Promise<void>> = []
  readonly #connections = new Set<BrokerConnection>()
  #healthy = false
  #stopped = false
  #retryTimer: NodeJS.Timeout | null = null
  #drainWaiter: (() => void) | null = null
  // callbacks waiting for the directory refresh in progress (one refresh at a time)
  #refreshWaiters: Array<() => void> | null = null
  // Brokers whose local port is closed because their upstream broker refused a connection, with
  // the time of the last probe. Accepting a client and then dropping it is not what a client
  // expects of a dead broker: kafkajs 2.2.4 then keeps its cached group coordinator and retries
  // it for minutes, while a refused connect makes it refresh metadata and find the new one.
  readonly #unreachable = new Map<number, number>()
  // the upstream requires authentication before Metadata: logged once
  #authRequiredLogged = false
  readonly #probing = new Set<number>()

  constructor (ctx: ProxyContext, reusePort: boolean) {
    this.ctx = ctx
    this.#reusePort = reusePort
    const config = ctx.config
    this.allowed = policyTable(config.apiKeysAllowed, config.apiKeysDenied)
    // both read their files now: a missing or mismatched certificate stops the start here
    this.dialer = createUpstreamDialer(config.upstreamTls, ctx.logger, ctx.metrics)
    this.#tls = config.tls !== null ? new DownstreamTls(config.tls, ctx.logger, ctx.metrics) : null
    this.downstreamTls = this.#tls !== null
    const directory = this.#directory
    // ctx.config is read at each use: a reload that replaces it (advertised host, upstream
    // servers, timeouts) applies to the next response and the next connection.
    this.rewriteTarget = {
      hostFor: nodeId => advertisedHost(ctx, nodeId),
      portFor: nodeId => advertisedPort(ctx, nodeId),
      responseError: (apiKey, errorCode) => ctx.metrics.responseError(apiKey, errorCode),
      learn: (nodeId, host, port) => {
        directory.learn(nodeId, host, port)
        if (this.#unreachable.has(nodeId)) {
          this.#probe(nodeId)
          return
        }
        if (ctx.config.sni === null && !this.#servers.has(nodeId) && !this.#stopped) {
          const local = mappedPort(ctx.config.brokerPorts, nodeId)
          if (local < 0) return
          this.addBroker(nodeId)
          ctx.onBrokerDiscovered(nodeId, local, { host, port })
        }
      }
    }
    const bootstrap = this.#listen('bootstrap', { kind: 'bootstrap' }, config.listen.port)
    const loaded = new Promise<void>(resolve => { this.#loadDirectory(0, resolve) })
    this.ready = Promise.all([bootstrap, loaded]).then(() => Promise.all(this.#listening)).then(() => {})
  }

  get activeConnections (): number { return this.#connections.size }
  get upstreamHealthy (): boolean { return this.#healthy }

  addBroker (nodeId: number, address?: HostPort): void {
    if (address !== undefined) this.#directory.learn(nodeId, address.host, address.port)
    this.#unreachable.delete(nodeId)
    // SNI: every broker is behind the bootstrap port
    if (this.#servers.has(nodeId) || this.#stopped || this.ctx.config.sni !== null) return
    const port = mappedPort(this.ctx.config.brokerPorts, nodeId)
    if (port < 0) {
      this.ctx.logger.error({ code: 'KPROXY_ERR_BROKER_PORT_UNMAPPED', nodeId }, `upstream broker ${nodeId} has no local port in brokerPorts; clients cannot reach it through kproxy`)
      return
    }
    const listening = this.#listen(nodeId, { kind: 'broker', nodeId }, port)
    listening.catch(ignore) // logged in #listen; `ready` reports it
    this.#listening.push(listening)
  }

  async stopAccepting (): Promise<void> {
    this.#stopped = true
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
    // close() stops listening at once; its callback would wait for every connection to end
    for (const server of this.#servers.values()) server.close()
    this.#tls?.close()
    this.dialer.close()
  }

  drain (timeoutMs: number): Promise<void> {
    for (const conn of [...this.#connections]) conn.drain()
    if (this.#connections.size === 0) return Promise.resolve()
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.#drainWaiter = null
        for (const conn of [...this.#connections]) conn.close('KPROXY_ERR_DRAIN_TIMEOUT', `requests still in flight after the ${timeoutMs} ms shutdown timeout`)
        resolve()
      }, timeoutMs)
      this.#drainWaiter = () => { clearTimeout(timer); resolve() }
    })
  }

  // ConnectionHost
  upstreamFor (target: ListenerTarget): readonly HostPort[] | null {
    if (target.kind === 'bootstrap') return this.ctx.config.upstream
    const real = this.#directory.get(target.nodeId)
    return real === undefined ? null : [real]
  }

  refreshDirectory (done: () => void): void {
    if (this.#refreshWaiters !== null) {
      this.#refreshWaiters.push(done)
      return
    }
    const waiters = [done]
    this.#refreshWaiters = waiters
    const finish = (): void => {
      this.#refreshWaiters = null
      for (const w of waiters) w()
    }
    this.#fetchDirectory(0, ok => {
      if (!ok) this.ctx.logger.warn({ code: 'KPROXY_ERR_UPSTREAM_CONNECT' }, 'no upstream bootstrap server answered Metadata while looking up a broker')
      finish()
    })
  }

  advertisedBrokers (): AdvertisedBroker[] {
    const out: AdvertisedBroker[] = []
    for (const nodeId of this.#directory.nodeIds()) {
      const port = advertisedPort(this.ctx, nodeId)
      if (port >= 0) out.push({ nodeId, host: advertisedHost(this.ctx, nodeId), port })
    }
    return out
  }

  upstreamContact (ok: boolean): void {
    this.#healthy = ok
  }

  // Stops listening on the broker's port, so that clients are refused as by the dead broker
  // itself; Metadata that lists the broker again triggers a probe that reopens the port once the
  // broker accepts connections. Connections already open are left alone.
  upstreamUnreachable (target: ListenerTarget): void {
    if (target.kind !== 'broker' || this.#stopped) return
    const nodeId = target.nodeId
    const server = this.#servers.get(nodeId)
    if (server === undefined) return
    this.#servers.delete(nodeId)
    this.#unreachable.set(nodeId, Date.now())
    server.close()
    const port = mappedPort(this.ctx.config.brokerPorts, nodeId)
    this.ctx.logger.warn({ code: 'KPROXY_WARN_BROKER_PORT_CLOSED', nodeId, port }, `upstream broker ${nodeId} refuses connections: port ${port} stops listening until the broker is listed in Metadata and reachable again, so that clients are refused as by the broker itself`)
  }

  #probe (nodeId: number): void {
    const last = this.#unreachable.get(nodeId)
    if (last === undefined || this.#probing.has(nodeId) || this.#stopped) return
    if (Date.now() - last < PROBE_INTERVAL_MS) return
    const real = this.#directory.get(nodeId)
    if (real === undefined) return
    this.#unreachable.set(nodeId, Date.now())
    this.#probing.add(nodeId)
    const socket = connect({ host: real.host, port: real.port })
    const timer = setTimeout(() => socket.destroy(new Error('probe timeout')), this.ctx.config.upstreamConnectTimeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      this.#probing.delete(nodeId)
      if (!this.#unreachable.has(nodeId) || this.#stopped) return
      this.ctx.logger.info({ nodeId }, `upstream broker ${nodeId} accepts connections again: listening on its port`)
      this.addBroker(nodeId)
    })
    socket.once('error', () => {
      clearTimeout(timer)
      this.#probing.delete(nodeId)
    })
  }

  connectionClosed (conn: BrokerConnection): void {
    this.#connections.delete(conn)
    if (this.#connections.size === 0 && this.#drainWaiter !== null) {
      const waiter = this.#drainWaiter
      this.#drainWaiter = null
      waiter()
    }
  }

  #accept (socket: Socket, target: ListenerTarget, principal: string | null): void {
    if (this.#stopped) {
      socket.destroy()
      return
    }
    const conn = new BrokerConnection(this, socket, target, principal)
    if (!conn.closed) this.#connections.add(conn)
  }

  #acceptTls (socket: TLSSocket, target: ListenerTarget): void {
    const tls = this.#tls!
    const principal = tls.verify(socket)
    if (principal === null) return // refused, logged and counted
    const sni = this.ctx.config.sni
    if (sni !== null) {
      const routed = sniTarget(sni, socket.servername)
      if (routed === null) {
        tls.refuse(socket, 'unknown_sni', `server name ${String(socket.servername)} is neither ${sni.bootstrapName} nor ${sni.brokerNamePattern}`)
        return
      }
      target = routed
    }
    this.#accept(socket, target, principal)
  }

  #listen (key: number | 'bootstrap', target: ListenerTarget, port: number): Promise<void> {
    const server: Server = this.#tls !== null
      ? this.#tls.createServer(socket => this.#acceptTls(socket, target))
      : createServer({ pauseOnConnect: true, noDelay: true }, socket => this.#accept(socket, target, null))
    this.#servers.set(key, server)
    const host = this.ctx.config.listen.host
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.ctx.logger.error({ code: 'KPROXY_ERR_LISTEN', host, port, err: err.message }, `cannot listen on ${host}:${port}: ${err.message}`)
        this.#servers.delete(key)
        reject(err)
      }
      server.once('error', onError)
      server.listen({ host, port, reusePort: this.#reusePort }, () => {
        server.off('error', onError)
        server.on('error', err => this.ctx.logger.error({ code: 'KPROXY_ERR_LISTEN', host, port, err: err.message }, 'listener error'))
        this.ctx.logger.debug({ host, port, target: key }, 'listening')
        resolve()
      })
    })
  }

  // Metadata from the first reachable bootstrap server; retried every second until it works.
  #loadDirectory (attempt: number, resolve: () => void): void {
    if (this.#stopped) return
    this.#fetchDirectory(attempt, ok => {
      if (ok) {
        resolve()
        return
      }
      if (attempt === 0 || attempt % 30 === 0) {
        this.ctx.logger.warn({ code: 'KPROXY_ERR_UPSTREAM_CONNECT', attempt }, 'no upstream bootstrap server answered Metadata; retrying every second')
      }
      this.#retryTimer = setTimeout(() => this.#loadDirectory(attempt + 1, resolve), DIRECTORY_RETRY_MS)
      this.#retryTimer.unref()
    })
  }

  // Tries the bootstrap servers in order; learns every broker of the first answer.
  #fetchDirectory (attempt: number, done: (ok: boolean) => void): void {
    const servers = this.ctx.config.upstream
    const tryServer = (i: number): void => {
      if (i >= servers.length) {
        this.#healthy = false
        done(false)
        return
      }
      fetchUpstreamBrokers(servers[i], this.ctx.config.upstreamConnectTimeoutMs, this.dialer).then(brokers => {
        this.#healthy = true
        for (const b of brokers) {
          this.#directory.learn(b.nodeId, b.host, b.port)
          if (this.#unreachable.has(b.nodeId)) this.#probe(b.nodeId)
          else this.addBroker(b.nodeId)
        }
        this.ctx.logger.info({ brokers: brokers.map(b => b.nodeId), attempt }, 'broker directory loaded from upstream')
        done(true)
      }, err => {
        if ((err as { code?: string }).code === 'KPROXY_ERR_UPSTREAM_AUTH_REQUIRED') {
          // Reachable: brokers come from clients' authenticated Metadata responses (learn) and
          // from other workers (addBroker with an address).
          this.#healthy = true
          if (!this.#authRequiredLogged) {
            this.#authRequiredLogged = true
            this.ctx.logger.warn({ code: 'KPROXY_ERR_UPSTREAM_AUTH_REQUIRED', upstream: `${servers[i].host}:${servers[i].port}` }, (err as Error).message)
          }
          done(true)
          return
        }
        this.ctx.logger.debug({ upstream: `${servers[i].host}:${servers[i].port}`, err: (err as Error).message }, 'upstream Metadata failed')
        tryServer(i + 1)
      })
    }
    tryServer(0)
  }
}

export function startBrokerMode (ctx: ProxyContext, options: { reusePort: boolean }): BrokerModeListeners {
  return new Listeners(ctx, options.reusePort)
}

function ignore (): void {}

// What clients are told for broker N: one host and a port per broker, or with SNI one name per
// broker and the one TLS port.
function advertisedHost (ctx: ProxyContext, nodeId: number): string {
  const sni = ctx.config.sni
  return sni === null ? ctx.config.advertisedHost : sniBrokerName(sni, nodeId)
}

function advertisedPort (ctx: ProxyContext, nodeId: number): number {
  const sni = ctx.config.sni
  return sni === null ? mappedPort(ctx.config.brokerPorts, nodeId) : sni.advertisedPort
}
