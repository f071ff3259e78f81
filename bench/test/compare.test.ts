import t from 'tap'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { compareTable, median, parseCompareArgs, summarizeRounds } from '../src/compare.ts'
import type { Round } from '../src/compare.ts'
import { newHistogram } from '../src/histogram.ts'
import { meshProduceCounters } from '../src/targets.ts'
import type { ScenarioResult } from '../src/scenarios.ts'

function result (recordsPerSec: number, p99: number, wireBytes = 1e9): ScenarioResult {
  return {
    label: 'x', scenario: 'produce', target: 'h:1', durationMs: 1000, requests: 1, records: recordsPerSec, requestsPerSec: 1, recordsPerSec,
    mbPerSec: recordsPerSec / 1000, wireBytes, latencyUs: { count: 1, p50: p99 / 2, p90: p99, p99, p999: p99 * 2, max: p99 * 2, mean: p99 / 2 },
    sendLagUs: null, errors: {}, unsent: 0, unanswered: 0, memory: null, histogram: newHistogram()
  }
}

t.test('medians over rounds and ratios to direct; skipped targets are listed with the reason', async t => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 2, 3]), 2.5)
  const rounds: Round[] = [
    { target: 'direct', round: 1, result: result(100_000, 2000), cpuSeconds: null },
    { target: 'kproxy', round: 1, result: result(80_000, 3000, 2e9), cpuSeconds: 4 },
    { target: 'direct', round: 2, result: result(120_000, 1000), cpuSeconds: null },
    { target: 'kproxy', round: 2, result: result(100_000, 3000, 1e9), cpuSeconds: 1 },
    { target: 'direct', round: 3, result: result(110_000, 4000), cpuSeconds: null },
    { target: 'kproxy', round: 3, result: result(90_000, 5000, 1e9), cpuSeconds: 3 }
  ]
  const rows = summarizeRounds(['direct', 'kproxy', 'envoy'], rounds, new Map([['envoy', 'envoy is not installed']]))
  t.match(rows[0], { target: 'direct', rounds: 3, throughput: 110_000, p99: 2000, cpuSecondsPerGB: null, throughputRatio: 1, p99Ratio: 1 })
  t.match(rows[1], { target: 'kproxy', rounds: 3, throughput: 90_000, p99: 3000, cpuSecondsPerGB: 2 })
  t.ok(Math.abs(rows[1]!.throughputRatio! - 90 / 110) < 1e-9)
  t.equal(rows[1]!.p99Ratio, 1.5)
  t.match(rows[2], { target: 'envoy', skipped: 'envoy is not installed', rounds: 0 })
  const table = compareTable('produce', rows)
  t.match(table, /^target\s+rounds\s+records\/s/)
  t.match(table, /direct\s+3\s+110000\s+110\.00\s+1\.000\s+2\.000\s+4\.000\s+n\/a\s+1\.000\s+1\.000/)
  t.match(table, /kproxy\s+3\s+90000 .* 2\.00\s+0\.818\s+1\.500/)
  t.match(table, /envoy: skipped: envoy is not installed/)
  t.notMatch(table, /per connection/)
  const conn = { ...result(0, 100), scenario: 'connections', memory: { connections: 10, rssBeforeKiB: 100, rssAfterKiB: 300, perConnectionKiB: 20 } }
  const memRows = summarizeRounds(['kproxy'], [{ target: 'kproxy', round: 1, result: conn, cpuSeconds: null }], new Map())
  t.equal(memRows[0]!.kibPerConnection, 20)
  t.match(compareTable('connections', memRows), /kproxy: 20\.0 KiB of target RSS per connection/)
  // without direct there is nothing to divide by
  t.equal(summarizeRounds(['kproxy'], rounds, new Map())[0]!.throughputRatio, null)
})

t.test('compare arguments', async t => {
  const a = parseCompareArgs(['--scenario', 'roundtrip', '--targets', 'direct,kproxy', '--rounds', '2', '--duration', '1', '--pipeline', '4'])
  t.match(a, { scenario: 'roundtrip', targets: ['direct', 'kproxy'], rounds: 2, warmupSeconds: 5, bootstrap: null, out: 'bench/results/latest', rest: ['--duration', '1', '--pipeline', '4'] })
  const bad = (argv: string[]): string => {
    try { parseCompareArgs(argv) } catch (err) { if (isKproxyError(err, 'KPROXY_ERR_BENCH_USAGE')) return err.message; throw err }
    return 'no error'
  }
  t.match(bad([]), /--scenario is required/)
  t.match(bad(['--scenario', 'produce', '--targets', 'direct,nginx']), /Unknown target 'nginx'/)
  t.match(bad(['--scenario', 'produce', '--targets', 'direct,direct']), /twice/)
  t.match(bad(['--scenario', 'produce', '--rounds', '0']), /--rounds must be a whole number/)
  t.match(bad(['--scenario', 'produce', '--target', 'h:1']), /use --targets/)
  t.match(bad(['--scenario', 'produce', '--acks', '7']), /--acks must be 0, 1 or all/)
  t.match(bad(['--scenario', 'produce', '--bootstrap', 'nope']), /--bootstrap must be HOST:PORT/)
  t.match(bad(['--scenario', 'produce', '--warmup', 'soon']), /--warmup must be/)
  t.match(bad(['--scenario', 'bogus']), /Unknown scenario 'bogus'/)
})

t.test('the broker\'s CPU per record and mesh coalescing, when measured', async t => {
  const rounds: Round[] = [
    // records = recordsPerSec over the 1 s result: 1000 and 2000 records
    { target: 'direct', round: 1, result: result(1000, 2000), cpuSeconds: null, brokerCpuSeconds: 0.05 },
    { target: 'kproxy-mesh', round: 1, result: result(2000, 2000), cpuSeconds: 1, brokerCpuSeconds: 0.02, produce: { client: 2000, upstream: 150 } },
    { target: 'direct', round: 2, result: result(1000, 2000), cpuSeconds: null, brokerCpuSeconds: 0.07 },
    { target: 'kproxy-mesh', round: 2, result: result(2000, 2000), cpuSeconds: 1, brokerCpuSeconds: 0.04, produce: { client: 2000, upstream: 250 } }
  ]
  const rows = summarizeRounds(['direct', 'kproxy-mesh'], rounds, new Map())
  t.ok(Math.abs(rows[0]!.brokerCpuUsPerRecord! - 60) < 1e-9, 'median of 50 and 70 µs per record')
  t.ok(Math.abs(rows[1]!.brokerCpuUsPerRecord! - 15) < 1e-9, 'median of 10 and 20 µs per record')
  t.equal(rows[0]!.clientPerUpstream, null, 'direct coalesces nothing')
  t.equal(rows[1]!.clientPerUpstream, 10, '4000 client requests in 400 upstream ones')
  const table = compareTable('produce', rows)
  t.match(table, /p99 x direct\s+broker CPU µs\/record\s+client req per upstream req\n/)
  t.match(table, /kproxy-mesh\s+2 .*\s+15\.0\s+10\.0\n?/)
  t.match(table, /direct\s+2 .*\s+60\.0\s+n\/a\n/)
  // rounds without these measurements (an external cluster, broker mode) leave the columns out
  t.notMatch(compareTable('produce', summarizeRounds(['direct'], [{ target: 'direct', round: 1, result: result(1000, 2000), cpuSeconds: null }], new Map())), /broker CPU|upstream req/)
})

t.test('mesh produce counters from a /metrics page, summed over clusters', async t => {
  const page = [
    '# TYPE kproxy_filter_events_total counter',
    'kproxy_filter_events_total{filter="mesh:a",event="produce_client_requests"} 1200',
    'kproxy_filter_events_total{filter="mesh:a",event="produce_requests"} 100',
    'kproxy_filter_events_total{filter="mesh:b",event="produce_client_requests"} 300',
    'kproxy_filter_events_total{filter="mesh:b",event="produce_requests"} 50',
    'kproxy_filter_events_total{filter="mesh:b",event="fetch_requests"} 7',
    'kproxy_filter_events_total{filter="faultInjection",event="produce_requests"} 999'
  ].join('\n')
  t.same(meshProduceCounters(page), { client: 1500, upstream: 150 })
  t.same(meshProduceCounters(''), { client: 0, upstream: 0 })
})
