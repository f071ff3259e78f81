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
  t.same(th.map(x => x.metric).sort(), ['kproxy.failedRequests', 'produce.throughputRatio', 'roundtrip.addedP50Ms', 'roundtrip.addedP99Ms', 'roundtrip.p99Ratio', 'roundtrip.throughputRatio'])
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
  // a gate that started a sandbox or a kproxy says so on stdout/stderr before anything else
  for (const r of [malformed, unknown, noBound, missing, flag]) t.notMatch(r.stdout + r.stderr, /sandbox|Kafka|kproxy serve|starting/i, 'no sandbox was started')
})

t.test('a real short run fails a threshold above what is measured; stored results re-evaluate deterministically', async t => {
  const out = join(dir, 'run')
  const tooHigh = thresholdsFile('too-high.json', { 'produce.throughputRatio': { min: 50, comment: 'far above anything measurable' }, 'roundtrip.throughputRatio': { min: 0.01 } })
  const started = Date.now()
  const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => {
    const child = spawn(process.execPath, [main, 'gate', '--thresholds', tooHigh, '--rounds', '1', '--duration', '1', '--warmup', '0', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
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
