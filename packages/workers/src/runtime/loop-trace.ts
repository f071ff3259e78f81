// A diagnostic for latency tails: with KPROXY_LOOP_TRACE_DIR set, each worker records how late its
// event loop runs (perf_hooks.monitorEventLoopDelay, sampled every millisecond) and every garbage
// collection (a PerformanceObserver of 'gc' entries), and writes a summary to
// DIR/loop-trace-<pid>-w<worker>.json every few seconds and when it stops. Off by default: the
// 1 ms sampling timer costs a little CPU. The delays are the times between samples, so they
// include the 1 ms interval: a loop that is never late shows 1 ms. docs/performance.md reads these
// files next to the bench's latency figures (what makes kproxy's p99).
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import type { ELDHistogram } from 'node:perf_hooks'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const LOOP_TRACE_ENV = 'KPROXY_LOOP_TRACE_DIR'
// the loop-delay sampling interval, ms (the delay itself is measured in nanoseconds)
const RESOLUTION_MS = 1
const WRITE_EVERY_MS = 5000
// the longest pauses kept with their time, for lining them up with slow requests
const LONGEST_KEPT = 20
// GC pause buckets, upper bounds in ms
const PAUSE_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 50, Number.POSITIVE_INFINITY]

// node:perf_hooks NODE_PERFORMANCE_GC_* kinds
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' }

interface GcKind {
  count: number
  totalMs: number
  maxMs: number
}

export interface LoopTraceSummary {
  pid: number
  worker: number
  seconds: number
  loopDelayMs: { mean: number, p50: number, p90: number, p99: number, p999: number, max: number, samples: number }
  gc: {
    byKind: Record<string, GcKind>
    // share of the traced time spent in GC pauses
    pausedShare: number
    pausesByBucketMs: Array<{ upToMs: number, count: number }>
    longest: Array<{ atMs: number, kind: string, ms: number }>
  }
}

export class LoopTrace {
  readonly #file: string
  readonly #worker: number
  readonly #startedAt = performance.now()
  readonly #delay: ELDHistogram
  readonly #observer: PerformanceObserver
  readonly #timer: NodeJS.Timeout
  readonly #byKind: Record<string, GcKind> = {}
  readonly #buckets = PAUSE_BUCKETS_MS.map(() => 0)
  #longest: Array<{ atMs: number, kind: string, ms: number }> = []
  #pausedMs = 0

  constructor (dir: string, worker: number) {
    this.#worker = worker
    this.#file = join(dir, `loop-trace-${process.pid}-w${worker}.json`)
    this.#delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    this.#delay.enable()
    this.#observer = new PerformanceObserver(list => {
      for (const e of list.getEntries()) this.#gc(e.startTime, ((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0), e.duration)
    })
    this.#observer.observe({ entryTypes: ['gc'] })
    this.#timer = setInterval(() => this.write(), WRITE_EVERY_MS)
    this.#timer.unref()
  }

  #gc (at: number, kindCode: number, ms: number): void {
    const kind = GC_KINDS[kindCode] ?? `kind-${kindCode}`
    const k = this.#byKind[kind] ??= { count: 0, totalMs: 0, maxMs: 0 }
    k.count++
    k.totalMs += ms
    if (ms > k.maxMs) k.maxMs = ms
    this.#pausedMs += ms
    this.#buckets[PAUSE_BUCKETS_MS.findIndex(b => ms <= b)]!++
    if (this.#longest.length < LONGEST_KEPT || ms > this.#longest.at(-1)!.ms) {
      this.#longest.push({ atMs: Math.round(at - this.#startedAt), kind, ms })
      this.#longest.sort((a, b) => b.ms - a.ms)
      this.#longest = this.#longest.slice(0, LONGEST_KEPT)
    }
  }

  summary (): LoopTraceSummary {
    const h = this.#delay
    const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3
    const seconds = (performance.now() - this.#startedAt) / 1000
    return {
      pid: process.pid,
      worker: this.#worker,
      seconds: Math.round(seconds * 10) / 10,
      loopDelayMs: { mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max), samples: h.count },
      gc: {
        byKind: this.#byKind,
        pausedShare: seconds > 0 ? this.#pausedMs / (seconds * 1000) : 0,
        pausesByBucketMs: PAUSE_BUCKETS_MS.map((upToMs, i) => ({ upToMs, count: this.#buckets[i]! })),
        longest: this.#longest
      }
    }
  }

  write (): void {
    try {
      writeFileSync(this.#file, JSON.stringify(this.summary(), null, 2) + '\n')
    } catch {}
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#observer.disconnect()
    this.#delay.disable()
    this.write()
  }
}

// The trace the environment asks for, or null.
export function loopTraceFromEnv (worker: number, env: NodeJS.ProcessEnv = process.env): LoopTrace | null {
  const dir = env[LOOP_TRACE_ENV]
  return dir === undefined || dir === '' ? null : new LoopTrace(dir, worker)
}
