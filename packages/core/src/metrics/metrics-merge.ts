// The supervisor's view: the snapshots of N workers added together. Counters add; latency
// histograms are decoded and added, so percentiles are those of all workers' requests together.
import * as hdr from 'hdr-histogram-js'
import type { Histogram } from 'hdr-histogram-js'
import { createLatencyHistogram, MAX_PLAINTEXT_PEERS, SCALAR_COUNTERS } from './metrics-registry.ts'
import type { MetricsSnapshot, ScalarCounters } from './metrics-registry.ts'
import { TLS_FAILURE_REASONS } from '../tls/handshake-failure.ts'
import { emptyFlows, mergeFlows } from './flow-merge.ts'
import type { FlowSnapshot } from './flow-registry.ts'

export interface MergedMetrics extends ScalarCounters {
  workers: number
  // apiKey -> version -> count
  requests: Map<number, Map<number, number>>
  responses: Map<number, Map<number, number>>
  // apiKey -> error code -> count
  errors: Map<number, Map<number, number>>
  denied: Map<number, number>
  // apiKey -> latency in µs
  latency: Map<number, Histogram>
  // indexed like TLS_FAILURE_REASONS
  tlsHandshakeFailures: number[]
  // filter -> event -> count
  filterEvents: Map<string, Map<string, number>>
  // apiKey -> throttled responses and their throttle time
  throttle: Map<number, { responses: number, ms: number }>
  // 'principal\0quota' -> the quota filter's counts
  quotas: Map<string, QuotaCounts>
  // whether any worker records flows (stats.flows), and the flows of all workers
  flowsRecorded: boolean
  flows: FlowSnapshot
  // 'apiKey/from/to' -> count of requests the version bridge converted
  bridged: Map<string, number>
  // 'principal\0operation\0resourceType' -> ACL denials
  aclDenials: Map<string, number>
  // 'mechanism\0event' -> count
  sasl: Map<string, number>
  // 'listener\0peer\0clientId' -> count (at most MAX_PLAINTEXT_PEERS sets per listener and
  // 'other')
  plaintext: Map<string, number>
  // mesh mode: cluster -> apiKey -> upstream answer time in µs
  meshLatency: Map<string, Map<number, Histogram>>
  // mesh mode: cluster -> connections open now to its brokers
  meshConnections: Map<string, number>
}

export interface QuotaCounts {
  principal: string
  quota: string
  throttled: number
  ms: number
  refusals: number
}

function scalars (m: ScalarCounters): ScalarCounters {
  const out = {} as ScalarCounters
  for (const key of SCALAR_COUNTERS) out[key] = m[key]
  return out
}

function add2 (target: Map<number, Map<number, number>>, a: number, b: number, n: number): void {
  let inner = target.get(a)
  if (inner === undefined) target.set(a, inner = new Map())
  inner.set(b, (inner.get(b) ?? 0) + n)
}

export function mergeSnapshots (snapshots: readonly MetricsSnapshot[]): MergedMetrics {
  const m: MergedMetrics = {
    workers: snapshots.length,
    requests: new Map(),
    responses: new Map(),
    errors: new Map(),
    denied: new Map(),
    unknownApis: 0,
    decodeFailures: 0,
    overflow: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectionsActive: 0,
    connectionsTotal: 0,
    tlsHandshakes: 0,
    latency: new Map(),
    tlsHandshakeFailures: TLS_FAILURE_REASONS.map(() => 0),
    filterEvents: new Map(),
    throttle: new Map(),
    quotas: new Map(),
    flowsRecorded: snapshots.some(s => s.flows !== undefined),
    flows: emptyFlows(),
    bridged: new Map(),
    aclDenials: new Map(),
    sasl: new Map(),
    plaintext: new Map(),
    meshLatency: new Map(),
    meshConnections: new Map()
  }
  m.flows = mergeFlows(snapshots.map(s => s.flows))
  for (const s of snapshots) {
    for (const [k, from, to, n] of s.bridged ?? []) {
      const key = `${k}/${from}/${to}`
      m.bridged.set(key, (m.bridged.get(key) ?? 0) + n)
    }
    for (const [p, op, type, n] of s.aclDenials ?? []) {
      const key = `${p}\u0000${op}\u0000${type}`
      m.aclDenials.set(key, (m.aclDenials.get(key) ?? 0) + n)
    }
    for (const [mech, e, n] of s.sasl ?? []) {
      const key = `${mech}\u0000${e}`
      m.sasl.set(key, (m.sasl.get(key) ?? 0) + n)
    }
    for (const [l, p, c, n] of s.plaintext ?? []) {
      let key = `${l}\u0000${p}\u0000${c}`
      if (!m.plaintext.has(key) && m.plaintext.size >= MAX_PLAINTEXT_PEERS) key = `${l}\u0000other\u0000other`
      m.plaintext.set(key, (m.plaintext.get(key) ?? 0) + n)
    }
    for (const [f, e, n] of s.filterEvents ?? []) {
      let inner = m.filterEvents.get(f)
      if (inner === undefined) m.filterEvents.set(f, inner = new Map())
      inner.set(e, (inner.get(e) ?? 0) + n)
    }
    for (const [principal, quota, throttled, ms, refusals] of s.quotas ?? []) {
      const key = `${principal}\u0000${quota}`
      const have = m.quotas.get(key)
      if (have === undefined) m.quotas.set(key, { principal, quota, throttled, ms, refusals })
      else { have.throttled += throttled; have.ms += ms; have.refusals += refusals }
    }
    for (const [k, responses, ms] of s.throttle ?? []) {
      const have = m.throttle.get(k)
      if (have === undefined) m.throttle.set(k, { responses, ms })
      else { have.responses += responses; have.ms += ms }
    }
    for (const [k, v, n] of s.requests) add2(m.requests, k, v, n)
    for (const [k, v, n] of s.responses) add2(m.responses, k, v, n)
    for (const [k, c, n] of s.errors) add2(m.errors, k, c, n)
    for (const [k, n] of s.denied) m.denied.set(k, (m.denied.get(k) ?? 0) + n)
    for (const key of SCALAR_COUNTERS) m[key] += s[key] ?? 0
    // ?? []: a snapshot from a worker built before TLS metrics existed
    const tls = s.tlsHandshakeFailures ?? []
    for (let i = 0; i < m.tlsHandshakeFailures.length; i++) m.tlsHandshakeFailures[i]! += tls[i] ?? 0
    for (const [k, encoded] of s.latency) {
      let h = m.latency.get(k)
      if (h === undefined) m.latency.set(k, h = createLatencyHistogram())
      addEncoded(h, encoded)
    }
    for (const [cluster, k, encoded] of s.meshLatency ?? []) {
      let byApi = m.meshLatency.get(cluster)
      if (byApi === undefined) m.meshLatency.set(cluster, byApi = new Map())
      let h = byApi.get(k)
      if (h === undefined) byApi.set(k, h = createLatencyHistogram())
      addEncoded(h, encoded)
    }
    for (const [cluster, n] of s.meshConnections ?? []) m.meshConnections.set(cluster, (m.meshConnections.get(cluster) ?? 0) + n)
  }
  return m
}

function addEncoded (h: Histogram, encoded: string): void {
  const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false)
  h.add(decoded)
  decoded.destroy()
}

// Counters of a worker that died stay in the totals (Prometheus counters must not go down); its
// connections are gone.
export function retireSnapshot (s: MetricsSnapshot): MetricsSnapshot {
  return { ...s, connectionsActive: 0, meshConnections: (s.meshConnections ?? []).map(([cluster]): [string, number] => [cluster, 0]) }
}

// Retired snapshots pile up with restarts; fold them into one.
export function foldSnapshots (snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  const m = mergeSnapshots(snapshots)
  const flat2 = (x: Map<number, Map<number, number>>): Array<[number, number, number]> =>
    [...x].flatMap(([a, inner]) => [...inner].map(([b, n]): [number, number, number] => [a, b, n]))
  return {
    requests: flat2(m.requests),
    responses: flat2(m.responses),
    errors: flat2(m.errors),
    denied: [...m.denied],
    ...scalars(m),
    connectionsActive: 0,
    latency: [...m.latency].map(([k, h]): [number, string] => [k, hdr.encodeIntoCompressedBase64(h)]),
    tlsHandshakeFailures: [...m.tlsHandshakeFailures],
    filterEvents: [...m.filterEvents].flatMap(([f, inner]) => [...inner].map(([e, n]): [string, string, number] => [f, e, n])),
    throttle: [...m.throttle].map(([k, t]): [number, number, number] => [k, t.responses, t.ms]),
    quotas: [...m.quotas.values()].map((q): [string, string, number, number, number] => [q.principal, q.quota, q.throttled, q.ms, q.refusals]),
    ...(m.flowsRecorded ? { flows: m.flows } : {}),
    sasl: [...m.sasl].map(([k, n]): [string, string, number] => { const [a, b] = k.split('\u0000'); return [a!, b!, n] }),
    meshLatency: [...m.meshLatency].flatMap(([cluster, byApi]) => [...byApi].map(([k, h]): [string, number, string] => [cluster, k, hdr.encodeIntoCompressedBase64(h)])),
    meshConnections: [...m.meshConnections].map(([cluster]): [string, number] => [cluster, 0]),
    plaintext: [...m.plaintext].map(([k, n]): [string, string, string, number] => { const [a, b, c] = k.split('\u0000'); return [a!, b!, c!, n] }),
    bridged: [...m.bridged].map(([key, n]): [number, number, number, number] => {
      const [k, from, to] = key.split('/').map(Number)
      return [k!, from!, to!, n]
    }),
    aclDenials: [...m.aclDenials].map(([key, n]): [string, string, string, number] => {
      const [p, op, type] = key.split('\u0000')
      return [p!, op!, type!, n]
    })
  }
}
