// Writes deploy/grafana/kproxy.json, the Grafana dashboard for kproxy's Prometheus metrics, from
// the panel list below. `--check` exits 1 when the committed file differs from a fresh one. The
// queries are checked by test/integration/grafana-dashboard.test.ts: every metric and label they
// name must be in a live kproxy's /metrics, and every expression must parse (promtool).
//
// Conventions: every selector carries {instance=~"$instance"}; rates use $__rate_interval; the
// latency summary's quantiles are not aggregatable across instances, so they are shown per
// instance (max by api) and the mean comes from _sum/_count.
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const out = join(root, 'deploy/grafana/kproxy.json')

const DS = { type: 'prometheus', uid: '${datasource}' }
const I = 'instance=~"$instance"'
const R = '$__rate_interval'

interface Target { expr: string, legend: string }
interface PanelSpec {
  title: string
  description: string
  type?: 'timeseries' | 'stat'
  unit: string
  targets: Target[]
  width?: number
  stack?: boolean
}

const rows: Array<[title: string, panels: PanelSpec[]]> = [
  ['Overview', [
    { type: 'stat', width: 4, title: 'Requests / s', unit: 'reqps', description: 'Requests received from clients, all APIs.', targets: [{ expr: `sum(rate(kproxy_requests_total{${I}}[${R}]))`, legend: 'requests' }] },
    { type: 'stat', width: 4, title: 'Error codes / s', unit: 'short', description: 'Error codes in the responses kproxy decoded or produced.', targets: [{ expr: `sum(rate(kproxy_response_errors_total{${I}}[${R}]))`, legend: 'errors' }] },
    { type: 'stat', width: 4, title: 'Client connections', unit: 'short', description: 'Client connections open now.', targets: [{ expr: `sum(kproxy_connections_active{${I}})`, legend: 'connections' }] },
    { type: 'stat', width: 4, title: 'Workers answering', unit: 'short', description: 'Worker threads that answered the last scrape, of those configured.', targets: [{ expr: `sum(kproxy_workers{${I}})`, legend: 'answering' }, { expr: `sum(kproxy_workers_configured{${I}})`, legend: 'configured' }] },
    { type: 'stat', width: 4, title: 'Worker restarts (1 h)', unit: 'short', description: 'Worker threads that died and were restarted in the last hour.', targets: [{ expr: `sum(increase(kproxy_worker_restarts_total{${I}}[1h]))`, legend: 'restarts' }] },
    { type: 'stat', width: 4, title: 'Decode failures / s', unit: 'short', description: 'Frames kproxy could not decode (closes the connection).', targets: [{ expr: `sum(rate(kproxy_decode_failures_total{${I}}[${R}]))`, legend: 'decode failures' }] }
  ]],
  ['Traffic', [
    { title: 'Requests by API', unit: 'reqps', description: 'Requests per second, by Kafka API.', targets: [{ expr: `sum by (api) (rate(kproxy_requests_total{${I}}[${R}]))`, legend: '{{api}}' }] },
    { title: 'Bytes', unit: 'Bps', description: 'Bytes from and to clients (whole frames).', targets: [{ expr: `sum(rate(kproxy_received_bytes_total{${I}}[${R}]))`, legend: 'received' }, { expr: `sum(rate(kproxy_sent_bytes_total{${I}}[${R}]))`, legend: 'sent' }] },
    { title: 'Connections', unit: 'short', description: 'Open client connections per instance, and new ones per second.', targets: [{ expr: `sum by (instance) (kproxy_connections_active{${I}})`, legend: '{{instance}} open' }, { expr: `sum by (instance) (rate(kproxy_connections_total{${I}}[${R}]))`, legend: '{{instance}} new/s' }] },
    { title: 'Requests by API version', unit: 'reqps', description: 'Which protocol versions clients use (old clients show here).', targets: [{ expr: `sum by (api, version) (rate(kproxy_requests_total{${I}}[${R}]))`, legend: '{{api}} v{{version}}' }] }
  ]],
  ['Latency and errors', [
    { title: 'p99 latency by API', unit: 's', description: 'Time from a request to its response, 99th percentile (highest instance).', targets: [{ expr: `max by (api) (kproxy_response_latency_seconds{${I}, quantile="0.99"})`, legend: '{{api}}' }] },
    { title: 'Mean latency by API', unit: 's', description: 'Mean time from a request to its response over the interval.', targets: [{ expr: `sum by (api) (rate(kproxy_response_latency_seconds_sum{${I}}[${R}])) / sum by (api) (rate(kproxy_response_latency_seconds_count{${I}}[${R}]))`, legend: '{{api}}' }] },
    { title: 'Produce latency percentiles', unit: 's', description: 'Produce: p50, p90, p99, p99.9 per instance.', targets: [{ expr: `kproxy_response_latency_seconds{${I}, api="produce"}`, legend: '{{instance}} p{{quantile}}' }] },
    { title: 'Error codes by API', unit: 'short', description: 'Error codes in responses per second, by API and error name.', targets: [{ expr: `sum by (api, error) (rate(kproxy_response_errors_total{${I}}[${R}]))`, legend: '{{api}} {{error}}' }] },
    { title: 'Throttling', unit: 'short', description: 'Throttle time brokers imposed on clients (seconds per second), and throttled responses per second.', targets: [{ expr: `sum by (api) (rate(kproxy_throttle_time_seconds_total{${I}}[${R}]))`, legend: '{{api}} throttle s/s' }, { expr: `sum by (api) (rate(kproxy_throttled_responses_total{${I}}[${R}]))`, legend: '{{api}} throttled/s' }] },
    { title: 'Refused and unknown requests', unit: 'reqps', description: 'Requests denied by the API key policy, with unknown API keys, or outside the metric tables.', targets: [{ expr: `sum by (api) (rate(kproxy_denied_requests_total{${I}}[${R}]))`, legend: 'denied {{api}}' }, { expr: `sum(rate(kproxy_unknown_api_requests_total{${I}}[${R}]))`, legend: 'unknown API' }, { expr: `sum(rate(kproxy_untracked_requests_total{${I}}[${R}]))`, legend: 'untracked' }] }
  ]],
  ['TLS', [
    { title: 'TLS handshakes', unit: 'short', description: 'Client TLS handshakes completed per second.', targets: [{ expr: `sum(rate(kproxy_tls_handshakes_total{${I}}[${R}]))`, legend: 'completed' }] },
    { title: 'TLS handshake failures by reason', unit: 'short', description: 'Failed handshakes per second, client and upstream side, by reason (docs/tls.md).', targets: [{ expr: `sum by (reason) (rate(kproxy_tls_handshake_failures_total{${I}}[${R}])) > 0`, legend: '{{reason}}' }] }
  ]],
  ['Flows (stats.flows)', [
    { title: 'Record bytes by target', unit: 'Bps', description: 'Record bytes produced and fetched, by broker (stats.flows).', targets: [{ expr: `sum by (target) (rate(kproxy_flow_received_bytes_total{${I}}[${R}]))`, legend: '{{target}} produced' }, { expr: `sum by (target) (rate(kproxy_flow_sent_bytes_total{${I}}[${R}]))`, legend: '{{target}} fetched' }] },
    { title: 'Record bytes by topic', unit: 'Bps', description: 'Needs stats.labels.topic: true (one series otherwise).', targets: [{ expr: `topk(10, sum by (topic) (rate(kproxy_flow_received_bytes_total{${I}}[${R}]) + rate(kproxy_flow_sent_bytes_total{${I}}[${R}])))`, legend: '{{topic}}' }] },
    { title: 'Record bytes by client id', unit: 'Bps', description: 'Needs stats.labels.clientId: true (one series otherwise).', targets: [{ expr: `topk(10, sum by (client_id) (rate(kproxy_flow_received_bytes_total{${I}}[${R}]) + rate(kproxy_flow_sent_bytes_total{${I}}[${R}])))`, legend: '{{client_id}}' }] },
    { title: 'Flow error rate by target', unit: 'percentunit', description: 'Partitions answered with an error, per Produce request or Fetch response.', targets: [{ expr: `sum by (target) (rate(kproxy_flow_errors_total{${I}}[${R}])) / sum by (target) (rate(kproxy_flow_requests_total{${I}}[${R}]))`, legend: '{{target}}' }] },
    { title: 'Stats tables full', unit: 'short', description: 'Flows counted as "other" (stats.maxFlows) and label values folded (stats.maxLabelValues).', targets: [{ expr: `sum by (table) (increase(kproxy_flow_overflow_total{${I}}[1h]))`, legend: '{{table}} over the cap (1 h)' }, { expr: `max by (label) (kproxy_stats_label_values_folded{${I}})`, legend: '{{label}} values folded' }] }
  ]]
]

function panel (p: PanelSpec, id: number, x: number, y: number, w: number, h: number): Record<string, unknown> {
  const base = {
    id,
    type: p.type ?? 'timeseries',
    title: p.title,
    description: p.description,
    datasource: DS,
    gridPos: { h, w, x, y },
    targets: p.targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), datasource: DS, expr: t.expr, legendFormat: t.legend, range: true }))
  }
  if (base.type === 'stat') {
    return { ...base, fieldConfig: { defaults: { unit: p.unit, decimals: 1, color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] } }, overrides: [] }, options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto', orientation: 'auto', justifyMode: 'auto' } }
  }
  return {
    ...base,
    fieldConfig: { defaults: { unit: p.unit, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false, stacking: { mode: p.stack === true ? 'normal' : 'none', group: 'A' } } }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } }
  }
}

export function buildDashboard (): Record<string, unknown> {
  const panels: Array<Record<string, unknown>> = []
  let id = 1
  let y = 0
  for (const [title, specs] of rows) {
    panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] })
    y += 1
    let x = 0
    let rowHeight = 0
    for (const p of specs) {
      const w = p.width ?? 12
      const h = p.type === 'stat' ? 4 : 8
      if (x + w > 24) { x = 0; y += rowHeight; rowHeight = 0 }
      panels.push(panel(p, id++, x, y, w, h))
      x += w
      rowHeight = Math.max(rowHeight, h)
    }
    y += rowHeight
  }
  return {
    title: 'kproxy',
    uid: 'kproxy',
    description: 'kproxy, the Kafka-protocol proxy: traffic, latency, errors, TLS and flows from its /metrics. Generated by scripts/grafana-dashboard.ts.',
    tags: ['kproxy', 'kafka'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1 },
        {
          name: 'instance', label: 'Instance', type: 'query', datasource: DS,
          query: { query: 'label_values(kproxy_workers, instance)', refId: 'instance' }, definition: 'label_values(kproxy_workers, instance)',
          includeAll: true, multi: true, allValue: '.*', current: {}, refresh: 2, sort: 1, hide: 0
        }
      ]
    },
    panels
  }
}

export function dashboardText (): string {
  return JSON.stringify(buildDashboard(), null, 2) + '\n'
}

// Every PromQL expression of the dashboard, for the tests.
export function dashboardExpressions (dashboard: { panels: Array<{ targets?: Array<{ expr: string }> }> }): string[] {
  return dashboard.panels.flatMap(p => (p.targets ?? []).map(t => t.expr))
}

if (import.meta.main) {
  const text = dashboardText()
  if (process.argv.includes('--check')) {
    let committed = ''
    try { committed = readFileSync(out, 'utf8') } catch {}
    if (committed !== text) {
      process.stderr.write('deploy/grafana/kproxy.json is stale: run `node scripts/grafana-dashboard.ts`\n')
      process.exitCode = 1
    }
  } else {
    writeFileSync(out, text)
    process.stdout.write(`wrote ${out}\n`)
  }
}
