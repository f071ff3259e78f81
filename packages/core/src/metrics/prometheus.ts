// Prometheus text exposition format 0.0.4 of the merged metrics. Counters end in _total; response
// latency is a summary in microseconds with quantiles from the HDR histograms (exact to 3
// significant digits), labelled by API. Checked by `promtool check metrics` in the tests.
// Latency is recorded in microseconds but exposed in seconds, Prometheus' base unit: promtool's
// linter rejects a *_microseconds metric.
// What is written goes through the stats selection (stats-selection.ts); the flow families come
// from prometheus-flows.ts.
import type { Histogram } from 'hdr-histogram-js'
import type { MergedMetrics } from './metrics-merge.ts'
import { apiLabel, errorLabel } from './metric-names.ts'
import { TLS_FAILURE_REASONS } from '../tls/handshake-failure.ts'
import { PrometheusWriter } from './prometheus-writer.ts'
import type { StatsSelection } from './stats-selection.ts'
import type { FlowExport } from './prometheus-flows.ts'

export { escapeLabel } from './prometheus-writer.ts'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
export const LATENCY_QUANTILES = [0.5, 0.9, 0.99, 0.999] as const

export interface PrometheusExtras {
  workersExpected?: number
  // worker threads that died and were restarted since the start (the supervisor counts them)
  workerRestarts?: number
  selection?: StatsSelection
  // flow families (stats.flows), with their opt-in labels and the label value cap
  flows?: FlowExport
}

function sorted<V> (m: Map<number, V>): Array<[number, V]> {
  return [...m].sort((a, b) => a[0] - b[0])
}

// One summary's series from an HDR histogram in µs: the LATENCY_QUANTILES, _sum and _count, in
// seconds.
function latencySummary (w: PrometheusWriter, name: string, labels: Record<string, string>, h: Histogram): void {
  for (const q of LATENCY_QUANTILES) w.sample(name, { ...labels, quantile: q }, h.getValueAtPercentile(q * 100) / 1e6)
  w.sample(`${name}_sum`, labels, Math.round(h.mean * h.totalCount) / 1e6)
  w.sample(`${name}_count`, labels, h.totalCount)
}

export function renderPrometheus (m: MergedMetrics, extra: PrometheusExtras = {}): string {
  const w = new PrometheusWriter(extra.selection)
  const byKeyVersion = (name: string, help: string, data: Map<number, Map<number, number>>): void => {
    w.family(name, 'counter', help)
    for (const [k, versions] of sorted(data)) {
      for (const [v, n] of sorted(versions)) w.sample(name, { api: apiLabel(k), api_key: k, version: v }, n)
    }
  }
  byKeyVersion('kproxy_requests_total', 'Requests received from clients, by API and version.', m.requests)
  byKeyVersion('kproxy_responses_total', 'Responses sent to clients, by API and version.', m.responses)
  w.family('kproxy_response_errors_total', 'counter', 'Error codes in responses kproxy decoded or produced, by API and error.')
  for (const [k, codes] of sorted(m.errors)) {
    for (const [c, n] of sorted(codes)) w.sample('kproxy_response_errors_total', { api: apiLabel(k), code: c, error: errorLabel(c) }, n)
  }
  w.family('kproxy_denied_requests_total', 'counter', 'Requests refused by the API key policy, by API.')
  for (const [k, n] of sorted(m.denied)) w.sample('kproxy_denied_requests_total', { api: apiLabel(k) }, n)
  w.family('kproxy_filter_events_total', 'counter', 'Events counted by filters (e.g. faults injected, requests refused by a user filter), by filter and event.')
  for (const [f, events] of [...m.filterEvents].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    for (const [e, n] of [...events].sort((a, b) => a[0] < b[0] ? -1 : 1)) w.sample('kproxy_filter_events_total', { filter: f, event: e }, n)
  }
  w.family('kproxy_bridged_requests_total', 'counter', 'Requests the version bridge sent upstream at another version than the client\'s, by API and versions.')
  const bridged = [...m.bridged].map(([key, n]) => [...key.split('/').map(Number), n] as [number, number, number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
  for (const [k, from, to, n] of bridged) w.sample('kproxy_bridged_requests_total', { api: apiLabel(k), from_version: from, to_version: to }, n)
  w.family('kproxy_acl_denials_total', 'counter', 'Checks the ACL filter denied (a partition, a topic, a group, ...), by principal, operation and resource type.')
  for (const [key, n] of [...m.aclDenials].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    const [principal, operation, resourceType] = key.split('\u0000')
    w.sample('kproxy_acl_denials_total', { principal: principal!, operation: operation!, resource_type: resourceType! }, n)
  }
  w.family('kproxy_sasl_events_total', 'counter', 'SASL termination: logins, re-authentications, failures, requests refused before authentication, expired sessions, by mechanism and event.')
  for (const [k, n] of [...m.sasl].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    const [mechanism, event] = k.split('\u0000')
    w.sample('kproxy_sasl_events_total', { mechanism: mechanism!, event: event! }, n)
  }
  w.family('kproxy_plaintext_connections_total', 'counter', 'Plaintext connections on a permissive TLS listener, by listener, peer address and client id (who still has to move to TLS).')
  for (const [k, n] of [...m.plaintext].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    const [listener, peer, clientId] = k.split('\u0000')
    w.sample('kproxy_plaintext_connections_total', { listener: listener!, peer: peer!, client_id: clientId! }, n)
  }
  w.family('kproxy_throttled_responses_total', 'counter', 'Responses in which the broker throttled the client (throttle time above 0), by API.')
  for (const [k, t] of sorted(m.throttle)) w.sample('kproxy_throttled_responses_total', { api: apiLabel(k) }, t.responses)
  w.family('kproxy_throttle_time_seconds_total', 'counter', 'Throttle time the broker imposed on clients, by API.')
  for (const [k, t] of sorted(m.throttle)) w.sample('kproxy_throttle_time_seconds_total', { api: apiLabel(k) }, t.ms / 1000)
  // the quota filter (docs/policy.md), by principal (at most 1,000 per worker, then "other") and quota
  const quotas = [...m.quotas.values()].sort((a, b) => a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : a.quota < b.quota ? -1 : a.quota > b.quota ? 1 : 0)
  w.family('kproxy_quota_throttled_responses_total', 'counter', 'Responses in which a kproxy quota throttled the client, by principal and quota.')
  for (const q of quotas) if (q.throttled > 0) w.sample('kproxy_quota_throttled_responses_total', { principal: q.principal, quota: q.quota }, q.throttled)
  w.family('kproxy_quota_throttle_time_seconds_total', 'counter', 'Throttle time kproxy quotas imposed (throttle_time_ms, and the connection not read for as long), by principal and quota.')
  for (const q of quotas) if (q.throttled > 0) w.sample('kproxy_quota_throttle_time_seconds_total', { principal: q.principal, quota: q.quota }, q.ms / 1000)
  w.family('kproxy_quota_refusals_total', 'counter', 'Connections and requests refused by a kproxy quota (connections, connection rate, partitions per request), by principal and quota.')
  for (const q of quotas) if (q.refusals > 0) w.sample('kproxy_quota_refusals_total', { principal: q.principal, quota: q.quota }, q.refusals)
  w.single('kproxy_unknown_api_requests_total', 'counter', 'Requests with an API key kproxy does not know.', m.unknownApis)
  w.single('kproxy_decode_failures_total', 'counter', 'Frames kproxy could not decode.', m.decodeFailures)
  w.single('kproxy_untracked_requests_total', 'counter', 'Requests whose API key or version is outside the metric tables.', m.overflow)
  w.single('kproxy_received_bytes_total', 'counter', 'Bytes received from clients.', m.bytesIn)
  w.single('kproxy_sent_bytes_total', 'counter', 'Bytes sent to clients.', m.bytesOut)
  w.single('kproxy_connections_active', 'gauge', 'Client connections open now.', m.connectionsActive)
  w.single('kproxy_connections_total', 'counter', 'Client connections accepted.', m.connectionsTotal)
  w.single('kproxy_tls_handshakes_total', 'counter', 'Client TLS handshakes that completed.', m.tlsHandshakes)
  // Every reason, zeros included, so that dashboards and alerts find each series from the start.
  w.family('kproxy_tls_handshake_failures_total', 'counter', 'TLS handshakes that failed (client side and upstream side), by reason.')
  TLS_FAILURE_REASONS.forEach((reason, i) => w.sample('kproxy_tls_handshake_failures_total', { reason }, m.tlsHandshakeFailures[i] ?? 0))
  w.single('kproxy_workers', 'gauge', 'Worker threads that answered this scrape.', m.workers)
  if (extra.workersExpected !== undefined) w.single('kproxy_workers_configured', 'gauge', 'Worker threads configured.', extra.workersExpected)
  if (extra.workerRestarts !== undefined) w.single('kproxy_worker_restarts_total', 'counter', 'Worker threads that died and were restarted.', extra.workerRestarts)
  w.family('kproxy_response_latency_seconds', 'summary', 'Time from a request to its response (measured in microseconds), by API.')
  for (const [k, h] of sorted(m.latency)) latencySummary(w, 'kproxy_response_latency_seconds', { api: apiLabel(k) }, h)
  w.family('kproxy_mesh_upstream_connections', 'gauge', 'Mesh mode: connections open now to each cluster\'s brokers (shared and the clients\' own), by cluster.')
  for (const [cluster, n] of [...m.meshConnections].sort((a, b) => a[0] < b[0] ? -1 : 1)) w.sample('kproxy_mesh_upstream_connections', { cluster }, n)
  w.family('kproxy_mesh_upstream_latency_seconds', 'summary', 'Mesh mode: time from a request kproxy sent to a cluster to its answer (measured in microseconds), by cluster and API.')
  for (const [cluster, byApi] of [...m.meshLatency].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    for (const [k, h] of sorted(byApi)) latencySummary(w, 'kproxy_mesh_upstream_latency_seconds', { cluster, api: apiLabel(k) }, h)
  }
  if (extra.flows !== undefined && m.flowsRecorded) extra.flows.write(w, m.flows)
  return w.text()
}
