// A worker's metrics follow the stats section: flows only when on, latency histograms unless
// their family is excluded, and a warning the first time the flow table is full.
import t from 'tap'
import { pino } from 'pino'
import { Writable } from 'node:stream'
import { DEFAULT_STATS_CONFIG } from '@kproxy/core/metrics/stats-config'
import { createWorkerMetrics } from '../../src/runtime/worker-metrics.ts'

t.test('defaults: no flows, latency recorded', async t => {
  const m = createWorkerMetrics({}, () => pino({ level: 'silent' }))
  t.equal(m.flows, null)
  m.response(0, 9, 100)
  t.equal(m.snapshot().latency.length, 1)
  t.equal(m.snapshot().flows, undefined)
})

t.test('stats.flows and an excluded latency family', async t => {
  const lines: string[] = []
  const logger = pino({ level: 'warn' }, new Writable({ write (c, _e, done) { lines.push(c.toString()); done() } }))
  const m = createWorkerMetrics({ stats: { ...DEFAULT_STATS_CONFIG, flows: true, maxFlows: 2, exclusionRegexps: ['kproxy_response_latency_seconds'] } }, () => logger)
  t.ok(m.flows !== null)
  m.response(0, 9, 100)
  t.same(m.snapshot().latency, [])
  t.same(m.snapshot().flows, { flows: [], partitions: [], overflow: { flows: 0, partitions: 0 }, topicNames: [] })
  for (const id of ['a', 'b', 'c']) m.flows!.client({ principal: null, clientId: id, softwareName: null, softwareVersion: null, target: 'cluster' })
  t.match(JSON.parse(lines[0]!), { code: 'KPROXY_WARN_STATS_OVERFLOW', table: 'flows', cap: 2 })
  t.equal(lines.length, 1)
})

t.test('mesh upstream latency: recorded by default, not when its family is excluded (and only that one)', async t => {
  const on = createWorkerMetrics({}, () => pino({ level: 'silent' }))
  on.meshLatency('a', 0)!.record(100)
  t.equal(on.snapshot().meshLatency!.length, 1)
  const off = createWorkerMetrics({ stats: { ...DEFAULT_STATS_CONFIG, exclusionRegexps: ['kproxy_mesh_upstream_latency_seconds'] } }, () => pino({ level: 'silent' }))
  t.equal(off.meshLatency('a', 0), null, 'no histogram kept')
  off.response(0, 9, 100)
  t.equal(off.snapshot().latency.length, 1, 'broker-mode latency still recorded')
  const brokerOff = createWorkerMetrics({ stats: { ...DEFAULT_STATS_CONFIG, exclusionRegexps: ['kproxy_response_latency_seconds'] } }, () => pino({ level: 'silent' }))
  t.ok(brokerOff.meshLatency('a', 0) !== null, 'excluding the client-side latency leaves the mesh one')
})
