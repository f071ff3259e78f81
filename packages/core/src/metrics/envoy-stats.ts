// /stats in the shape of Envoy's admin `/stats?format=json`, with the names of Envoy's
// kafka_broker network filter, so dashboards built on Envoy carry over:
//   kafka.<prefix>.request.<api>_request          counter  (e.g. produce_request)
//   kafka.<prefix>.request.unknown / .failure     counter
//   kafka.<prefix>.response.<api>_response        counter
//   kafka.<prefix>.response.<api>_response_duration  histogram, milliseconds (Envoy's unit)
// plus kproxy's own extras under kproxy.<prefix>.*, among them
//   kproxy.<prefix>.tls.handshake                     counter (Envoy's listener ssl.handshake)
//   kproxy.<prefix>.tls.handshake_failures.<reason>   counter, every reason
//   kproxy.<prefix>.mesh.<cluster>.upstream_cx_active  gauge, mesh mode: connections open to the
//                                                     cluster's brokers
//   kproxy.<prefix>.mesh.<cluster>.<api>_upstream_duration  histogram, milliseconds, mesh mode:
//                                                     the cluster's answer time
import type { Histogram } from 'hdr-histogram-js'
import type { MergedMetrics } from './metrics-merge.ts'
import { apiLabel, errorLabel } from './metric-names.ts'
import { TLS_FAILURE_REASONS } from '../tls/handshake-failure.ts'
import { SELECT_ALL } from './stats-selection.ts'
import type { StatsSelection } from './stats-selection.ts'

export const ENVOY_SUPPORTED_QUANTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100] as const

export interface EnvoyStats {
  stats: Array<{ name: string, value: number } | {
    histograms: {
      supported_quantiles: number[]
      computed_quantiles: Array<{ name: string, values: Array<{ interval: number | null, cumulative: number | null }> }>
    }
  }>
}

function total (m: Map<number, number>): number {
  let n = 0
  for (const v of m.values()) n += v
  return n
}

// With a selection, its regexps apply to these names as a whole (as Istio's matcher applies to
// Envoy's stat names).
export function renderEnvoyStats (m: MergedMetrics, statPrefix: string, selection: StatsSelection = SELECT_ALL): EnvoyStats {
  const p = `kafka.${statPrefix}`
  const counters: Array<{ name: string, value: number }> = []
  for (const [k, versions] of m.requests) counters.push({ name: `${p}.request.${apiLabel(k)}_request`, value: total(versions) })
  counters.push({ name: `${p}.request.unknown`, value: m.unknownApis })
  counters.push({ name: `${p}.request.failure`, value: m.decodeFailures })
  for (const [k, versions] of m.responses) counters.push({ name: `${p}.response.${apiLabel(k)}_response`, value: total(versions) })
  counters.push({ name: `${p}.response.unknown`, value: 0 })
  counters.push({ name: `${p}.response.failure`, value: 0 })
  const x = `kproxy.${statPrefix}`
  for (const [k, n] of m.denied) counters.push({ name: `${x}.request.${apiLabel(k)}_denied`, value: n })
  for (const [k, codes] of m.errors) {
    for (const [c, n] of codes) counters.push({ name: `${x}.response.${apiLabel(k)}_error.${errorLabel(c)}`, value: n })
  }
  counters.push({ name: `${x}.downstream_cx_active`, value: m.connectionsActive })
  counters.push({ name: `${x}.downstream_cx_total`, value: m.connectionsTotal })
  counters.push({ name: `${x}.downstream_cx_rx_bytes_total`, value: m.bytesIn })
  counters.push({ name: `${x}.downstream_cx_tx_bytes_total`, value: m.bytesOut })
  counters.push({ name: `${x}.tls.handshake`, value: m.tlsHandshakes })
  TLS_FAILURE_REASONS.forEach((reason, i) => counters.push({ name: `${x}.tls.handshake_failures.${reason}`, value: m.tlsHandshakeFailures[i] ?? 0 }))
  for (const [cluster, n] of m.meshConnections) counters.push({ name: `${x}.mesh.${cluster}.upstream_cx_active`, value: n })
  const kept = counters.filter(c => selection.name(c.name))
  kept.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  const histograms: Array<[string, Histogram]> = [...m.latency].sort((a, b) => a[0] - b[0]).map(([k, h]) => [`${p}.response.${apiLabel(k)}_response_duration`, h])
  for (const [cluster, byApi] of [...m.meshLatency].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    for (const [k, h] of [...byApi].sort((a, b) => a[0] - b[0])) histograms.push([`${x}.mesh.${cluster}.${apiLabel(k)}_upstream_duration`, h])
  }
  const computed = histograms.filter(([name]) => selection.name(name)).map(([name, h]) => ({
    name,
    values: ENVOY_SUPPORTED_QUANTILES.map(q => {
      const ms = h.totalCount === 0 ? null : h.getValueAtPercentile(q === 0 ? 0.0001 : q) / 1000
      return { interval: null, cumulative: ms }
    })
  }))
  return { stats: [...kept, { histograms: { supported_quantiles: [...ENVOY_SUPPORTED_QUANTILES], computed_quantiles: computed } }] }
}
