// Latency histograms in microseconds (hdr-histogram-js, 3 significant digits). Generator threads
// send theirs to the main thread as compressed base64 (HdrHistogram's own encoding), which merges.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import type { Histogram } from 'hdr-histogram-js'

export type { Histogram }

// 1 µs .. 1 h: anything slower than an hour is not a latency but a hang.
const HIGHEST_US = 3_600_000_000

export function newHistogram (): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: true })
}

export function recordUs (h: Histogram, us: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(us))))
}

export function encodeHistogram (h: Histogram): string {
  return encodeIntoCompressedBase64(h)
}

export function decodeHistogram (s: string): Histogram {
  return decodeFromCompressedBase64(s)
}

export function mergeHistograms (encoded: readonly string[]): Histogram {
  const total = newHistogram()
  for (const e of encoded) total.add(decodeHistogram(e))
  return total
}

export interface LatencySummary {
  count: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  mean: number
}

// Microseconds; zeros when nothing was recorded (acks=0).
export function summarize (h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 }
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: Math.round(h.mean * 10) / 10
  }
}

// HdrHistogram's percentile distribution text (the .hgrm format), values in milliseconds as the
// usual plotters (hdrhistogram.github.io/HdrHistogram/plotFiles.html) expect.
export function toHgrm (h: Histogram): string {
  return h.outputPercentileDistribution(5, 1000)
}
