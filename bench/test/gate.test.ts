// The release gate end to end: one real short run (its own Kafka sandbox and kproxy) against a
// thresholds file asking for 50× direct's produce throughput must fail naming that metric; the
// measurements it stored are then re-evaluated (--from-results) against passing and failing
// thresholds, and malformed files give exit 2 with one sentence, before anything is started.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_THRESHOLDS, loadThresholds, parseGateArgs } from '../src/gate.ts'
import { evaluate, gateTable } from '../src/gate-thresholds.ts'
import type { GateRound, GateScenario, GateTarget } from '../src/gate-thresholds.ts'

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'kproxy-gate-test-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function thresholdsFile (name: string, thresholds: unknown): string {
  const f = join(dir, name)
  writeFileSync(f, typeof thresholds === 'string' ? thresholds : JSON.stringify({ thresholds }))
  return f
}

function gate (args: string[], timeoutMs = 30_000): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [main, 'gate', ...args], { encoding: 'utf8', timeout: timeoutMs })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('the committed bench/gate.json parses and checks every metric', async t => {
  const th = loadThresholds(DEFAULT_THRESHOLDS)
  t.same(th.map(x => x.metric).sort(), ['kproxy.failedRequests', 'produce.envoyCpuRatio', 'produce.envoyRatio', 'produce.throughputRatio', 'roundtrip.addedP50Ms', 'roundtrip.addedP99Ms', 'roundtrip.envoyCpuRatio', 'roundtrip.p99Ratio', 'roundtrip.throughputRatio'])
  t.ok(th.every(x => x.comment.length > 10), 'every threshold says what it means')
})

t.test('bad usage and malformed thresholds: exit 2, one sentence, nothing started', async t => {
  const malformed = gate(['--thresholds', thresholdsFile('broken.json', '{ "thresholds": { "produce.throughputRatio": ')])
  t.equal(malformed.status, 2)
  t.match(malformed.stderr, /^kproxy bench gate: The thresholds file .*broken\.json is not valid JSON \(.*\)\.\n$/)
  const unknown = gate(['--thresholds', thresholdsFile('unknown.json', { 'produce.speed': { min: 1 } })])
  t.equal(unknown.status, 2)
  t.match(unknown.stderr, /names an unknown metric 'produce\.speed'; known: produce\.throughputRatio, /)
  const noBound = gate(['--thresholds', thresholdsFile('nobound.json', { 'produce.throughputRatio': { min: '0.5' } })])
  t.equal(noBound.status, 2)
  t.match(noBound.stderr, /produce\.throughputRatio must have numeric "min" and\/or "max", not "0\.5"\./)
  const missing = gate(['--thresholds', join(dir, 'nope.json')])
  t.equal(missing.status, 2)
  t.match(missing.stderr, /^kproxy bench gate: Cannot read the thresholds file .*nope\.json \(ENOENT\)\.\n$/)
  const flag = gate(['--rounds', 'many'])
  t.equal(flag.status, 2)
  t.match(flag.stderr, /--rounds must be a whole number from 1 to 20, not 'many'\./)
  t.throws(() => parseGateArgs(['--from-results', 'x.json', '--rounds', '2']), /takes only --thresholds and --json/)
  t.throws(() => parseGateArgs(['--from-results', 'x.json', '--envoy', 'off']), /takes only --thresholds and --json/)
  t.throws(() => parseGateArgs(['--envoy', 'maybe']), /--envoy must be auto or off, not 'maybe'\./)
  t.equal(parseGateArgs([]).envoy, 'auto', 'Envoy is measured when installed unless --envoy off')
  // a gate that started a sandbox or a kproxy says so on stdout/stderr before anything else
  for (const r of [malformed, unknown, noBound, missing, flag]) t.notMatch(r.stdout + r.stderr, /sandbox|Kafka|kproxy serve|starting/i, 'no sandbox was started')
})

t.test('a real short run fails a threshold above what is measured; stored results re-evaluate deterministically', async t => {
  const out = join(dir, 'run')
  const tooHigh = thresholdsFile('too-high.json', { 'produce.throughputRatio': { min: 50, comment: 'far above anything measurable' }, 'roundtrip.throughputRatio': { min: 0.01 } })
  const started = Date.now()
  const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => {
    // --envoy off: the same two targets whether or not this machine has Envoy installed
    const child = spawn(process.execPath, [main, 'gate', '--thresholds', tooHigh, '--rounds', '1', '--duration', '1', '--warmup', '0', '--envoy', 'off', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', b => { stdout += b })
    child.stderr.on('data', b => { stderr += b })
    const timer = setTimeout(() => child.kill('SIGINT'), 120_000)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
  t.comment(`gate run took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.comment(run.stdout)
  if (run.code !== 1) t.comment(run.stderr.slice(-2000))
  t.equal(run.code, 1, 'exit 1: a metric is outside its threshold')
  t.match(run.stdout, /\nproduce\.throughputRatio\s+\d+\.\d{3}\s+>= 50\.000\s+FAIL\n/)
  t.match(run.stdout, /\nroundtrip\.throughputRatio\s+\d+\.\d{3}\s+>= 0\.010\s+pass\n/)
  t.match(run.stdout, /\ngate: FAIL \(produce\.throughputRatio\)\n$/)
  t.match(run.stdout, /\nproduce\s+direct\s+1\s+\d+/)
  t.match(run.stdout, /\nroundtrip\s+kproxy\s+1\s+\d+/)

  const results = join(out, 'gate-results.json')
  const stored = JSON.parse(readFileSync(results, 'utf8'))
  t.equal(stored.pass, false)
  t.equal(stored.rounds.length, 4, 'produce and roundtrip, direct and kproxy, one round each')
  const produce = stored.metrics.find((m: { metric: string }) => m.metric === 'produce.throughputRatio')
  t.ok(produce.value > 0 && produce.value < 50, `measured ratio ${produce.value}`)
  t.same(readdirSync(join(out, 'produce')).sort(), ['direct.hgrm', 'kproxy.hgrm', 'latency.svg', 'results.json'])
  t.same(readdirSync(join(out, 'roundtrip')).sort(), ['direct.hgrm', 'kproxy.hgrm', 'latency.svg', 'results.json'])
  t.match(readFileSync(join(out, 'gate.txt'), 'utf8'), /gate: FAIL \(produce\.throughputRatio\)/)

  // the same numbers against thresholds just below and just above what was measured
  const below = thresholdsFile('below.json', { 'produce.throughputRatio': { min: produce.value * 0.99 } })
  const pass = gate(['--from-results', results, '--thresholds', below])
  t.equal(pass.status, 0, pass.stderr)
  t.match(pass.stdout, /\ngate: PASS \(1 of 1 metrics within thresholds\)\n$/)
  const above = thresholdsFile('above.json', { 'produce.throughputRatio': { min: produce.value * 1.01 } })
  const fail = gate(['--from-results', results, '--thresholds', above, '--json'])
  t.equal(fail.status, 1)
  const report = JSON.parse(fail.stdout)
  t.match(report, { pass: false, metrics: [{ metric: 'produce.throughputRatio', pass: false }] })
  t.equal(report.metrics[0].value, produce.value, 'the stored measurements give the same value again')

  const notResults = gate(['--from-results', tooHigh])
  t.equal(notResults.status, 2)
  t.match(notResults.stderr, /^kproxy bench gate: The results file .*too-high\.json holds no gate measurements/)
})

// Envoy rounds of made-up numbers: the kproxy ÷ Envoy metrics are the ratios of medians (of CPU
// per GB too), and a run without Envoy skips them instead of failing.
function round (scenario: GateScenario, target: GateTarget, i: number, throughput: number, cpuSecondsPerGB: number | null): GateRound {
  return { scenario, target, round: i, throughput, p50Us: 200, p99Us: 900, p999Us: 1500, errors: 0, unanswered: 0, unsent: 0, cpuSecondsPerGB }
}

t.test('kproxy ÷ Envoy metrics: ratios of medians; skipped, not failed, without Envoy rounds', async t => {
  const rounds: GateRound[] = []
  for (let i = 1; i <= 3; i++) {
    rounds.push(round('produce', 'direct', i, 1000, null), round('produce', 'kproxy', i, [800, 900, 100][i - 1]!, [1.0, 1.2, 9][i - 1]!), round('produce', 'envoy', i, 1000, 0.6))
    rounds.push(round('roundtrip', 'direct', i, 500, null), round('roundtrip', 'kproxy', i, 500, 150 + i), round('roundtrip', 'envoy', i, 500, 100))
  }
  const thresholds = loadThresholds(thresholdsFile('envoy.json', {
    'produce.envoyRatio': { min: 0.85 },
    'produce.envoyCpuRatio': { max: 2.5 },
    'roundtrip.envoyCpuRatio': { max: 1.5 },
    'produce.throughputRatio': { min: 0.5 }
  }))
  const m = { workload: { produce: [], roundtrip: [] }, rounds }
  const v = Object.fromEntries(evaluate(m, thresholds).map(x => [x.metric, x]))
  t.equal(v['produce.envoyRatio']!.value, 0.8, 'median 800 ÷ median 1000')
  t.equal(v['produce.envoyRatio']!.pass, false)
  t.equal(v['produce.envoyCpuRatio']!.value, 2, 'median 1.2 ÷ 0.6')
  t.equal(v['roundtrip.envoyCpuRatio']!.value, 1.52, 'median 152 ÷ 100')
  t.equal(v['roundtrip.envoyCpuRatio']!.pass, false)
  t.match(gateTable(m, Object.values(v)), /\nproduce\s+envoy\s+3\s+1000\s+1000-1000\s+0\.200\s+0\.900\s+0\.900-0\.900\s+0\.60\n/)
  t.match(gateTable(m, Object.values(v)), /gate: FAIL \(produce\.envoyRatio, roundtrip\.envoyCpuRatio\)$/)

  const without = { workload: m.workload, rounds: rounds.filter(r => r.target !== 'envoy') }
  const w = evaluate(without, thresholds)
  t.same(w.filter(x => x.skipped !== null).map(x => x.metric).sort(), ['produce.envoyCpuRatio', 'produce.envoyRatio', 'roundtrip.envoyCpuRatio'])
  t.ok(w.every(x => x.pass), 'skipped metrics pass; produce.throughputRatio 800 ÷ 1000 passes its 0.5')
  t.match(gateTable(without, w), /produce\.envoyRatio\s+n\/a\s+>= 0\.850\s+skipped: no Envoy rounds in this run\n/)
  t.match(gateTable(without, w), /gate: PASS \(1 of 1 metrics within thresholds; 3 skipped: no Envoy rounds in this run\)$/)
})
