// Against a real 1-node Kafka sandbox: the generator's records really land, roundtrip works,
// compare with the single target direct gives the table and files, bad targets fail fast.
import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startCluster } from '@kproxy/cli/sandbox/cluster'
import { compareTable, runCompare } from '../src/compare.ts'
import { parseBenchArgs } from '../src/options.ts'
import { runScenario, topicEndOffsets, leadersOf } from '../src/scenarios.ts'

const cluster = await startCluster({ brokers: 1 })
t.teardown(() => cluster.stop())
const bootstrap = cluster.bootstrap
const outDir = mkdtempSync(join(tmpdir(), 'kproxy-bench-test-'))
t.teardown(() => rmSync(outDir, { recursive: true, force: true }))

t.test('produce acks=1 for 3 s: records/s > 0 and every acknowledged record is in the log', async t => {
  const options = parseBenchArgs(['produce', '--target', bootstrap, '--duration', '3', '--acks', '1', '--partitions', '3', '--topic', 'bench-produce-test', '--records-per-batch', '50'])
  const r = await runScenario(options)
  t.comment(`produce: ${r.recordsPerSec} records/s, ${r.mbPerSec} MB/s, p99 ${r.latencyUs.p99} µs`)
  t.ok(r.recordsPerSec > 0)
  t.same(r.errors, {})
  t.equal(r.unanswered, 0)
  t.equal(r.records, r.latencyUs.count * 50, 'every answered request carried 50 records')
  const ends = await topicEndOffsets('bench-produce-test', await leadersOf(options))
  let total = 0n
  for (const v of ends.values()) total += v
  t.equal(ends.size, 3)
  t.equal(Number(total), r.records, 'ListOffsets end offsets add up to the records sent')
})

t.test('roundtrip ApiVersions pipelined, and Metadata one at a time', async t => {
  const a = await runScenario(parseBenchArgs(['roundtrip', '--target', bootstrap, '--duration', '1', '--connections', '1', '--pipeline', '8']))
  t.ok(a.requestsPerSec > 100, `${a.requestsPerSec} req/s`)
  t.ok(a.latencyUs.p50 > 0 && a.latencyUs.p50 <= a.latencyUs.p99)
  const m = await runScenario(parseBenchArgs(['roundtrip', '--target', bootstrap, '--duration', '1', '--connections', '2', '--request', 'metadata', '--rate', '200']))
  t.ok(m.latencyUs.count >= 150, `${m.latencyUs.count} answered at 200/s for 1 s`)
})

t.test('fetch reads a pre-filled topic; connections reports the broker\'s memory per connection', async t => {
  const f = await runScenario(parseBenchArgs(['fetch', '--target', bootstrap, '--duration', '1', '--prefill-mb', '4', '--partitions', '2', '--connections', '2', '--topic', 'bench-fetch-test']))
  const ends = await topicEndOffsets('bench-fetch-test', await leadersOf(parseBenchArgs(['fetch', '--target', bootstrap, '--partitions', '2', '--topic', 'bench-fetch-test'])))
  let total = 0n
  for (const v of ends.values()) total += v
  t.ok(Number(total) * 1024 >= 4e6, `pre-filled ${total} records`)
  t.ok(f.records > 0 && f.mbPerSec > 0, `${f.recordsPerSec} records/s, ${f.mbPerSec} MB/s`)
  t.same(f.errors, {})
  const pid = [...cluster.pids().values()][0]!
  const c = await runScenario(parseBenchArgs(['connections', '--target', bootstrap, '--count', '60', '--target-pid', String(pid)]))
  t.equal(c.latencyUs.count, 60)
  t.equal(c.memory?.connections, 60)
  t.ok(c.memory!.rssAfterKiB > 0 && c.memory!.rssBeforeKiB > 0)
})

t.test('--pin-target sends every partition to --target', async t => {
  const r = await runScenario(parseBenchArgs(['produce', '--target', bootstrap.replace('127.0.0.1', 'localhost'), '--pin-target', '--duration', '1', '--partitions', '2', '--topic', 'bench-pin-test']))
  t.ok(r.records > 0)
  t.same(r.errors, {})
})

t.test('compare with direct (and an Envoy that is not there) prints the table and writes .hgrm, JSON and SVG', async t => {
  const dir = join(outDir, 'compare')
  const { rows, files } = await runCompare({ scenario: 'produce', targets: ['direct', 'envoy'], envoyBin: '/nonexistent/envoy', rounds: 2, warmupSeconds: 1, bootstrap, brokers: 1, out: dir, json: false, rest: ['--duration', '1', '--topic', 'bench-compare-test'] }, () => {})
  t.equal(rows.length, 2)
  t.match(rows[1], { target: 'envoy', skipped: 'no Envoy binary at /nonexistent/envoy', rounds: 0 })
  t.match(rows[0], { target: 'direct', skipped: null, rounds: 2, throughputRatio: 1, p99Ratio: 1, cpuSecondsPerGB: null })
  t.ok(rows[0]!.throughput > 0)
  const table = compareTable('produce', rows)
  t.comment(table)
  t.match(table, /\nenvoy: skipped: no Envoy binary at \/nonexistent\/envoy$/)
  t.match(table, /^target\s+rounds\s+records\/s\s+MB\/s\s+p50 ms\s+p99 ms\s+p99\.9 ms\s+CPU s\/GB\s+records\/s x direct\s+p99 x direct\ndirect\s+2\s+\d+/)
  t.same(files.map(f => f.slice(dir.length + 1)).sort(), ['direct.hgrm', 'latency.svg', 'results.json'])
  t.match(readFileSync(join(dir, 'direct.hgrm'), 'utf8'), /Value\s+Percentile\s+TotalCount/)
  t.equal(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).results[0].label, 'direct')
})

t.test('bad targets: one sentence, non-zero exit, no hang', async t => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
  const started = Date.now()
  const run = spawnSync(process.execPath, [main, 'produce', '--target', '127.0.0.1:1', '--duration', '1'], { encoding: 'utf8', timeout: 30_000 })
  t.equal(run.status, 1)
  t.equal(run.stderr.trim(), 'kproxy bench: Cannot connect to 127.0.0.1:1 (ECONNREFUSED); check that the target is running.')
  const usage = spawnSync(process.execPath, [main, 'produce', '--target', bootstrap, '--acks', 'some'], { encoding: 'utf8', timeout: 30_000 })
  t.equal(usage.status, 2)
  t.match(usage.stderr, /^kproxy bench: --acks must be 0, 1 or all, not 'some'\./)
  // a listener that accepts and never answers: the run ends with an error instead of hanging
  const silent = createServer(() => {})
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  const port = (silent.address() as { port: number }).port
  const r = await new Promise<{ code: number | null, stderr: string }>(resolve => {
    const child = execFile(process.execPath, [main, 'roundtrip', '--target', `127.0.0.1:${port}`, '--duration', '1'], { timeout: 60_000 }, (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }))
  })
  silent.close()
  t.equal(r.code, 1)
  t.match(r.stderr, /^kproxy bench: 127\.0\.0\.1:\d+ did not answer ApiVersions within 15000 ms\.\n$/)
  t.ok(Date.now() - started < 80_000)
  t.notOk(existsSync(join(outDir, 'never')))
})
