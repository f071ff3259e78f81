// Mesh mode's per-cluster metrics over a real metrics registry: counters, the upstream latency
// histogram per cluster and API, and the gauge of open upstream connections.
import t from 'tap'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { mergeSnapshots } from '@kproxy/core/metrics/metrics-merge'
import { renderPrometheus } from '@kproxy/core/metrics/prometheus'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { createMeshMetrics, noopMeshMetrics } from '../../src/mesh-mode/mesh-metrics.ts'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'

t.test('answers go into the cluster\'s histogram of their API; failures only into the counters', async t => {
  const registry = new MetricsRegistry()
  const mesh = createMeshMetrics(registry)
  mesh.sent('a', ApiKey.Produce, 100)
  mesh.sent('a', ApiKey.Produce, 100)
  mesh.sent('a', ApiKey.Produce, 100)
  mesh.answered('a', ApiKey.Produce, 0.25, false)
  mesh.answered('a', ApiKey.Produce, 1.5, false)
  mesh.answered('a', ApiKey.Produce, 9000, true)
  mesh.sent('b', ApiKey.Fetch, 50)
  mesh.answered('b', ApiKey.Fetch, 0.5, false)
  const m = mergeSnapshots([registry.snapshot()])
  const produce = m.meshLatency.get('a')!.get(ApiKey.Produce)!
  t.equal(produce.totalCount, 2, 'the failed one is not an answer time')
  t.equal(produce.minNonZeroValue, 250, 'ms recorded as µs')
  t.equal(produce.maxValue, 1500)
  t.equal(m.meshLatency.get('b')!.get(ApiKey.Fetch)!.totalCount, 1)
  t.notOk(m.meshLatency.get('b')!.has(ApiKey.Produce), 'per cluster and API, not mixed')
  const a = m.filterEvents.get('mesh:a')!
  t.equal(a.get('produce_requests'), 3)
  t.equal(a.get('produce_answered'), 2)
  t.equal(a.get('produce_failed'), 1)
  t.equal(a.get('produce_latency_ms'), 1.75, 'the summed counter stays')
  t.match(renderPrometheus(m), /^kproxy_mesh_upstream_latency_seconds_count\{cluster="a",api="produce"\} 2$/m)
})

t.test('connects and disconnects move the open-connections gauge; logins do not', async t => {
  const registry = new MetricsRegistry()
  const mesh = createMeshMetrics(registry)
  mesh.upstream('a', 'connects')
  mesh.upstream('a', 'connects')
  mesh.upstream('a', 'connects')
  mesh.upstream('a', 'disconnects')
  mesh.upstream('a', 'login_failed')
  mesh.upstream('a', 'reauthenticated')
  mesh.upstream('b', 'connects')
  mesh.upstream('b', 'disconnects')
  const m = mergeSnapshots([registry.snapshot(), registry.snapshot()])
  t.same([...m.meshConnections], [['a', 4], ['b', 0]], 'two workers with two open to a each')
  const text = renderPrometheus(mergeSnapshots([registry.snapshot()]))
  t.match(text, /^kproxy_mesh_upstream_connections\{cluster="a"\} 2$/m)
  t.match(text, /^kproxy_mesh_upstream_connections\{cluster="b"\} 0$/m)
  t.equal(m.filterEvents.get('mesh:a')!.get('upstream_connects'), 6)
})

t.test('with the latency family excluded, the counters still count and no histogram is kept', async t => {
  const registry = new MetricsRegistry({ meshLatency: false })
  const mesh = createMeshMetrics(registry)
  mesh.sent('a', ApiKey.Metadata, 10)
  mesh.answered('a', ApiKey.Metadata, 3, false)
  const s = registry.snapshot()
  t.same(s.meshLatency, [])
  t.same(s.filterEvents?.find(([f, e]) => f === 'mesh:a' && e === 'metadata_answered'), ['mesh:a', 'metadata_answered', 1])
})

t.test('metrics without filter counters: nothing is recorded', async t => {
  t.equal(createMeshMetrics(noopProxyMetrics), noopMeshMetrics)
})
