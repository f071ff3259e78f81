// Spreads lanes over generator worker threads, waits for them with a hard deadline, and merges
// their histograms and counters.
import { Worker } from 'node:worker_threads'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { Lane, LoadCounters, ThreadResult } from './generator.ts'
import { mergeHistograms } from './histogram.ts'
import type { Histogram } from './histogram.ts'
import type { BenchOptions } from './options.ts'

// elapsedMs here is the measured window: from the first request to the last answer (longest thread)
export interface LoadResult extends LoadCounters {
  histogram: Histogram
  sendLag: Histogram
  threads: number
}

// Lanes round-robin over at most options.threads threads.
export function splitLanes (lanes: readonly Lane[], threads: number): Lane[][] {
  const n = Math.max(1, Math.min(threads, lanes.length))
  const out: Lane[][] = Array.from({ length: n }, () => [])
  lanes.forEach((l, i) => out[i % n]!.push(l))
  return out
}

export function mergeResults (results: readonly ThreadResult[]): LoadResult {
  const errors: Record<string, number> = {}
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
  const sum = (f: (r: ThreadResult) => number): number => results.reduce((a, r) => a + f(r), 0)
  return {
    histogram: mergeHistograms(results.map(r => r.histogram)),
    sendLag: mergeHistograms(results.map(r => r.sendLag)),
    requests: sum(r => r.requests),
    records: sum(r => r.records),
    payloadBytes: sum(r => r.payloadBytes),
    bytesOut: sum(r => r.bytesOut),
    bytesIn: sum(r => r.bytesIn),
    errors,
    unsent: sum(r => r.unsent),
    unanswered: sum(r => r.unanswered),
    elapsedMs: Math.max(1, ...results.map(r => r.elapsedMs)),
    throttled: sum(r => r.throttled ?? 0),
    throttleMs: sum(r => r.throttleMs ?? 0),
    threads: results.length
  }
}

export async function runLoad (options: BenchOptions, lanes: readonly Lane[], requestLimit: number | null = null): Promise<LoadResult> {
  const groups = splitLanes(lanes, options.threads)
  const workers: Worker[] = []
  // connect timeouts, the duration and the bounded drain all fit in this
  const deadlineMs = (requestLimit === null ? options.durationMs : 300_000) + 30_000
  let timer: NodeJS.Timeout | null = null
  try {
    const results = await Promise.race([
      Promise.all(groups.map(group => new Promise<ThreadResult>((resolve, reject) => {
        const w = new Worker(new URL('./generator-thread.ts', import.meta.url), { workerData: { options, lanes: group, requestLimit } })
        workers.push(w)
        w.once('message', resolve)
        w.once('error', reject)
        w.once('exit', code => reject(new KproxyError('KPROXY_ERR_BENCH_RUN', `a generator thread exited (code ${code}) without a result`)))
      }))),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new KproxyError('KPROXY_ERR_BENCH_TIMEOUT', `The load run did not finish within ${deadlineMs} ms; the target stopped answering.`)), deadlineMs)
      })
    ])
    const failed = results.find(r => r.failure !== null)
    if (failed !== undefined) throw new KproxyError('KPROXY_ERR_BENCH_RUN', `The load run failed: ${failed.failure!.replace(/\.$/, '')}.`)
    const merged = mergeResults(results)
    if (merged.unanswered > 0) {
      throw new KproxyError('KPROXY_ERR_BENCH_TIMEOUT', `${merged.unanswered} request(s) were still unanswered 10 s after the run ended; the target stopped answering.`)
    }
    return merged
  } finally {
    if (timer !== null) clearTimeout(timer)
    await Promise.all(workers.map(w => w.terminate()))
  }
}
