import t from 'tap'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { summarizeRounds } from '../src/compare.ts'
import type { Round } from '../src/compare.ts'
import { newHistogram } from '../src/histogram.ts'
import type { ScenarioResult } from '../src/scenarios.ts'
import { tableChartSvg } from '../src/table-chart.ts'
import { cpuUsPerRequest, tableLine, tableMarkdown, tableRows, tableText } from '../src/table-report.ts'
import { parseTableArgs } from '../src/table.ts'

function result (scenario: string, perSec: number, p50Us: number, p99Us: number, wireBytes: number, requests: number, kib: number | null = null): ScenarioResult {
  return {
    label: 'x', scenario, target: 'h:1', durationMs: 1000, requests, records: perSec, requestsPerSec: perSec, recordsPerSec: perSec,
    mbPerSec: perSec / 1000, wireBytes, latencyUs: { count: 1, p50: p50Us, p90: p99Us, p99: p99Us, p999: p99Us, max: p99Us, mean: p50Us },
    sendLagUs: null, errors: {}, unsent: 0, unanswered: 0, memory: kib === null ? null : { connections: 100, rssBeforeKiB: 0, rssAfterKiB: kib * 100, perConnectionKiB: kib }, histogram: newHistogram()
  }
}

// one round of a target
const at = (target: string, r: ScenarioResult, cpuSeconds: number | null): Round => ({ target, round: 1, result: r, cpuSeconds })

const rows = tableRows(6, 9900)
const def = (id: string): (typeof rows)[number] => rows.find(r => r.id === id)!

t.test('every row of the issue, in its order, with its peer and floor', async t => {
  t.same(rows.map(r => r.id), ['produce', 'fetch', 'double', 'two-threads', 'roundtrip-1000', 'roundtrip-5000', 'idle'])
  t.match(def('double'), { proxy: 'kproxy-double', peer: 'envoy-double', floor: 'node-pipe-double', scenario: 'produce' })
  t.match(def('two-threads'), { proxy: 'kproxy-2w', peer: 'envoy-2', floor: null })
  t.same(def('roundtrip-5000').args, ['--rate', '5000', '--connections', '1', '--duration', '8'])
  t.same(def('idle').args, ['--count', '9900'])
  for (const r of rows) t.ok(r.targets.includes('direct') && r.targets.includes(r.proxy) && r.targets.includes(r.peer), r.id)
})

t.test('produce: ratios to direct and to Envoy, CPU per GB, and each target met or missed by how much', async t => {
  const rounds: Round[] = []
  for (let round = 1; round <= 3; round++) {
    rounds.push({ target: 'direct', round, result: result('produce', 1000, 1000, 5000, 1e9, 10), cpuSeconds: null })
    rounds.push({ target: 'kproxy', round, result: result('produce', 850, 1000, 5000, 1e9, 10), cpuSeconds: 0.8 })
    rounds.push({ target: 'envoy', round, result: result('produce', 800, 1000, 5000, 1e9, 10), cpuSeconds: 0.6 })
    rounds.push({ target: 'node-pipe', round, result: result('produce', 900, 1000, 5000, 1e9, 10), cpuSeconds: 0.66 })
  }
  const d = def('produce')
  const line = tableLine(d, summarizeRounds(d.targets, rounds, new Map([['haproxy', 'not installed']])), rounds)
  t.equal(line.timesDirect.kproxy, 0.85)
  t.equal(line.timesDirect.haproxy, null)
  t.ok(Math.abs(line.overPeer! - 850 / 800) < 1e-9)
  t.equal(line.cpu.kproxy, 0.8)
  t.same(line.skipped, ['haproxy: not installed'])
  t.match(line.targets[0], { what: /CPU s\/GB ≤ envoy's/, met: false, by: '1.333 (missed by 33%)' })
  t.match(line.targets[1], { what: /throughput ≥ 1.0× envoy/, met: true, by: '1.063 (6% to spare)' })
  t.match(line.targets[2], { what: /0.9× direct/, met: false, by: '0.850 (missed by 6%)' })
  const md = tableMarkdown([d], [line])
  t.match(md, /\| produce \(kproxy vs envoy\) \| 0\.850 \| 0\.800 \| – \| 0\.900 \| 1\.063 \| 0\.80 vs 0\.60 CPU s\/GB \(1\.33×\) \| 1\.10 \|/)
  t.match(md, /- produce: CPU s\/GB ≤ envoy's \(kproxy ÷ envoy\): missed, 1\.333 \(missed by 33%\)/)
  t.match(md, /Skipped:\n- produce: skipped haproxy: not installed/)
  t.match(tableText([d], [line]), /produce\s+0\.850\s+0\.800\s+1\.063\s+0\.80\s+0\.60\s+CPU s\/GB/)
})

t.test('round trips: CPU per request from each round, added latency over direct', async t => {
  const rounds: Round[] = [
    at('direct', result('roundtrip', 1000, 1000, 3000, 1e6, 8000), null),
    at('kproxy', result('roundtrip', 1000, 1100, 3500, 1e6, 8000), 0.8),
    at('envoy', result('roundtrip', 1000, 1050, 3200, 1e6, 8000), 0.4),
    at('node-pipe', result('roundtrip', 1000, 1050, 3300, 1e6, 8000), 0.48)
  ]
  t.equal(cpuUsPerRequest(rounds, 'kproxy'), 100)
  t.equal(cpuUsPerRequest(rounds, 'direct'), null)
  const d = def('roundtrip-1000')
  const line = tableLine(d, summarizeRounds(d.targets, rounds, new Map()), rounds)
  t.equal(line.cpu.envoy, 50)
  t.ok(Math.abs(line.addedP99Ms.kproxy! - 0.5) < 1e-9)
  t.match(line.targets[0], { met: false, by: '2.000 (missed by 100%)' })
  t.match(line.targets[1], { what: "added p99 ≤ envoy's", met: false, by: '0.500 ms against 0.200 ms' })
  t.match(tableMarkdown([d], [line]), /100\.0 vs 50\.0 µs\/request \(2\.00×\) \| 1\.20 \| 0\.100 \/ 0\.50 vs 0\.050 \/ 0\.20 \|/)
})

t.test('idle connections: KiB per connection against the 10 KiB bound; a missing peer is "not measured"', async t => {
  const rounds: Round[] = [
    at('direct', result('connections', 0, 0, 0, 0, 0, 7), null),
    at('kproxy', result('connections', 0, 0, 0, 0, 0, 9.4), null)
  ]
  const d = def('idle')
  const line = tableLine(d, summarizeRounds(d.targets, rounds, new Map([['envoy', 'not installed']])), rounds)
  t.match(line.targets, [{ met: true, by: '9.40 KiB against 10 KiB' }])
  t.match(tableMarkdown([d], [line]), /\| 9,900 idle connections \(kproxy vs envoy\) \| – \| – \| – \| – \| – \| – \| – \| – \| 9\.4 vs – \(broker 7\.0\) \|/)
  const fetch = def('fetch')
  const none = tableLine(fetch, summarizeRounds(fetch.targets, [], new Map()), [])
  t.ok(none.targets.every(x => !x.met && x.by === 'not measured'))
})

t.test('the chart has a bar per measured ratio and the 1.0 line', async t => {
  const rounds: Round[] = [
    at('direct', result('produce', 1000, 1, 1, 1e9, 1), null),
    at('kproxy', result('produce', 900, 1, 1, 1e9, 1), 0.9),
    at('envoy', result('produce', 1000, 1, 1, 1e9, 1), 0.6),
    at('node-pipe', result('produce', 1000, 1, 1, 1e9, 1), 0.66)
  ]
  const d = def('produce')
  const svg = tableChartSvg('t <1>', [d], [tableLine(d, summarizeRounds(d.targets, rounds, new Map()), rounds)])
  t.match(svg, /^<svg /)
  t.match(svg, /t &lt;1&gt;/)
  t.equal(svg.match(/<rect [^>]*height="14"/g)?.length, 3)
  t.match(svg, />0\.90</)
  t.match(svg, />1\.50</)
  t.match(svg, />1\.10</)
  t.match(svg, /stroke-dasharray/)
})

t.test('table arguments', async t => {
  t.match(parseTableArgs([]), { rounds: 5, seconds: 6, warmup: 2, idle: 9900, only: null, out: 'bench/results/table-latest' })
  t.match(parseTableArgs(['--only', 'produce,idle', '--rounds', '3']), { only: ['produce', 'idle'], rounds: 3 })
  const bad = (argv: string[]): string => {
    try { parseTableArgs(argv) } catch (err) { if (isKproxyError(err, 'KPROXY_ERR_BENCH_USAGE')) return err.message; throw err }
    return 'no error'
  }
  t.match(bad(['--only', 'nope']), /unknown row 'nope'/)
  t.match(bad(['--rounds', '0']), /--rounds must be a whole number/)
  t.match(bad(['--idle-connections', '20000']), /--idle-connections must be/)
  t.match(bad(['--frobnicate']), /Unknown option/)
})
