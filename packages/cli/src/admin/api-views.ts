// The JSON documents of the admin API's /api/* endpoints (docs/admin-api.md), built from two
// samples of the merged metrics (rates per second between them) and the supervisor's state.
// Pure functions: the dashboard, `kproxy top` and scripts all read these shapes.
import { createLatencyHistogram } from '@kproxy/core/metrics/metrics-registry'
import { apiLabel, errorLabel } from '@kproxy/core/metrics/metric-names'
import { flowKey } from '@kproxy/core/metrics/flow-merge'
import type { FlowRow, PartitionRow } from '@kproxy/core/metrics/flow-registry'
import { describeTlsFailure, TLS_FAILURE_REASONS } from '@kproxy/core/tls/handshake-failure'
import { apiByKey } from '@kproxy/core/protocol/api-keys'
import type { HostPort, ProxyConfig } from '@kproxy/core/config/proxy-config'
import { formatHostPort } from '@kproxy/core/config/host-port'
import type { Readiness, WorkerRestart } from '../supervisor/supervisor.ts'
import { intervalSeconds, perSecond } from './metrics-sampler.ts'
import type { ProbeResult, ServerProbe } from './upstream-probe.ts'
import type { SamplePair } from './metrics-sampler.ts'

export type Histogram = ReturnType<typeof createLatencyHistogram>

// Points of the percentile plot (HDR style: the x axis is the percentile, the tail stretched).
export const PLOT_PERCENTILES = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100] as const
export const DEFAULT_FLOW_LIMIT = 100
export const MAX_FLOW_LIMIT = 1000

function sum (m: Map<number, number> | undefined): number {
  let n = 0
  if (m !== undefined) for (const v of m.values()) n += v
  return n
}

function sumAll (m: Map<number, Map<number, number>>): number {
  let n = 0
  for (const inner of m.values()) n += sum(inner)
  return n
}

export interface Stamp {
  at: number
  intervalSeconds: number | null
}

function stamp (pair: SamplePair): Stamp {
  return { at: pair.now.at, intervalSeconds: intervalSeconds(pair) }
}

export interface OverviewView extends Stamp {
  uptimeSeconds: number
  ready: { ready: boolean, reason: string | null }
  workers: { configured: number, answering: number, restarts: number }
  connections: { active: number, total: number, perSecond: number | null }
  bytes: { received: number, sent: number, receivedPerSecond: number | null, sentPerSecond: number | null }
  requests: { total: number, perSecond: number | null }
  errors: { total: number, perSecond: number | null }
  flowsRecorded: boolean
}

export function overviewView (pair: SamplePair, o: { startedAt: number, workersConfigured: number, restarts: number, readiness: Readiness }): OverviewView {
  const s = intervalSeconds(pair)
  const m = pair.now.metrics
  const b = pair.before?.metrics
  return {
    ...stamp(pair),
    uptimeSeconds: Math.round((pair.now.at - o.startedAt) / 1000),
    ready: { ready: o.readiness.ready, reason: o.readiness.reason },
    workers: { configured: o.workersConfigured, answering: m.workers, restarts: o.restarts },
    connections: { active: m.connectionsActive, total: m.connectionsTotal, perSecond: perSecond(m.connectionsTotal, b?.connectionsTotal, s) },
    bytes: { received: m.bytesIn, sent: m.bytesOut, receivedPerSecond: perSecond(m.bytesIn, b?.bytesIn, s), sentPerSecond: perSecond(m.bytesOut, b?.bytesOut, s) },
    requests: { total: sumAll(m.requests), perSecond: perSecond(sumAll(m.requests), b === undefined ? undefined : sumAll(b.requests), s) },
    errors: { total: sumAll(m.errors), perSecond: perSecond(sumAll(m.errors), b === undefined ? undefined : sumAll(b.errors), s) },
    flowsRecorded: m.flowsRecorded
  }
}

export interface LatencyView {
  count: number
  // milliseconds
  p50: number
  p99: number
  p999: number
  max: number
  // [percentile, milliseconds] at PLOT_PERCENTILES
  percentiles: Array<[number, number]>
}

export function latencyOf (h: Histogram | null): LatencyView | null {
  if (h === null || h.totalCount === 0) return null
  const ms = (p: number): number => h.getValueAtPercentile(p) / 1000
  return {
    count: h.totalCount,
    p50: ms(50),
    p99: ms(99),
    p999: ms(99.9),
    max: h.maxValue / 1000,
    percentiles: PLOT_PERCENTILES.map((p): [number, number] => [p, ms(p)])
  }
}

// The requests of the last interval alone: the cumulative histogram minus the earlier one. Null
// when that cannot be told (no earlier sample; a worker's counts lost with a crash made a bucket
// go down).
export function windowOf (now: Histogram | undefined, before: Histogram | undefined): Histogram | null {
  if (now === undefined) return null
  if (before === undefined) return null
  if (before.totalCount > now.totalCount) return null
  const w = createLatencyHistogram()
  try {
    w.add(now)
    w.subtract(before)
  } catch {
    return null
  }
  return w
}

export interface ApiView {
  api: string
  apiKey: number
  name: string
  requests: number
  requestsPerSecond: number | null
  responses: number
  errors: number
  errorsPerSecond: number | null
  errorCodes: Array<{ code: number, error: string, count: number }>
  denied: number
  throttledResponses: number
  throttleSeconds: number
  throttleSecondsPerSecond: number | null
  // since the start, and over the last interval
  latency: LatencyView | null
  latencyWindow: LatencyView | null
}

export function apisView (pair: SamplePair): Stamp & { apis: ApiView[] } {
  const s = intervalSeconds(pair)
  const m = pair.now.metrics
  const b = pair.before?.metrics
  const keys = new Set<number>([...m.requests.keys(), ...m.responses.keys(), ...m.errors.keys(), ...m.denied.keys(), ...m.throttle.keys()])
  const apis = [...keys].sort((x, y) => x - y).map((k): ApiView => {
    const requests = sum(m.requests.get(k))
    const errors = sum(m.errors.get(k))
    const throttle = m.throttle.get(k) ?? { responses: 0, ms: 0 }
    return {
      api: apiLabel(k),
      apiKey: k,
      name: apiByKey(k)?.name ?? `api_${k}`,
      requests,
      requestsPerSecond: perSecond(requests, b === undefined ? undefined : sum(b.requests.get(k)), s),
      responses: sum(m.responses.get(k)),
      errors,
      errorsPerSecond: perSecond(errors, b === undefined ? undefined : sum(b.errors.get(k)), s),
      errorCodes: [...(m.errors.get(k) ?? new Map<number, number>())].sort((x, y) => x[0] - y[0]).map(([code, count]) => ({ code, error: errorLabel(code), count })),
      denied: m.denied.get(k) ?? 0,
      throttledResponses: throttle.responses,
      throttleSeconds: throttle.ms / 1000,
      throttleSecondsPerSecond: perSecond(throttle.ms / 1000, b === undefined ? undefined : (b.throttle.get(k)?.ms ?? 0) / 1000, s),
      latency: latencyOf(m.latency.get(k) ?? null),
      latencyWindow: latencyOf(windowOf(m.latency.get(k), b?.latency.get(k)))
    }
  })
  return { ...stamp(pair), apis }
}

export interface FlowView {
  principal: string | null
  clientId: string | null
  softwareName: string | null
  softwareVersion: string | null
  target: string
  topic: string
  bytesIn: number
  bytesOut: number
  requests: number
  errors: number
  bytesInPerSecond: number | null
  bytesOutPerSecond: number | null
  requestsPerSecond: number | null
  errorsPerSecond: number | null
}

export interface PartitionView {
  topic: string
  partition: number
  bytesIn: number
  bytesOut: number
  errors: number
  bytesInPerSecond: number | null
  bytesOutPerSecond: number | null
}

export interface FlowsView extends Stamp {
  recorded: boolean
  // flows in the answer / flows there are (the answer holds the busiest `limit`)
  shown: number
  total: number
  flows: FlowView[]
  // only with ?topic=NAME
  partitions?: PartitionView[]
  overflow: { flows: number, partitions: number }
}

export function flowsView (pair: SamplePair, o: { limit?: number, topic?: string | null } = {}): FlowsView {
  const s = intervalSeconds(pair)
  const m = pair.now.metrics
  const before = new Map<string, FlowRow>()
  for (const r of pair.before?.metrics.flows.flows ?? []) before.set(flowKey(r), r)
  const rows = m.flows.flows.map((r): FlowView => {
    const p = before.get(flowKey(r))
    return {
      principal: r[0],
      clientId: r[1],
      softwareName: r[2],
      softwareVersion: r[3],
      target: r[4],
      topic: r[5],
      bytesIn: r[6],
      bytesOut: r[7],
      requests: r[8],
      errors: r[9],
      // a flow absent before started in this interval
      bytesInPerSecond: perSecond(r[6], s === null ? undefined : p?.[6] ?? 0, s),
      bytesOutPerSecond: perSecond(r[7], s === null ? undefined : p?.[7] ?? 0, s),
      requestsPerSecond: perSecond(r[8], s === null ? undefined : p?.[8] ?? 0, s),
      errorsPerSecond: perSecond(r[9], s === null ? undefined : p?.[9] ?? 0, s)
    }
  })
  const rate = (f: FlowView): number => (f.bytesInPerSecond ?? 0) + (f.bytesOutPerSecond ?? 0)
  rows.sort((a, b) => rate(b) - rate(a) || (b.bytesIn + b.bytesOut) - (a.bytesIn + a.bytesOut) || flowKey(toRow(a)).localeCompare(flowKey(toRow(b))))
  const limit = Math.min(MAX_FLOW_LIMIT, Math.max(1, o.limit ?? DEFAULT_FLOW_LIMIT))
  const view: FlowsView = {
    ...stamp(pair),
    recorded: m.flowsRecorded,
    shown: Math.min(limit, rows.length),
    total: rows.length,
    flows: rows.slice(0, limit),
    overflow: { ...m.flows.overflow }
  }
  if (o.topic !== undefined && o.topic !== null) {
    const prev = new Map<number, PartitionRow>()
    for (const p of pair.before?.metrics.flows.partitions ?? []) if (p[0] === o.topic) prev.set(p[1], p)
    view.partitions = m.flows.partitions.filter(p => p[0] === o.topic).sort((a, b) => a[1] - b[1]).map(p => ({
      topic: p[0],
      partition: p[1],
      bytesIn: p[2],
      bytesOut: p[3],
      errors: p[4],
      bytesInPerSecond: perSecond(p[2], s === null ? undefined : prev.get(p[1])?.[2] ?? 0, s),
      bytesOutPerSecond: perSecond(p[3], s === null ? undefined : prev.get(p[1])?.[3] ?? 0, s)
    }))
  }
  return view
}

function toRow (f: FlowView): FlowRow {
  return [f.principal, f.clientId, f.softwareName, f.softwareVersion, f.target, f.topic, f.bytesIn, f.bytesOut, f.requests, f.errors]
}

export interface WorkersView {
  configured: number
  spare: Readiness['spare']
  workers: Array<{ id: number, state: string, activeConnections: number | null, upstreamHealthy: boolean | null, logLevel: string | null }>
  restarts: WorkerRestart[]
}

export function workersView (readiness: Readiness, restarts: readonly WorkerRestart[], configured: number): WorkersView {
  return {
    configured,
    spare: readiness.spare,
    workers: readiness.workers.map(w => ({
      id: w.id,
      state: w.state,
      activeConnections: w.activeConnections ?? null,
      upstreamHealthy: w.upstreamHealthy ?? null,
      logLevel: w.logLevel ?? null
    })),
    // the last 100: a crash loop must not make the answer grow without end
    restarts: restarts.slice(-100)
  }
}

export interface TlsView extends Stamp {
  handshakes: number
  handshakesPerSecond: number | null
  failures: Array<{ reason: string, count: number, perSecond: number | null, description: string }>
}

export function tlsView (pair: SamplePair): TlsView {
  const s = intervalSeconds(pair)
  const m = pair.now.metrics
  const b = pair.before?.metrics
  return {
    ...stamp(pair),
    handshakes: m.tlsHandshakes,
    handshakesPerSecond: perSecond(m.tlsHandshakes, b?.tlsHandshakes, s),
    failures: TLS_FAILURE_REASONS.map((reason, i) => ({
      reason,
      count: m.tlsHandshakeFailures[i] ?? 0,
      perSecond: perSecond(m.tlsHandshakeFailures[i] ?? 0, b?.tlsHandshakeFailures[i], s),
      description: describeTlsFailure(reason)
    }))
  }
}

export interface UpstreamsView {
  at: number
  ready: boolean
  reason: string | null
  tls: boolean
  // each bootstrap server, asked for Metadata by the admin server (at most every few seconds)
  servers: ServerProbe[]
  // brokers from that Metadata answer, and those the workers learned since (from responses)
  brokers: Array<{ nodeId: number, upstream: string, localPort: number | null }>
  workers: Array<{ id: number, upstreamHealthy: boolean | null }>
}

export function upstreamsView (config: ProxyConfig, probe: ProbeResult, learned: ReadonlyArray<{ nodeId: number, address: HostPort }>, readiness: Readiness): UpstreamsView {
  const ports = config.brokerMode.brokerPorts
  const brokers = new Map<number, HostPort>()
  for (const b of learned) brokers.set(b.nodeId, b.address)
  for (const b of probe.brokers) brokers.set(b.nodeId, { host: b.host, port: b.port })
  return {
    at: probe.at,
    ready: readiness.ready,
    reason: readiness.reason,
    tls: config.brokerMode.upstreamTls !== null,
    servers: probe.servers,
    brokers: [...brokers].sort((a, b) => a[0] - b[0]).map(([nodeId, address]) => ({
      nodeId,
      upstream: formatHostPort(address),
      localPort: config.brokerMode.sni !== null ? null : ports.kind === 'offset' ? ports.base + nodeId : ports.ports[nodeId] ?? null
    })),
    workers: readiness.workers.map(w => ({ id: w.id, upstreamHealthy: w.upstreamHealthy ?? null }))
  }
}

