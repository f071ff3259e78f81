// Rates for the dashboard's JSON API: the merged metrics are sampled at most once per
// MIN_SAMPLE_MS however many pages and `kproxy top`s poll, and each answer compares the newest
// sample with the one before it (per second over that interval). The worker threads are asked
// once per sample, not once per request.
import type { MergedMetrics } from '@kproxy/core/metrics/metrics-merge'

export const MIN_SAMPLE_MS = 900

export interface Sample {
  at: number // ms since the epoch
  metrics: MergedMetrics
}

export interface SamplePair {
  now: Sample
  // null on the first sample: no rates yet
  before: Sample | null
}

export class MetricsSampler {
  readonly #take: () => Promise<MergedMetrics>
  readonly #clock: () => number
  #newest: Sample | null = null
  #previous: Sample | null = null
  #pending: Promise<SamplePair> | null = null

  constructor (take: () => Promise<MergedMetrics>, clock: () => number = Date.now) {
    this.#take = take
    this.#clock = clock
  }

  current (): Promise<SamplePair> {
    const newest = this.#newest
    if (newest !== null && this.#clock() - newest.at < MIN_SAMPLE_MS) return Promise.resolve({ now: newest, before: this.#previous })
    if (this.#pending === null) {
      this.#pending = this.#take().then(metrics => {
        this.#previous = this.#newest
        this.#newest = { at: this.#clock(), metrics }
        return { now: this.#newest, before: this.#previous }
      }).finally(() => { this.#pending = null })
    }
    return this.#pending
  }
}

// (now - before) / seconds, null without an earlier sample
export function perSecond (now: number, before: number | undefined, seconds: number | null): number | null {
  if (seconds === null || seconds <= 0 || before === undefined) return null
  return Math.max(0, now - before) / seconds
}

export function intervalSeconds (pair: SamplePair): number | null {
  return pair.before === null ? null : (pair.now.at - pair.before.at) / 1000
}
