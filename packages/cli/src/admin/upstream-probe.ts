// Upstream health as the admin API shows it: every bootstrap server is asked for Metadata (the
// request the workers make at start), at most once per PROBE_EVERY_MS whatever the number of
// pages polling, and each answer (or error, with its KPROXY_ERR_ code) and its time are kept.
// A server that wants SASL before Metadata counts as reachable: kproxy has no credentials.
import type { Logger } from 'pino'
import type { ProxyConfig } from '@kproxy/core/config/proxy-config'
import { formatHostPort } from '@kproxy/core/config/host-port'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { fetchUpstreamBrokers } from '@kproxy/workers/upstream/upstream-metadata'
import type { UpstreamBroker } from '@kproxy/workers/upstream/upstream-metadata'
import { createUpstreamDialer } from '@kproxy/workers/net/upstream-dialer'
import type { UpstreamDialer } from '@kproxy/workers/net/upstream-dialer'

export const PROBE_EVERY_MS = 5000
const AUTH_REQUIRED = 'KPROXY_ERR_UPSTREAM_AUTH_REQUIRED'

export interface ServerProbe {
  server: string
  reachable: boolean
  ms: number
  error: { code: string, message: string } | null
}

export interface ProbeResult {
  at: number
  servers: ServerProbe[]
  // from the first server that answered Metadata
  brokers: UpstreamBroker[]
}

export class UpstreamProbe {
  readonly #config: () => ProxyConfig
  readonly #dialer: UpstreamDialer
  #last: ProbeResult | null = null
  #pending: Promise<ProbeResult> | null = null

  constructor (config: () => ProxyConfig, logger: Logger) {
    this.#config = config
    this.#dialer = createUpstreamDialer(config().brokerMode.upstreamTls, logger, noopProxyMetrics)
  }

  current (): Promise<ProbeResult> {
    const last = this.#last
    if (last !== null && Date.now() - last.at < PROBE_EVERY_MS) return Promise.resolve(last)
    this.#pending ??= this.#probe().then(r => { this.#last = r; return r }).finally(() => { this.#pending = null })
    return this.#pending
  }

  async #probe (): Promise<ProbeResult> {
    const bm = this.#config().brokerMode
    const answers = await Promise.all(bm.upstream.map(async server => {
      const started = performance.now()
      try {
        const brokers = await fetchUpstreamBrokers(server, bm.upstreamConnectTimeoutMs, this.#dialer)
        return { probe: { server: formatHostPort(server), reachable: true, ms: performance.now() - started, error: null }, brokers }
      } catch (err) {
        const e = err as Error & { code?: string }
        const code = e.code ?? 'KPROXY_ERR_UPSTREAM_CONNECT'
        return { probe: { server: formatHostPort(server), reachable: code === AUTH_REQUIRED, ms: performance.now() - started, error: { code, message: e.message } }, brokers: null }
      }
    }))
    return { at: Date.now(), servers: answers.map(a => a.probe), brokers: answers.find(a => a.brokers !== null)?.brokers ?? [] }
  }

  close (): void {
    this.#dialer.close()
  }
}
