// Stats selection on the real exposition: inclusion and exclusion regexps choose families and
// label sets; the per-flow labels are opt-in and capped (10,000 client ids stay within the cap).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { MetricsRegistry } from '../../src/metrics/metrics-registry.ts'
import { mergeSnapshots } from '../../src/metrics/metrics-merge.ts'
import { renderPrometheus } from '../../src/metrics/prometheus.ts'
import { FlowExport } from '../../src/metrics/prometheus-flows.ts'
import { renderEnvoyStats } from '../../src/metrics/envoy-stats.ts'
import { StatsSelection } from '../../src/metrics/stats-selection.ts'
import { DEFAULT_STATS_CONFIG } from '../../src/metrics/stats-config.ts'
import type { StatsConfig } from '../../src/metrics/stats-config.ts'
import { FlowRegistry } from '../../src/metrics/flow-registry.ts'
import { encodeRequest } from '../../src/protocol/codec.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import type { Frame } from '../../src/protocol/frame-reader.ts'

function registry (flows: FlowRegistry | null = null): MetricsRegistry {
  const r = new MetricsRegistry({ flows })
  r.request(ApiKey.Produce, 9)
  r.response(ApiKey.Produce, 9, 100)
  r.request(ApiKey.Heartbeat, 4)
  r.response(ApiKey.Heartbeat, 4, 50)
  r.responseError(ApiKey.Produce, 6)
  r.throttled(ApiKey.Fetch, 250)
  return r
}

const families = (text: string): string[] => [...text.matchAll(/^# TYPE (\S+)/gm)].map(m => m[1]!)
const sampleNames = (text: string): string[] => [...new Set(text.split('\n').filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(/[{ ]/)[0]!))]

function config (over: Partial<StatsConfig>): StatsConfig {
  return { ...DEFAULT_STATS_CONFIG, ...over }
}

t.test('inclusionRegexps ["kproxy_requests_total"]: only that family', async t => {
  const m = mergeSnapshots([registry().snapshot()])
  const all = renderPrometheus(m, { workersExpected: 1 })
  t.ok(families(all).length > 15, 'everything without a selection')
  const only = renderPrometheus(m, { workersExpected: 1, selection: new StatsSelection(config({ inclusionRegexps: ['kproxy_requests_total'] })) })
  t.same(families(only), ['kproxy_requests_total'])
  t.same(sampleNames(only), ['kproxy_requests_total'])
  t.match(only, /^kproxy_requests_total\{api="produce",api_key="0",version="9"\} 1$/m)
  t.match(only, /^kproxy_requests_total\{api="heartbeat",api_key="12",version="4"\} 1$/m)
})

t.test('regexps over label sets, exclusion after inclusion', async t => {
  const m = mergeSnapshots([registry().snapshot()])
  const s = new StatsSelection(config({
    inclusionRegexps: ['kproxy_(requests|responses)_total', 'kproxy_response_latency_seconds.*'],
    exclusionRegexps: ['.*api="heartbeat".*']
  }))
  const text = renderPrometheus(m, { selection: s })
  t.same(families(text), ['kproxy_requests_total', 'kproxy_responses_total', 'kproxy_response_latency_seconds'])
  t.notMatch(text, /heartbeat/)
  t.match(text, /^kproxy_response_latency_seconds_count\{api="produce"\} 1$/m, 'a summary\'s _count goes with its family')
  const labelOnly = renderPrometheus(m, { selection: new StatsSelection(config({ inclusionRegexps: ['kproxy_requests_total\\{api="heartbeat".*'] })) })
  t.same(labelOnly.split('\n').filter(l => !l.startsWith('#') && l !== ''), ['kproxy_requests_total{api="heartbeat",api_key="12",version="4"} 1'], 'one label set of a family')
  t.same(families(labelOnly), ['kproxy_requests_total'], 'the family of a kept series keeps its HELP/TYPE')
})

t.test('recording: an exclusion naming a family turns off its recording', async t => {
  const s = new StatsSelection(config({ exclusionRegexps: ['kproxy_response_latency_seconds'] }))
  t.equal(s.records('kproxy_response_latency_seconds'), false)
  t.equal(s.records('kproxy_requests_total'), true)
  t.equal(new StatsSelection(config({ exclusionRegexps: ['.*api="produce".*'] })).records('kproxy_response_latency_seconds'), true, 'a label-set exclusion does not stop recording')
  const r = new MetricsRegistry({ latency: s.records('kproxy_response_latency_seconds') })
  r.request(0, 9)
  r.response(0, 9, 100)
  t.same(r.snapshot().latency, [], 'no histogram')
  t.same(r.snapshot().responses, [[0, 9, 1]], 'the response is still counted')
})

function produceFrame (topic: string, bytes: number): Frame {
  const whole = Buffer.concat(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: 'x' }, {
    transactionalId: null, acks: 1, timeoutMs: 1000,
    topicData: [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: Buffer.alloc(bytes) }] }]
  }))
  return { size: whole.length - 4, chunks: [whole.subarray(4)] }
}

t.test('flow families: labels only when opted in', async t => {
  const flows = new FlowRegistry()
  const a = flows.client({ principal: 'User:alice', clientId: 'app-1', softwareName: 'kcat', softwareVersion: '1.7.0', target: 'broker-1' })
  const b = flows.client({ principal: 'User:bob', clientId: 'app-2', softwareName: null, softwareVersion: null, target: 'broker-1' })
  flows.produce(a, produceFrame('orders', 100), 9)
  flows.produce(b, produceFrame('payments', 30), 9)
  const m = mergeSnapshots([registry(flows).snapshot()])
  const plain = renderPrometheus(m, { flows: new FlowExport(DEFAULT_STATS_CONFIG) })
  t.match(plain, /^kproxy_flow_received_bytes_total\{target="broker-1"\} 130$/m, 'by target only, by default')
  // labels, not words in a HELP line (kproxy_acl_denials_total is documented "by principal")
  t.notMatch(plain, /client_id=|principal=|topic=/)
  const labelled = renderPrometheus(m, { flows: new FlowExport(config({ labels: { principal: true, clientId: true, topic: true, clientSoftware: true } })) })
  t.match(labelled, /^kproxy_flow_received_bytes_total\{target="broker-1",principal="User:alice",client_id="app-1",client_software_name="kcat",client_software_version="1.7.0",topic="orders"\} 100$/m)
  t.match(labelled, /^kproxy_flow_requests_total\{target="broker-1",principal="User:bob",client_id="app-2",client_software_name="",client_software_version="",topic="payments"\} 1$/m)
  t.notMatch(renderPrometheus(mergeSnapshots([registry().snapshot()]), { flows: new FlowExport(DEFAULT_STATS_CONFIG) }), /kproxy_flow_/, 'no flow families when no worker records flows')
})

t.test('10,000 distinct client ids: the client_id label stays within maxLabelValues', async t => {
  const flows = new FlowRegistry({ maxFlows: 20_000 })
  for (let i = 0; i < 10_000; i++) {
    flows.produce(flows.client({ principal: null, clientId: `client-${i}`, softwareName: null, softwareVersion: null, target: 'cluster' }), produceFrame('orders', 1 + (i % 7)), 9)
  }
  const m = mergeSnapshots([registry(flows).snapshot()])
  const exporter = new FlowExport(config({ labels: { principal: false, clientId: true, topic: false, clientSoftware: false }, maxLabelValues: 100 }))
  const text = renderPrometheus(m, { flows: exporter })
  const ids = new Set([...text.matchAll(/^kproxy_flow_received_bytes_total\{[^}]*client_id="([^"]*)"/gm)].map(x => x[1]))
  t.equal(ids.size, 101, '100 client ids and "other"')
  t.ok(ids.has('other'))
  t.match(text, /^kproxy_stats_label_values_folded\{label="client_id"\} 9900$/m)
  const total = [...text.matchAll(/^kproxy_flow_received_bytes_total\{[^}]*\} (\d+)$/gm)].reduce((n, x) => n + Number(x[1]), 0)
  const expected = Array.from({ length: 10_000 }, (_, i) => 1 + (i % 7)).reduce((n, x) => n + x, 0)
  t.equal(total, expected, 'no byte lost: the folded ones are in "other"')
  // the same ids next time, whatever traffic comes: series do not come and go
  flows.produce(flows.client({ principal: null, clientId: 'client-9999', softwareName: null, softwareVersion: null, target: 'cluster' }), produceFrame('orders', 1_000_000), 9)
  const again = renderPrometheus(mergeSnapshots([registry(flows).snapshot()]), { flows: exporter })
  const ids2 = new Set([...again.matchAll(/^kproxy_flow_received_bytes_total\{[^}]*client_id="([^"]*)"/gm)].map(x => x[1]))
  t.same([...ids2].sort(), [...ids].sort())
})

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0
t.test('promtool accepts the exposition with flows and a selection', { skip: hasPromtool ? false : 'promtool is not installed' }, async t => {
  const flows = new FlowRegistry()
  flows.produce(flows.client({ principal: 'CN=a "quoted"\nname', clientId: '<script>alert(1)</script>', softwareName: 'x', softwareVersion: '1', target: 'broker-1' }), produceFrame('orders', 10), 9)
  const m = mergeSnapshots([registry(flows).snapshot()])
  for (const selection of [undefined, new StatsSelection(config({ exclusionRegexps: ['kproxy_tls_.*'] }))]) {
    const text = renderPrometheus(m, { workersExpected: 1, workerRestarts: 0, selection, flows: new FlowExport(config({ labels: { principal: true, clientId: true, topic: true, clientSoftware: true } })) })
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`)
    t.equal((check.stdout + check.stderr).trim(), '', 'no lint complaints')
  }
})

t.test('/stats: the same regexps against the Envoy-style names', async t => {
  const m = mergeSnapshots([registry().snapshot()])
  const s = new StatsSelection(config({ inclusionRegexps: ['kafka\\.kproxy\\.request\\..*'], exclusionRegexps: ['.*heartbeat.*'] }))
  const stats = renderEnvoyStats(m, 'kproxy', s).stats
  const names = stats.flatMap(x => 'name' in x ? [x.name] : [])
  t.same(names, ['kafka.kproxy.request.failure', 'kafka.kproxy.request.produce_request', 'kafka.kproxy.request.unknown'])
  const histograms = stats.find(x => 'histograms' in x) as { histograms: { computed_quantiles: unknown[] } }
  t.same(histograms.histograms.computed_quantiles, [], 'response_duration histograms are not selected')
})
