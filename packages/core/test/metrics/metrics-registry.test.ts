import t from 'tap'
import { spawnSync } from 'node:child_process'
import { MetricsRegistry, MAX_MESH_CLUSTERS, MAX_QUOTA_LABELS, MAX_VERSIONS } from '../../src/metrics/metrics-registry.ts'
import { foldSnapshots, mergeSnapshots, retireSnapshot } from '../../src/metrics/metrics-merge.ts'
import { escapeLabel, renderPrometheus } from '../../src/metrics/prometheus.ts'
import { renderEnvoyStats } from '../../src/metrics/envoy-stats.ts'
import { snakeCase } from '../../src/metrics/metric-names.ts'

function worker (latencies: number[], apiKey = 0, version = 9): MetricsRegistry {
  const r = new MetricsRegistry()
  r.connectionOpened()
  for (const l of latencies) {
    r.request(apiKey, version)
    r.response(apiKey, version, l)
  }
  r.request(3, 12)
  r.response(3, 12, 250)
  r.responseError(0, 6)
  r.responseError(0, -1)
  r.responseError(0, 9999)
  r.denied(20)
  r.unknownApi(200)
  r.decodeFailure()
  r.bytesIn(100)
  r.bytesOut(1000)
  return r
}

t.test('the registry counts per key, version and error code', async t => {
  const r = worker([100, 200, 300])
  t.equal(r.requests[0 * MAX_VERSIONS + 9], 3)
  const s = r.snapshot()
  t.same(s.requests, [[0, 9, 3], [3, 12, 1]])
  t.same(s.responses, [[0, 9, 3], [3, 12, 1]])
  t.same(s.errors, [[0, -1, 1], [0, 6, 1], [0, 255, 1]])
  t.same(s.denied, [[20, 1]])
  t.equal(s.unknownApis, 1)
  t.equal(s.decodeFailures, 1)
  t.equal(s.connectionsActive, 1)
  t.same(s.latency.map(([k]) => k), [0, 3])
  t.same(structuredClone(s), s, 'snapshot survives structured clone')
  r.request(500, 1)
  r.request(1, 40)
  t.equal(r.overflow, 2, 'out-of-table keys and versions are counted, not written out of bounds')
})

t.test('merge adds counters and histograms of N workers', async t => {
  const a = worker([100, 200, 300])
  const b = worker([1000, 2000])
  const c = worker([50_000])
  c.connectionClosed()
  const m = mergeSnapshots([a.snapshot(), b.snapshot(), c.snapshot()])
  t.equal(m.workers, 3)
  t.equal(m.requests.get(0)?.get(9), 6)
  t.equal(m.requests.get(3)?.get(12), 3)
  t.equal(m.errors.get(0)?.get(6), 3)
  t.equal(m.denied.get(20), 3)
  t.equal(m.bytesIn, 300)
  t.equal(m.connectionsActive, 2)
  t.equal(m.connectionsTotal, 3)
  const h = m.latency.get(0)!
  t.equal(h.totalCount, 6, 'histogram counts add up')
  t.equal(h.maxValue >= 49_950 && h.maxValue <= 50_050, true, `max ${h.maxValue}`)
  t.ok(Math.abs(h.getValueAtPercentile(50) - 300) <= 1, `p50 ${h.getValueAtPercentile(50)}`)
  t.equal(m.latency.get(3)!.totalCount, 3)
  const folded = foldSnapshots([retireSnapshot(a.snapshot()), retireSnapshot(b.snapshot())])
  const again = mergeSnapshots([folded, c.snapshot()])
  t.equal(again.requests.get(0)?.get(9), 6, 'folding keeps counts')
  t.equal(again.latency.get(0)!.totalCount, 6)
  t.equal(again.connectionsActive, 0)
})

t.test('names follow Kafka API names in snake_case', async t => {
  t.equal(snakeCase('ApiVersions'), 'api_versions')
  t.equal(snakeCase('DescribeUserScramCredentials'), 'describe_user_scram_credentials')
  t.equal(snakeCase('OffsetForLeaderEpoch'), 'offset_for_leader_epoch')
})

t.test('Envoy kafka_broker stat names', async t => {
  const a = worker([1000, 2000, 3000], 3, 12)
  const stats = renderEnvoyStats(mergeSnapshots([a.snapshot()]), 'edge')
  const counters = new Map(stats.stats.flatMap(s => 'name' in s ? [[s.name, s.value]] : []))
  t.equal(counters.get('kafka.edge.request.metadata_request'), 4)
  t.equal(counters.get('kafka.edge.response.metadata_response'), 4)
  t.equal(counters.get('kafka.edge.request.unknown'), 1)
  t.equal(counters.get('kafka.edge.request.failure'), 1)
  t.equal(counters.get('kproxy.edge.request.delete_topics_denied'), 1)
  t.equal(counters.get('kproxy.edge.response.produce_error.NOT_LEADER_OR_FOLLOWER'), 1)
  const hist = stats.stats.find(s => 'histograms' in s)
  t.ok(hist !== undefined && 'histograms' in hist)
  if (hist === undefined || !('histograms' in hist)) return
  t.same(hist.histograms.supported_quantiles, [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100])
  const md = hist.histograms.computed_quantiles.find(q => q.name === 'kafka.edge.response.metadata_response_duration')
  t.ok(md !== undefined, 'metadata_response_duration present')
  const p100 = md!.values[9]!.cumulative!
  t.ok(p100 >= 2.99 && p100 <= 3.01, `p100 in ms: ${p100}`)
})

t.test('Prometheus exposition', async t => {
  t.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd')
  const text = renderPrometheus(mergeSnapshots([worker([100, 200]).snapshot(), worker([300]).snapshot()]), { workersExpected: 2 })
  t.match(text, /^kproxy_requests_total\{api="produce",api_key="0",version="9"\} 3$/m)
  t.match(text, /^kproxy_response_errors_total\{api="produce",code="6",error="NOT_LEADER_OR_FOLLOWER"\} 2$/m)
  t.match(text, /^kproxy_response_latency_seconds\{api="metadata",quantile="0.99"\} 0.00025$/m)
  t.match(text, /^kproxy_response_latency_seconds_count\{api="produce"\} 3$/m)
  t.match(text, /^kproxy_response_latency_seconds_sum\{api="produce"\} 0.0006$/m)
  t.match(text, /^# TYPE kproxy_connections_active gauge$/m)
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)[{ ]/.exec(line)
    if (m !== null && !line.startsWith('#')) t.ok(/_total$|_active$|_workers|workers_configured|_seconds(_sum|_count)?$/.test(m[1]!), `metric name ${m[1]}`)
  }
})

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0
t.test('promtool check metrics accepts the exposition', {
  skip: hasPromtool ? false : 'promtool is not installed (Debian package `prometheus`)'
}, async t => {
  const text = renderPrometheus(mergeSnapshots([worker([100, 200]).snapshot(), worker([300]).snapshot()]), { workersExpected: 2 })
  const bad = spawnSync('promtool', ['check', 'metrics'], { input: 'kproxy_x{a="b} 1\n', encoding: 'utf8' })
  t.not(bad.status, 0, 'promtool rejects a broken exposition (the check can fail)')
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`)
  t.equal((check.stdout + check.stderr).trim(), '', 'promtool has no lint complaints')
})

t.test('ACL denials: by principal, operation and resource type, merged, folded, bounded', async t => {
  const a = new MetricsRegistry()
  const b = new MetricsRegistry()
  a.aclDenials('User:alice', 'Write', 'topic').inc(4)
  a.aclDenials('User:alice', 'Write', 'topic').inc()
  b.aclDenials('User:alice', 'Write', 'topic').inc(2)
  b.aclDenials('User:bob', 'Read', 'group').inc()
  const merged = mergeSnapshots([a.snapshot(), b.snapshot()])
  const text = renderPrometheus(merged)
  t.match(text, /# TYPE kproxy_acl_denials_total counter/)
  t.match(text, /kproxy_acl_denials_total\{principal="User:alice",operation="Write",resource_type="topic"\} 7/)
  t.match(text, /kproxy_acl_denials_total\{principal="User:bob",operation="Read",resource_type="group"\} 1/)
  const folded = foldSnapshots([a.snapshot(), b.snapshot()])
  t.same(folded.aclDenials?.sort(), [['User:alice', 'Write', 'topic', 7], ['User:bob', 'Read', 'group', 1]])
  // principals are chosen by clients: past the bound they count as "other"
  const c = new MetricsRegistry()
  for (let i = 0; i < 1100; i++) c.aclDenials(`User:u${i}`, 'Read', 'topic').inc()
  const s = c.snapshot().aclDenials!
  t.equal(s.length, 1001)
  t.same(s.find(x => x[0] === 'other'), ['other', 'Read', 'topic', 100])
})

t.test('quota counters: by principal and quota, merged across workers, principals capped per worker', async t => {
  const a = new MetricsRegistry({ latency: false })
  const b = new MetricsRegistry({ latency: false })
  a.quotaCounter('alice', 'produce-bytes').throttled(120)
  a.quotaCounter('alice', 'produce-bytes').throttled(0)
  b.quotaCounter('alice', 'produce-bytes').throttled(30)
  b.quotaCounter('bob', 'connections').refused()
  for (let i = 0; i < MAX_QUOTA_LABELS + 5; i++) a.quotaCounter(`user-${i}`, 'requests').refused()
  const merged = mergeSnapshots([a.snapshot(), b.snapshot()])
  t.same(merged.quotas.get('alice\u0000produce-bytes'), { principal: 'alice', quota: 'produce-bytes', throttled: 2, ms: 150, refusals: 0 })
  t.equal(merged.quotas.get('other\u0000requests')?.refusals, 6, 'past the cap (alice and 999 users): principal "other"')
  const text = renderPrometheus(merged)
  t.match(text, 'kproxy_quota_throttled_responses_total{principal="alice",quota="produce-bytes"} 2\n')
  t.match(text, 'kproxy_quota_throttle_time_seconds_total{principal="alice",quota="produce-bytes"} 0.15\n')
  t.match(text, 'kproxy_quota_refusals_total{principal="bob",quota="connections"} 1\n')
  const folded = foldSnapshots([a.snapshot(), b.snapshot()])
  t.same(mergeSnapshots([folded]).quotas.get('bob\u0000connections')?.refusals, 1, 'kept when a dead worker\'s counters are folded')
})

t.test('mesh mode: upstream latency per cluster and API, open connections per cluster; merged, retired, folded, exported', async t => {
  const a = new MetricsRegistry()
  const b = new MetricsRegistry()
  const aProduce = a.meshLatency('east', 0)!
  t.equal(a.meshLatency('east', 0), aProduce, 'one recorder per cluster and API')
  for (const us of [100, 200, 300]) aProduce.record(us)
  a.meshLatency('east', 1)!.record(40_000)
  b.meshLatency('east', 0)!.record(400)
  b.meshLatency('west', 0)!.record(0.2)
  b.meshLatency('west', 3)
  const eastA = a.meshConnections('east')
  eastA.add(1); eastA.add(1); eastA.add(1); eastA.add(-1)
  b.meshConnections('east').add(1)
  b.meshConnections('west').add(1)
  b.meshConnections('west').add(-1)
  const sa = a.snapshot()
  t.same(sa.meshConnections, [['east', 2]])
  t.same(sa.meshLatency?.map(([c, k]) => [c, k]), [['east', 0], ['east', 1]])
  t.same(b.snapshot().meshLatency?.map(([c, k]) => [c, k]), [['east', 0], ['west', 0]], 'a histogram with nothing recorded is not sent')
  const m = mergeSnapshots([sa, b.snapshot()])
  t.equal(m.meshLatency.get('east')!.get(0)!.totalCount, 4, 'histograms of both workers added')
  t.equal(m.meshLatency.get('east')!.get(0)!.maxValue, 400)
  t.equal(m.meshLatency.get('west')!.get(0)!.minNonZeroValue, 1, 'below 1 µs counts as 1 µs')
  t.same([...m.meshConnections], [['east', 3], ['west', 0]])
  const text = renderPrometheus(m)
  t.match(text, /^# TYPE kproxy_mesh_upstream_connections gauge$/m)
  t.match(text, /^kproxy_mesh_upstream_connections\{cluster="east"\} 3$/m)
  t.match(text, /^kproxy_mesh_upstream_connections\{cluster="west"\} 0$/m)
  t.match(text, /^# TYPE kproxy_mesh_upstream_latency_seconds summary$/m)
  t.match(text, /^kproxy_mesh_upstream_latency_seconds\{cluster="east",api="produce",quantile="0.5"\} 0.0002$/m)
  t.match(text, /^kproxy_mesh_upstream_latency_seconds\{cluster="east",api="produce",quantile="0.99"\} 0.0004$/m)
  t.match(text, /^kproxy_mesh_upstream_latency_seconds_count\{cluster="east",api="produce"\} 4$/m)
  t.match(text, /^kproxy_mesh_upstream_latency_seconds_sum\{cluster="east",api="produce"\} 0.001$/m)
  t.match(text, /^kproxy_mesh_upstream_latency_seconds_count\{cluster="east",api="fetch"\} 1$/m)
  // a worker that died: its connections are gone, its latencies stay in the totals
  const retired = retireSnapshot(sa)
  t.same(retired.meshConnections, [['east', 0]])
  const folded = foldSnapshots([retired, b.snapshot()])
  const again = mergeSnapshots([folded])
  t.equal(again.meshLatency.get('east')!.get(0)!.totalCount, 4, 'histograms survive folding')
  t.same([...again.meshConnections], [['east', 0], ['west', 0]], 'folded snapshots hold no open connections')
  if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0) {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`)
  }
})

t.test('mesh mode in /stats (Envoy shape): the connections gauge and the upstream latency per cluster and API', async t => {
  const r = new MetricsRegistry()
  for (const us of [1000, 2000]) r.meshLatency('east', 0)!.record(us)
  r.meshConnections('east').add(3)
  const stats = renderEnvoyStats(mergeSnapshots([r.snapshot()]), 'edge')
  const counters = new Map(stats.stats.flatMap(s => 'name' in s ? [[s.name, s.value]] : []))
  t.equal(counters.get('kproxy.edge.mesh.east.upstream_cx_active'), 3)
  const hist = stats.stats.find(s => 'histograms' in s)
  if (hist === undefined || !('histograms' in hist)) return t.fail('no histograms')
  const produce = hist.histograms.computed_quantiles.find(q => q.name === 'kproxy.edge.mesh.east.produce_upstream_duration')
  t.ok(produce !== undefined, 'produce_upstream_duration of cluster east')
  const p100 = produce!.values[9]!.cumulative!
  t.ok(p100 >= 1.99 && p100 <= 2.01, `p100 in ms: ${p100}`)
})

t.test('mesh mode: nothing recorded when the stats selection excludes the latency family; clusters bounded', async t => {
  const off = new MetricsRegistry({ meshLatency: false })
  t.equal(off.meshLatency('east', 0), null)
  t.same(off.snapshot().meshLatency, [])
  const r = new MetricsRegistry()
  for (let i = 0; i < MAX_MESH_CLUSTERS + 10; i++) {
    r.meshLatency(`c${i}`, 0)!.record(10)
    r.meshConnections(`c${i}`).add(1)
  }
  const s = r.snapshot()
  t.equal(s.meshLatency!.length, MAX_MESH_CLUSTERS + 1, 'past the bound: cluster "other"')
  t.same(s.meshConnections!.find(([c]) => c === 'other'), ['other', 10])
})
