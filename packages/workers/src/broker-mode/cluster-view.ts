// What one worker knows of the upstream cluster in broker mode: where each broker really is (the
// directory, loaded at start from Metadata and kept current from every response that names
// brokers), which brokers refuse connections (their local ports are closed until a probe gets
// through), whether the upstream answered lately, and what clients are told (advertised host and
// port per broker).
import { connect } from 'node:net'
import type { HostPort } from '@kproxy/core/config/proxy-config'
import type { RewriteTarget } from '../filters/builtin/address-rewrite.ts'
import type { AdvertisedBroker } from '../filters/error-response.ts'
import { sniBrokerName } from '../net/downstream-tls.ts'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import { fetchUpstreamBrokers } from '../upstream/upstream-metadata.ts'
import { UpstreamVersions } from '@kproxy/core/bridge/upstream-versions'
import type { ServerHealth } from '../upstream/server-health.ts'
import { BrokerDirectory, mappedPort } from './broker-directory.ts'
import type { ProxyContext } from './proxy-context.ts'

const DIRECTORY_RETRY_MS = 1000
// at most one reachability probe per second for a broker whose port is closed
const PROBE_INTERVAL_MS = 1000

export interface ClusterViewOwner {
  // a broker is listed (and reachable as far as kproxy knows): listen on its port
  brokerListed (nodeId: number): void
  // a broker refuses connections: stop listening on its port
  brokerUnreachable (nodeId: number): void
  // a broker this worker learned of from a response (tell the other workers)
  brokerDiscovered (nodeId: number, localPort: number, address: HostPort): void
  readonly stopped: boolean
}

export class ClusterView {
  readonly #ctx: ProxyContext
  readonly #owner: ClusterViewOwner
  readonly #dialer: UpstreamDialer
  readonly #health: ServerHealth
  readonly directory = new BrokerDirectory()
  // what the upstream's brokers accept (their ApiVersions answers): the version bridge's targets
  readonly upstreamVersions = new UpstreamVersions()
  readonly rewriteTarget: RewriteTarget
  #healthy = false
  #retryTimer: NodeJS.Timeout | null = null
  // callbacks waiting for the directory refresh in progress (one refresh at a time)
  #refreshWaiters: Array<() => void> | null = null
  // Brokers whose local port is closed because their upstream broker refused a connection, with
  // the time of the last probe. Accepting a client and then dropping it is not what a client
  // expects of a dead broker: kafkajs 2.2.4 then keeps its cached group coordinator and retries
  // it for minutes, while a refused connect makes it refresh metadata and find the new one.
  readonly #unreachable = new Map<number, number>()
  readonly #probing = new Set<number>()
  // the upstream requires authentication before Metadata: logged once
  #authRequiredLogged = false

  constructor (ctx: ProxyContext, owner: ClusterViewOwner, dialer: UpstreamDialer, health: ServerHealth) {
    this.#ctx = ctx
    this.#owner = owner
    this.#dialer = dialer
    this.#health = health
    const directory = this.directory
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
        if (ctx.config.sni === null && !owner.stopped) {
          const local = mappedPort(ctx.config.brokerPorts, nodeId)
          if (local < 0) return
          owner.brokerDiscovered(nodeId, local, { host, port })
        }
      }
    }
  }

  get healthy (): boolean { return this.#healthy }

  contact (ok: boolean): void {
    this.#healthy = ok
  }

  // A broker named by another worker (or listed again): its port may open.
  listed (nodeId: number, address?: HostPort): void {
    if (address !== undefined) this.directory.learn(nodeId, address.host, address.port)
    this.#unreachable.delete(nodeId)
  }

  isUnreachable (nodeId: number): boolean {
    return this.#unreachable.has(nodeId)
  }

  // Where a listener's target really is: all bootstrap servers in order, or one broker.
  upstreamFor (target: { kind: 'bootstrap' } | { kind: 'broker', nodeId: number }): readonly HostPort[] | null {
    if (target.kind === 'bootstrap') return this.#ctx.config.upstream
    const real = this.directory.get(target.nodeId)
    return real === undefined ? null : [real]
  }

  advertisedBrokers (): AdvertisedBroker[] {
    const out: AdvertisedBroker[] = []
    for (const nodeId of this.directory.nodeIds()) {
      const port = advertisedPort(this.#ctx, nodeId)
      if (port >= 0) out.push({ nodeId, host: advertisedHost(this.#ctx, nodeId), port })
    }
    return out
  }

  // A broker refused connections: its port closes until Metadata lists it and a probe connects.
  unreachable (nodeId: number): void {
    this.#unreachable.set(nodeId, Date.now())
    this.#owner.brokerUnreachable(nodeId)
  }

  // Metadata from the first reachable bootstrap server; retried every second until it works.
  load (): Promise<void> {
    return new Promise<void>(resolve => { this.#load(0, resolve) })
  }

  #load (attempt: number, resolve: () => void): void {
    if (this.#owner.stopped) return
    this.#fetch(attempt, ok => {
      if (ok) {
        resolve()
        return
      }
      if (attempt === 0 || attempt % 30 === 0) {
        this.#ctx.logger.warn({ code: 'KPROXY_ERR_UPSTREAM_CONNECT', attempt }, 'no upstream bootstrap server answered Metadata; retrying every second')
      }
      this.#retryTimer = setTimeout(() => this.#load(attempt + 1, resolve), DIRECTORY_RETRY_MS)
      this.#retryTimer.unref()
    })
  }

  // Reloads the directory (one refresh at a time), then calls back.
  refresh (done: () => void): void {
    if (this.#refreshWaiters !== null) {
      this.#refreshWaiters.push(done)
      return
    }
    const waiters = [done]
    this.#refreshWaiters = waiters
    this.#fetch(0, ok => {
      if (!ok) this.#ctx.logger.warn({ code: 'KPROXY_ERR_UPSTREAM_CONNECT' }, 'no upstream bootstrap server answered Metadata while looking up a broker')
      this.#refreshWaiters = null
      for (const w of waiters) w()
    })
  }

  stop (): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
  }

  // Tries the bootstrap servers (healthy ones first); learns every broker of the first answer.
  #fetch (attempt: number, done: (ok: boolean) => void): void {
    const servers = this.#health.order(this.#ctx.config.upstream)
    const tryServer = (i: number): void => {
      if (i >= servers.length) {
        this.#healthy = false
        done(false)
        return
      }
      const server = servers[i]!
      const timeoutMs = Math.min(this.#ctx.config.upstreamConnectTimeoutMs, lookupTimeout(this.#ctx))
      fetchUpstreamBrokers(server, timeoutMs, this.#dialer, ranges => this.upstreamVersions.learn(ranges)).then(brokers => {
        this.#healthy = true
        this.#health.ok(server)
        for (const b of brokers) {
          this.directory.learn(b.nodeId, b.host, b.port)
          if (this.#unreachable.has(b.nodeId)) this.#probe(b.nodeId)
          else this.#owner.brokerListed(b.nodeId)
        }
        this.#ctx.logger.info({ brokers: brokers.map(b => b.nodeId), attempt }, 'broker directory loaded from upstream')
        done(true)
      }, err => {
        if ((err as { code?: string }).code === 'KPROXY_ERR_UPSTREAM_AUTH_REQUIRED') {
          // Reachable: brokers come from clients' authenticated Metadata responses (learn) and
          // from other workers (addBroker with an address).
          this.#healthy = true
          if (!this.#authRequiredLogged) {
            this.#authRequiredLogged = true
            this.#ctx.logger.warn({ code: 'KPROXY_ERR_UPSTREAM_AUTH_REQUIRED', upstream: `${server.host}:${server.port}` }, (err as Error).message)
          }
          done(true)
          return
        }
        this.#health.failed(server)
        this.#ctx.logger.debug({ upstream: `${server.host}:${server.port}`, err: (err as Error).message }, 'upstream Metadata failed')
        tryServer(i + 1)
      })
    }
    tryServer(0)
  }

  #probe (nodeId: number): void {
    const last = this.#unreachable.get(nodeId)
    if (last === undefined || this.#probing.has(nodeId) || this.#owner.stopped) return
    if (Date.now() - last < PROBE_INTERVAL_MS) return
    const real = this.directory.get(nodeId)
    if (real === undefined) return
    this.#unreachable.set(nodeId, Date.now())
    this.#probing.add(nodeId)
    const socket = connect({ host: real.host, port: real.port })
    const timer = setTimeout(() => socket.destroy(new Error('probe timeout')), this.#ctx.config.upstreamConnectTimeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      this.#probing.delete(nodeId)
      if (!this.#unreachable.has(nodeId) || this.#owner.stopped) return
      this.#ctx.logger.info({ nodeId }, `upstream broker ${nodeId} accepts connections again: listening on its port`)
      this.#unreachable.delete(nodeId)
      this.#owner.brokerListed(nodeId)
    })
    socket.once('error', () => {
      clearTimeout(timer)
      this.#probing.delete(nodeId)
    })
  }
}

// A Metadata lookup waits at most a few answer timeouts: a stuck bootstrap server must not hold
// up the lookup when another one answers.
function lookupTimeout (ctx: ProxyContext): number {
  const answer = ctx.config.bootstrapAnswerTimeoutMs ?? 1000
  return answer > 0 ? Math.max(answer * 3, 1000) : ctx.config.upstreamConnectTimeoutMs
}

// What clients are told for broker N: one host and a port per broker, or with SNI one name per
// broker and the one TLS port.
export function advertisedHost (ctx: ProxyContext, nodeId: number): string {
  const sni = ctx.config.sni
  return sni === null ? ctx.config.advertisedHost : sniBrokerName(sni, nodeId)
}

export function advertisedPort (ctx: ProxyContext, nodeId: number): number {
  const sni = ctx.config.sni
  return sni === null ? mappedPort(ctx.config.brokerPorts, nodeId) : sni.advertisedPort
}
