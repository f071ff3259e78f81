// A single-thread broker-mode kproxy inside the test process: startBrokerMode() on free ports in
// front of a sandbox cluster, with logs captured as parsed JSON lines and metrics counted.
import pino from 'pino'
import type { BrokerModeConfig } from '@kproxy/core/config/proxy-config'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { startBrokerMode } from '@kproxy/workers/broker-mode/broker-mode'
import type { BrokerModeListeners } from '@kproxy/workers/broker-mode/broker-mode'
import type { TeardownHost } from './kafka.ts'
import { freePort, freePortRange } from '../../packages/workers/test/free-port.ts'

// The tests' one port picker (below Linux's ephemeral range; see there), for the root tests.
export { freePort, freePortRange } from '../../packages/workers/test/free-port.ts'

export class CountingMetrics implements ProxyMetrics {
  opened = 0
  closed = 0
  inBytes = 0
  outBytes = 0
  requests = new Map<number, number>()
  responses = new Map<number, number>()
  latencies: number[] = []
  errors = new Map<string, number>()
  deniedKeys = new Map<number, number>()
  unknown = new Map<number, number>()
  decodeFailures = 0

  connectionOpened (): void { this.opened++ }
  connectionClosed (): void { this.closed++ }
  bytesIn (n: number): void { this.inBytes += n }
  bytesOut (n: number): void { this.outBytes += n }
  // "apiKey:version" -> count
  requestVersions = new Map<string, number>()
  request (apiKey: number, apiVersion: number): void {
    bump(this.requests, apiKey)
    bump(this.requestVersions, `${apiKey}:${apiVersion}`)
  }
  response (apiKey: number, _v: number, latencyMicros: number): void {
    bump(this.responses, apiKey)
    if (this.latencies.length < 100_000) this.latencies.push(latencyMicros)
  }

  responseError (apiKey: number, errorCode: number): void { bump(this.errors, `${apiKey}:${errorCode}`) }
  denied (apiKey: number): void { bump(this.deniedKeys, apiKey) }
  throttled (): void {}
  tlsHandshakes = 0
  tlsFailures = new Map<string, number>()
  tlsHandshake (): void { this.tlsHandshakes++ }
  tlsHandshakeFailure (reason: string): void { bump(this.tlsFailures, reason) }
  unknownApi (apiKey: number): void { bump(this.unknown, apiKey) }
  decodeFailure (): void { this.decodeFailures++ }
  count (map: Map<number, number>, key: number): number { return map.get(key) ?? 0 }
}

function bump<K> (map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

export interface BrokerProxy {
  readonly listeners: BrokerModeListeners
  readonly host: string
  readonly port: number
  readonly bootstrap: string
  readonly portBase: number
  readonly metrics: CountingMetrics
  readonly config: BrokerModeConfig
  readonly discovered: Array<{ nodeId: number, port: number }>
  logs (): Array<Record<string, any>>
  close (): Promise<void>
}

export async function startBrokerProxy (t: TeardownHost, upstream: string, overrides: Partial<BrokerModeConfig> = {}): Promise<BrokerProxy> {
  const port = await freePort()
  const portBase = await freePortRange(16)
  const config: BrokerModeConfig = {
    listen: { host: '127.0.0.1', port },
    advertisedHost: '127.0.0.1',
    upstream: upstream.split(',').map(hp => {
      const i = hp.lastIndexOf(':')
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) }
    }),
    brokerPorts: { kind: 'offset', base: portBase },
    apiKeysAllowed: [],
    apiKeysDenied: [],
    maxFrameSize: 100 * 1024 * 1024,
    upstreamConnectTimeoutMs: 5000,
    filters: [],
    filterHoldTimeoutMs: 30000,
    bootstrapAnswerTimeoutMs: 1000,
    tls: null,
    upstreamTls: null,
    sni: null,
    ...overrides
  }
  const lines: string[] = []
  const logger = pino({ level: 'debug' }, { write (s: string) { lines.push(s) } })
  const metrics = new CountingMetrics()
  const discovered: Array<{ nodeId: number, port: number }> = []
  const listeners = startBrokerMode({ config, metrics, logger, onBrokerDiscovered: (nodeId, p) => { discovered.push({ nodeId, port: p }) } }, { reusePort: false })
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await listeners.stopAccepting()
    await listeners.drain(2000)
  }
  t.teardown(close)
  await listeners.ready
  return {
    listeners,
    host: config.listen.host,
    port,
    bootstrap: `${config.listen.host}:${port}`,
    portBase,
    metrics,
    config,
    discovered,
    logs: () => lines.map(l => JSON.parse(l) as Record<string, any>),
    close
  }
}
