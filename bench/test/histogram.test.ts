import t from 'tap'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { encodeHistogram, mergeHistograms, newHistogram, recordUs, summarize, toHgrm } from '../src/histogram.ts'
import { mergeResults, splitLanes } from '../src/load.ts'
import type { ThreadResult } from '../src/generator.ts'

const hdrPath = createRequire(import.meta.url).resolve('hdr-histogram-js')

// Histograms recorded in real worker threads, sent back encoded, merged here.
function recordInThread (values: number[]): Promise<string> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { build, encodeIntoCompressedBase64 } = require(${JSON.stringify(hdrPath)})
    const h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3600000000, numberOfSignificantValueDigits: 3 })
    for (const v of workerData) h.recordValue(v)
    parentPort.postMessage(encodeIntoCompressedBase64(h))`
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: values })
    w.once('message', m => { resolve(m as string); void w.terminate() })
    w.once('error', reject)
  })
}

t.test('histograms from several threads merge into one distribution', async t => {
  const a = Array.from({ length: 900 }, (_v, i) => 100 + (i % 100))
  const b = Array.from({ length: 100 }, () => 50_000)
  const merged = mergeHistograms(await Promise.all([recordInThread(a), recordInThread(b)]))
  const s = summarize(merged)
  t.equal(s.count, 1000)
  t.ok(s.p50 >= 140 && s.p50 <= 160, `p50 ${s.p50}`)
  t.ok(Math.abs(s.p99 - 50_000) <= 50, `p99 ${s.p99}`)
  t.ok(Math.abs(s.max - 50_000) <= 50, `max ${s.max}`)
})

t.test('thread results add up', async t => {
  const h1 = newHistogram(); recordUs(h1, 10); recordUs(h1, 20)
  const h2 = newHistogram(); recordUs(h2, 30)
  const base: Omit<ThreadResult, 'histogram' | 'sendLag'> = { requests: 2, records: 200, payloadBytes: 1000, bytesOut: 10, bytesIn: 5, errors: { NOT_LEADER_OR_FOLLOWER: 1 }, unsent: 0, unanswered: 0, elapsedMs: 1000, failure: null }
  const m = mergeResults([{ ...base, histogram: encodeHistogram(h1), sendLag: encodeHistogram(h2) }, { ...base, histogram: encodeHistogram(h2), sendLag: encodeHistogram(h2), elapsedMs: 1200, errors: { NOT_LEADER_OR_FOLLOWER: 2, REQUEST_TIMED_OUT: 1 } }])
  t.equal(m.histogram.totalCount, 3)
  t.equal(m.sendLag.totalCount, 2)
  t.equal(m.records, 400)
  t.equal(m.elapsedMs, 1200)
  t.same(m.errors, { NOT_LEADER_OR_FOLLOWER: 3, REQUEST_TIMED_OUT: 1 })
  t.same(splitLanes([1, 2, 3, 4, 5].map(i => ({ host: 'h', port: i, partitions: [] })), 2).map(g => g.map(l => l.port)), [[1, 3, 5], [2, 4]])
  t.equal(splitLanes([{ host: 'h', port: 1, partitions: [] }], 8).length, 1)
})

t.test('.hgrm is HdrHistogram percentile distribution text in milliseconds', async t => {
  const h = newHistogram()
  for (let i = 1; i <= 1000; i++) recordUs(h, i * 10)
  const text = toHgrm(h)
  const lines = text.trimEnd().split('\n')
  t.match(lines[0], /^\s*Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)$/)
  const rows = lines.filter(l => /^\s*\d/.test(l)).map(l => l.trim().split(/\s+/).map(Number))
  t.ok(rows.length > 20)
  for (const r of rows) t.equal(r.length, r[1] === 1 ? 3 : 4)
  // values in ms, ascending percentiles, the last row is 100% at the max (10 ms)
  for (let i = 1; i < rows.length; i++) t.ok(rows[i]![1]! >= rows[i - 1]![1]!, 'percentiles ascend')
  t.ok(Math.abs(rows[rows.length - 1]![0]! - 10) <= 0.01, 'the last row is the max, 10 ms within HDR precision')
  t.equal(rows[rows.length - 1]![2], 1000)
  t.match(text, /#\[Mean\s+=\s+[\d.]+, StdDeviation\s+=\s+[\d.]+\]/)
  t.match(text, /#\[Max\s+=\s+10\.000, Total count\s+=\s+1000\]/)
  t.match(text, /#\[Buckets =\s+\d+, SubBuckets\s+=\s+\d+\]/)
})
