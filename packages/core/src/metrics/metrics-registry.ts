// A worker's ProxyMetrics: flat typed arrays indexed by api key (and version), so the hot path
// does an index computation and an add, never an allocation. Latency histograms (µs, HDR) are
// created lazily, once per API key. snapshot() turns it all into a plain structured-cloneable
// object (sparse counters, histograms compressed to base64) for the supervisor to merge.
import * as hdr from 'hdr-histogram-js'
import type { Histogram } from 'hdr-histogram-js'
import type { FilterEventCounter, GaugeRecorder, LatencyRecorder, ProxyMetrics, QuotaEventCounter } from './proxy-metrics.ts'
import type { FlowRegistry, FlowSnapshot } from './flow-registry.ts'
import { TLS_FAILURE_INDEX, TLS_FAILURE_REASONS } from '../tls/handshake-failure.ts'
import type { TlsFailureReason } from '../tls/handshake-failure.ts'

export const MAX_API_KEYS = 128
export const MAX_VERSIONS = 32
// Error codes -1..254 fit; anything else lands in the last slot ("other").
export const ERROR_SLOTS = 256
// Latencies above this are recorded as this (60 s).
export const MAX_LATENCY_MICROS = 60_000_000

// A latency in µs as a histogram records it: at least 1, at most MAX_LATENCY_MICROS, whole.
export function clampLatency (latencyMicros: number): number {
  return latencyMicros < 1 ? 1 : latencyMicros > MAX_LATENCY_MICROS ? MAX_LATENCY_MICROS : Math.round(latencyMicros)
}

export function createLatencyHistogram (): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_LATENCY_MICROS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    useWebAssembly: false
  })
}

// The plain counters, the same in a worker's snapshot and in the merged view (merging adds them).
export interface ScalarCounters {
  unknownApis: number
  decodeFailures: number
  // requests whose api key or version did not fit the tables (counted, not itemised)
  overflow: number
  bytesIn: number
  bytesOut: number
  connectionsActive: number
  connectionsTotal: number
  tlsHandshakes: number
}

export const SCALAR_COUNTERS: ReadonlyArray<keyof ScalarCounters> = [
  'unknownApis', 'decodeFailures', 'overflow', 'bytesIn', 'bytesOut', 'connectionsActive', 'connectionsTotal', 'tlsHandshakes'
]

export interface MetricsSnapshot extends ScalarCounters {
  // [apiKey, version, count] for non-zero entries
  requests: Array<[number, number, number]>
  responses: Array<[number, number, number]>
  // [apiKey, errorCode, count]; errorCode 255 means "outside -1..254"
  errors: Array<[number, number, number]>
  // [apiKey, count]
  denied: Array<[number, number]>
  // apiKey -> histogram of response latency in µs, hdr-histogram compressed base64
  latency: Array<[number, string]>
  // failed downstream/upstream TLS handshakes, one count per TLS_FAILURE_REASONS entry, same order
  tlsHandshakeFailures: number[]
  // [apiKey, throttled responses, throttle time in ms]; absent from workers built before it
  throttle?: Array<[number, number, number]>
  // flows, when the worker records them (stats.flows)
  flows?: FlowSnapshot
  // [filter, event, count] of the filters' own counters (absent from older workers' snapshots)
  filterEvents?: Array<[string, string, number]>
  // [apiKey, fromVersion, toVersion, count] of requests the version bridge converted
  bridged?: Array<[number, number, number, number]>
  // [principal, operation, resource type, count] of ACL denials
  aclDenials?: Array<[string, string, string, number]>
  // [principal, quota, throttled responses, throttle time in ms, refusals] of the quota filter
  quotas?: Array<[string, string, number, number, number]>
  // [mechanism, event, count] of SASL termination
  sasl?: Array<[string, string, number]>
  // [listener, peer address, client id, count] of plaintext connections on permissive listeners
  plaintext?: Array<[string, string, string, number]>
  // mesh mode: [cluster, apiKey, histogram of upstream answer time in µs, compressed base64]
  meshLatency?: Array<[string, number, string]>
  // mesh mode: [cluster, connections open now to its brokers]
  meshConnections?: Array<[string, number]>
}

export interface MetricsRegistryOptions {
  // false: no latency histograms (stats selection excludes kproxy_response_latency_seconds)
  latency?: boolean
  // per-flow counters (flow-registry.ts), when stats.flows is on
  flows?: FlowRegistry | null
  // false: no mesh upstream latency histograms (kproxy_mesh_upstream_latency_seconds excluded)
  meshLatency?: boolean
}

// Beyond this many distinct (filter, event) pairs per worker, events count under event "other".
export const MAX_FILTER_EVENTS = 1000
// Beyond this many distinct (principal, operation, resource type) triples per worker, denials
// count under principal "other" (principals are chosen by clients: the label must stay bounded).
export const MAX_ACL_DENIAL_SERIES = 1000

class AclDenialCounter implements FilterEventCounter {
  readonly principal: string
  readonly operation: string
  readonly resourceType: string
  value = 0
  constructor (principal: string, operation: string, resourceType: string) {
    this.principal = principal
    this.operation = operation
    this.resourceType = resourceType
  }

  inc (n = 1): void { this.value += n }
}

// Beyond this many distinct (principal, quota) pairs per worker, principals count as "other".
export const MAX_QUOTA_LABELS = 1000

class QuotaEvent implements QuotaEventCounter {
  readonly principal: string
  readonly quota: string
  throttledCount = 0
  throttleMs = 0
  refusals = 0
  constructor (principal: string, quota: string) {
    this.principal = principal
    this.quota = quota
  }

  throttled (ms: number): void {
    if (!(ms > 0)) return
    this.throttledCount++
    this.throttleMs += ms
  }

  refused (): void { this.refusals++ }
}
// Beyond this many distinct (listener, peer, client id) sets per worker, plaintext connections
// count under peer and client id "other" (the supervisor caps the merged set the same way).
export const MAX_PLAINTEXT_PEERS = 1000

class FilterEvent implements FilterEventCounter {
  readonly filter: string
  readonly event: string
  value = 0
  constructor (filter: string, event: string) {
    this.filter = filter
    this.event = event
  }

  inc (n = 1): void { this.value += n }
}

// Beyond this many distinct (cluster, api) histograms, or clusters with a connection gauge, per
// worker, the new ones count under cluster "other" (clusters come from the config: this is a
// guard, not a limit anyone should meet).
export const MAX_MESH_CLUSTERS = 256

class MeshLatency implements LatencyRecorder {
  readonly cluster: string
  readonly apiKey: number
  readonly histogram = createLatencyHistogram()
  constructor (cluster: string, apiKey: number) {
    this.cluster = cluster
    this.apiKey = apiKey
  }

  record (latencyMicros: number): void { this.histogram.recordValue(clampLatency(latencyMicros)) }
}

class MeshConnections implements GaugeRecorder {
  readonly cluster: string
  value = 0
  constructor (cluster: string) { this.cluster = cluster }
  add (n: number): void { this.value += n }
}

// The series of `label` (with `rest`, the other label values) in `map`, made on first use. A map
// that holds `cap` series makes none for a new label: new labels share the series of 'other'.
function cappedSeries<T> (map: Map<string, T>, cap: number, label: string, rest: string, make: (label: string) => T): T {
  const found = map.get(`${label}\u0000${rest}`)
  if (found !== undefined) return found
  const shown = map.size >= cap ? 'other' : label
  const key = `${shown}\u0000${rest}`
  let series = map.get(key)
  if (series === undefined) map.set(key, series = make(shown))
  return series
}

export class MetricsRegistry implements ProxyMetrics {
  readonly requests = new Float64Array(MAX_API_KEYS * MAX_VERSIONS)
  readonly responses = new Float64Array(MAX_API_KEYS * MAX_VERSIONS)
  readonly errors = new Float64Array(MAX_API_KEYS * ERROR_SLOTS)
  readonly deniedByKey = new Float64Array(MAX_API_KEYS)
  readonly latency: Array<Histogram | undefined> = new Array(MAX_API_KEYS).fill(undefined)
  unknownApis = 0
  decodeFailures = 0
  overflow = 0
  bytesInTotal = 0
  bytesOutTotal = 0
  connectionsActive = 0
  connectionsTotal = 0
  tlsHandshakes = 0
  readonly tlsFailures = new Float64Array(TLS_FAILURE_REASONS.length)
  readonly #filterEvents = new Map<string, FilterEvent>()
  readonly #aclDenials = new Map<string, AclDenialCounter>()
  readonly #quotaEvents = new Map<string, QuotaEvent>()
  readonly throttledByKey = new Float64Array(MAX_API_KEYS)
  readonly throttleMsByKey = new Float64Array(MAX_API_KEYS)
  readonly recordsLatency: boolean
  readonly recordsMeshLatency: boolean
  readonly flows: FlowRegistry | null
  readonly #meshLatency = new Map<string, MeshLatency>()
  readonly #meshConnections = new Map<string, MeshConnections>()

  constructor (options: MetricsRegistryOptions = {}) {
    this.recordsLatency = options.latency ?? true
    this.recordsMeshLatency = options.meshLatency ?? true
    this.flows = options.flows ?? null
  }
  // (apiKey * MAX_VERSIONS + from) * MAX_VERSIONS + to -> count; only bridged requests come here
  readonly #bridged = new Map<number, number>()
  readonly #sasl = new Map<string, number>()
  readonly #plaintext = new Map<string, number>()

  sasl (mechanism: string, event: string): void {
    const key = `${mechanism}\u0000${event}`
    this.#sasl.set(key, (this.#sasl.get(key) ?? 0) + 1)
  }

  plaintextConnection (listener: string, peer: string, clientId: string): void {
    let key = `${listener}\u0000${peer}\u0000${clientId}`
    if (!this.#plaintext.has(key) && this.#plaintext.size >= MAX_PLAINTEXT_PEERS) key = `${listener}\u0000other\u0000other`
    this.#plaintext.set(key, (this.#plaintext.get(key) ?? 0) + 1)
  }

  connectionOpened (): void {
    this.connectionsActive++
    this.connectionsTotal++
  }

  connectionClosed (): void {
    this.connectionsActive--
  }

  bytesIn (n: number): void { this.bytesInTotal += n }
  bytesOut (n: number): void { this.bytesOutTotal += n }

  request (apiKey: number, apiVersion: number): void {
    if (apiKey >>> 0 >= MAX_API_KEYS || apiVersion >>> 0 >= MAX_VERSIONS) { this.overflow++; return }
    this.requests[apiKey * MAX_VERSIONS + apiVersion]!++
  }

  response (apiKey: number, apiVersion: number, latencyMicros: number): void {
    if (apiKey >>> 0 >= MAX_API_KEYS || apiVersion >>> 0 >= MAX_VERSIONS) { this.overflow++; return }
    this.responses[apiKey * MAX_VERSIONS + apiVersion]!++
    if (!this.recordsLatency) return
    let h = this.latency[apiKey]
    if (h === undefined) h = this.latency[apiKey] = createLatencyHistogram()
    h.recordValue(clampLatency(latencyMicros))
  }

  meshLatency (cluster: string, apiKey: number): LatencyRecorder | null {
    if (!this.recordsMeshLatency) return null
    return cappedSeries(this.#meshLatency, MAX_MESH_CLUSTERS, cluster, String(apiKey), c => new MeshLatency(c, apiKey))
  }

  meshConnections (cluster: string): GaugeRecorder {
    return cappedSeries(this.#meshConnections, MAX_MESH_CLUSTERS, cluster, '', c => new MeshConnections(c))
  }

  responseError (apiKey: number, errorCode: number): void {
    if (apiKey >>> 0 >= MAX_API_KEYS) { this.overflow++; return }
    const slot = errorCode >= -1 && errorCode < ERROR_SLOTS - 2 ? errorCode + 1 : ERROR_SLOTS - 1
    this.errors[apiKey * ERROR_SLOTS + slot]!++
  }

  denied (apiKey: number): void {
    if (apiKey >>> 0 >= MAX_API_KEYS) { this.overflow++; return }
    this.deniedByKey[apiKey]!++
  }

  throttled (apiKey: number, throttleTimeMs: number): void {
    if (apiKey >>> 0 >= MAX_API_KEYS || !(throttleTimeMs > 0)) return
    this.throttledByKey[apiKey]!++
    this.throttleMsByKey[apiKey]! += throttleTimeMs
  }

  unknownApi (_apiKey: number): void { this.unknownApis++ }
  decodeFailure (): void { this.decodeFailures++ }
  tlsHandshake (): void { this.tlsHandshakes++ }

  tlsHandshakeFailure (reason: TlsFailureReason): void {
    // An unknown string (a caller outside the type system) counts as 'other'.
    this.tlsFailures[TLS_FAILURE_INDEX[reason] ?? TLS_FAILURE_INDEX.other]!++
  }

  filterCounter (filter: string, event: string): FilterEventCounter {
    let key = `${filter}\u0000${event}`
    let c = this.#filterEvents.get(key)
    if (c === undefined) {
      if (this.#filterEvents.size >= MAX_FILTER_EVENTS) {
        key = `${filter}\u0000other`
        c = this.#filterEvents.get(key)
        if (c === undefined) this.#filterEvents.set(key, c = new FilterEvent(filter, 'other'))
        return c
      }
      this.#filterEvents.set(key, c = new FilterEvent(filter, event))
    }
    return c
  }

  aclDenials (principal: string, operation: string, resourceType: string): FilterEventCounter {
    return cappedSeries(this.#aclDenials, MAX_ACL_DENIAL_SERIES, principal, `${operation}\u0000${resourceType}`, p => new AclDenialCounter(p, operation, resourceType))
  }

  quotaCounter (principal: string, quota: string): QuotaEventCounter {
    return cappedSeries(this.#quotaEvents, MAX_QUOTA_LABELS, principal, quota, p => new QuotaEvent(p, quota))
  }

  bridged (apiKey: number, fromVersion: number, toVersion: number): void {
    if (apiKey >>> 0 >= MAX_API_KEYS || fromVersion >>> 0 >= MAX_VERSIONS || toVersion >>> 0 >= MAX_VERSIONS) { this.overflow++; return }
    const i = (apiKey * MAX_VERSIONS + fromVersion) * MAX_VERSIONS + toVersion
    this.#bridged.set(i, (this.#bridged.get(i) ?? 0) + 1)
  }

  snapshot (): MetricsSnapshot {
    const requests: Array<[number, number, number]> = []
    const responses: Array<[number, number, number]> = []
    for (let i = 0; i < this.requests.length; i++) {
      const k = Math.floor(i / MAX_VERSIONS)
      const v = i % MAX_VERSIONS
      if (this.requests[i] !== 0) requests.push([k, v, this.requests[i]!])
      if (this.responses[i] !== 0) responses.push([k, v, this.responses[i]!])
    }
    const errors: Array<[number, number, number]> = []
    for (let i = 0; i < this.errors.length; i++) {
      if (this.errors[i] === 0) continue
      const slot = i % ERROR_SLOTS
      errors.push([Math.floor(i / ERROR_SLOTS), slot === ERROR_SLOTS - 1 ? 255 : slot - 1, this.errors[i]!])
    }
    const denied: Array<[number, number]> = []
    for (let k = 0; k < MAX_API_KEYS; k++) if (this.deniedByKey[k] !== 0) denied.push([k, this.deniedByKey[k]!])
    const latency: Array<[number, string]> = []
    for (let k = 0; k < MAX_API_KEYS; k++) {
      const h = this.latency[k]
      if (h !== undefined) latency.push([k, hdr.encodeIntoCompressedBase64(h)])
    }
    const throttle: Array<[number, number, number]> = []
    for (let k = 0; k < MAX_API_KEYS; k++) if (this.throttledByKey[k] !== 0) throttle.push([k, this.throttledByKey[k]!, this.throttleMsByKey[k]!])
    const snap: MetricsSnapshot = {
      requests,
      responses,
      errors,
      denied,
      unknownApis: this.unknownApis,
      decodeFailures: this.decodeFailures,
      overflow: this.overflow,
      bytesIn: this.bytesInTotal,
      bytesOut: this.bytesOutTotal,
      connectionsActive: this.connectionsActive,
      connectionsTotal: this.connectionsTotal,
      tlsHandshakes: this.tlsHandshakes,
      latency,
      tlsHandshakeFailures: Array.from(this.tlsFailures),
      throttle,
      filterEvents: [...this.#filterEvents.values()].filter(e => e.value !== 0).map((e): [string, string, number] => [e.filter, e.event, e.value]),
      bridged: [...this.#bridged].map(([i, n]): [number, number, number, number] => [Math.floor(i / (MAX_VERSIONS * MAX_VERSIONS)), Math.floor(i / MAX_VERSIONS) % MAX_VERSIONS, i % MAX_VERSIONS, n]),
      aclDenials: [...this.#aclDenials.values()].filter(c => c.value !== 0).map((c): [string, string, string, number] => [c.principal, c.operation, c.resourceType, c.value]),
      quotas: [...this.#quotaEvents.values()].filter(e => e.throttledCount !== 0 || e.refusals !== 0).map((e): [string, string, number, number, number] => [e.principal, e.quota, e.throttledCount, e.throttleMs, e.refusals]),
      sasl: [...this.#sasl].map(([k, n]): [string, string, number] => { const [m, e] = k.split('\u0000'); return [m!, e!, n] }),
      plaintext: [...this.#plaintext].map(([k, n]): [string, string, string, number] => { const [l, p, c] = k.split('\u0000'); return [l!, p!, c!, n] }),
      meshLatency: [...this.#meshLatency.values()].filter(h => h.histogram.totalCount !== 0).map((h): [string, number, string] => [h.cluster, h.apiKey, hdr.encodeIntoCompressedBase64(h.histogram)]),
      meshConnections: [...this.#meshConnections.values()].map((g): [string, number] => [g.cluster, g.value])
    }
    if (this.flows !== null) snap.flows = this.flows.snapshot()
    return snap
  }
}
