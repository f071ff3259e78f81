// Prometheus text exposition format 0.0.4 of the merged metrics. Counters end in _total; response
// latency is a summary in microseconds with quantiles from the HDR histograms (exact to 3
// significant digits), labelled by API. Checked by `promtool check metrics` in the tests.
// Latency is recorded in microseconds but exposed in seconds, Prometheus' base unit: promtool's
// linter rejects a *_microseconds metric.
import type { MergedMetrics } from './metrics-merge.ts'
import { apiLabel, errorLabel } from './metric-names.ts'
import { TLS_FAILURE_REASONS } from '../tls/handshake-failure.ts'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
export const LATENCY_QUANTILES = [0.5, 0.9, 0.99, 0.999] as const

// Label values: backslash, double quote and newline are escaped.
export function escapeLabel (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function labels (pairs: Record<string, string | number>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function sorted<V> (m: Map<number, V>): Array<[number, V]> {
  return [...m].sort((a, b) => a[0] - b[0])
}

export function renderPrometheus (m: MergedMetrics, extra: { workersExpected?: number } = {}): string {
  const out: string[] = []
  const family = (name: string, type: string, help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  }
  const byKeyVersion = (name: string, help: string, data: Map<number, Map<number, number>>): void => {
    family(name, 'counter', help)
    for (const [k, versions] of sorted(data)) {
      for (const [v, n] of sorted(versions)) out.push(`${name}${labels({ api: apiLabel(k), api_key: k, version: v })} ${n}`)
    }
  }
  byKeyVersion('kproxy_requests_total', 'Requests received from clients, by API and version.', m.requests)
  byKeyVersion('kproxy_responses_total', 'Responses sent to clients, by API and version.', m.responses)
  family('kproxy_response_errors_total', 'counter', 'Error codes in responses kproxy decoded or produced, by API and error.')
  for (const [k, codes] of sorted(m.errors)) {
    for (const [c, n] of sorted(codes)) out.push(`kproxy_response_errors_total${labels({ api: apiLabel(k), code: c, error: errorLabel(c) })} ${n}`)
  }
  family('kproxy_denied_requests_total', 'counter', 'Requests refused by the API key policy, by API.')
  for (const [k, n] of sorted(m.denied)) out.push(`kproxy_denied_requests_total${labels({ api: apiLabel(k) })} ${n}`)
  family('kproxy_filter_events_total', 'counter', 'Events counted by filters (e.g. faults injected, requests refused by a user filter), by filter and event.')
  for (const [f, events] of [...m.filterEvents].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    for (const [e, n] of [...events].sort((a, b) => a[0] < b[0] ? -1 : 1)) out.push(`kproxy_filter_events_total${labels({ filter: f, event: e })} ${n}`)
  }
  family('kproxy_bridged_requests_total', 'counter', 'Requests the version bridge sent upstream at another version than the client\'s, by API and versions.')
  const bridged = [...m.bridged].map(([key, n]) => [...key.split('/').map(Number), n] as [number, number, number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
  for (const [k, from, to, n] of bridged) out.push(`kproxy_bridged_requests_total${labels({ api: apiLabel(k), from_version: from, to_version: to })} ${n}`)
  const single = (name: string, type: string, help: string, value: number): void => {
    family(name, type, help)
    out.push(`${name} ${value}`)
  }
  single('kproxy_unknown_api_requests_total', 'counter', 'Requests with an API key kproxy does not know.', m.unknownApis)
  single('kproxy_decode_failures_total', 'counter', 'Frames kproxy could not decode.', m.decodeFailures)
  single('kproxy_untracked_requests_total', 'counter', 'Requests whose API key or version is outside the metric tables.', m.overflow)
  single('kproxy_received_bytes_total', 'counter', 'Bytes received from clients.', m.bytesIn)
  single('kproxy_sent_bytes_total', 'counter', 'Bytes sent to clients.', m.bytesOut)
  single('kproxy_connections_active', 'gauge', 'Client connections open now.', m.connectionsActive)
  single('kproxy_connections_total', 'counter', 'Client connections accepted.', m.connectionsTotal)
  single('kproxy_tls_handshakes_total', 'counter', 'Client TLS handshakes that completed.', m.tlsHandshakes)
  // Every reason, zeros included, so that dashboards and alerts find each series from the start.
  family('kproxy_tls_handshake_failures_total', 'counter', 'TLS handshakes that failed (client side and upstream side), by reason.')
  TLS_FAILURE_REASONS.forEach((reason, i) => out.push(`kproxy_tls_handshake_failures_total${labels({ reason })} ${m.tlsHandshakeFailures[i] ?? 0}`))
  single('kproxy_workers', 'gauge', 'Worker threads that answered this scrape.', m.workers)
  if (extra.workersExpected !== undefined) single('kproxy_workers_configured', 'gauge', 'Worker threads configured.', extra.workersExpected)
  family('kproxy_response_latency_seconds', 'summary', 'Time from a request to its response (measured in microseconds), by API.')
  for (const [k, h] of sorted(m.latency)) {
    const api = apiLabel(k)
    for (const q of LATENCY_QUANTILES) {
      out.push(`kproxy_response_latency_seconds${labels({ api, quantile: q })} ${h.getValueAtPercentile(q * 100) / 1e6}`)
    }
    out.push(`kproxy_response_latency_seconds_sum${labels({ api })} ${Math.round(h.mean * h.totalCount) / 1e6}`)
    out.push(`kproxy_response_latency_seconds_count${labels({ api })} ${h.totalCount}`)
  }
  return out.join('\n') + '\n'
}
