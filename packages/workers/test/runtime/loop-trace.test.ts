// The loop trace (KPROXY_LOOP_TRACE_DIR): off without the variable; with it, a worker's file shows
// a loop blocked for 40 ms as a delay of about that much, and the collections that allocation
// caused, by kind, with the longest kept.
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOOP_TRACE_ENV, loopTraceFromEnv } from '../../src/runtime/loop-trace.ts'
import type { LoopTraceSummary } from '../../src/runtime/loop-trace.ts'

t.test('off unless the variable names a directory', async t => {
  t.equal(loopTraceFromEnv(0, {}), null)
  t.equal(loopTraceFromEnv(0, { [LOOP_TRACE_ENV]: '' }), null)
})

t.test('a blocked loop and garbage collections, written to loop-trace-<pid>-w<worker>.json', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-loop-trace-'))
  const trace = loopTraceFromEnv(3, { [LOOP_TRACE_ENV]: dir })!
  // let the 1 ms sampling run, then block the loop for 40 ms
  await new Promise(resolve => setTimeout(resolve, 50))
  const until = performance.now() + 40
  while (performance.now() < until) { /* blocked */ }
  // allocation enough for young-generation collections
  let keep: unknown[] = []
  for (let i = 0; i < 200; i++) {
    keep = Array.from({ length: 10_000 }, (_, j) => ({ i, j }))
    await new Promise(resolve => setImmediate(resolve))
  }
  t.ok(keep.length > 0)
  await new Promise(resolve => setTimeout(resolve, 50))
  trace.stop()
  const files = readdirSync(dir)
  t.same(files, [`loop-trace-${process.pid}-w3.json`])
  const s = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as LoopTraceSummary
  t.equal(s.worker, 3)
  t.ok(s.loopDelayMs.max >= 35, `the 40 ms block shows as the largest delay: ${s.loopDelayMs.max} ms`)
  t.ok(s.loopDelayMs.p50 < 20, `most samples are not delayed much: p50 ${s.loopDelayMs.p50} ms`)
  t.ok(s.loopDelayMs.samples > 10, `samples taken: ${s.loopDelayMs.samples}`)
  const gcs = Object.values(s.gc.byKind).reduce((n, k) => n + k.count, 0)
  t.ok(gcs > 0, `collections counted: ${JSON.stringify(s.gc.byKind)}`)
  t.equal(s.gc.pausesByBucketMs.reduce((n, b) => n + b.count, 0), gcs, 'every pause in one bucket')
  t.ok(s.gc.longest.length > 0 && s.gc.longest.length <= 20, 'the longest pauses kept, at most 20')
  t.ok(s.gc.longest.every((p, i, a) => i === 0 || a[i - 1]!.ms >= p.ms), 'longest first')
  t.ok(s.gc.pausedShare > 0 && s.gc.pausedShare < 1)
})
