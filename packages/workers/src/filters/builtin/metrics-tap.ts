// The per-API metrics as a tap: every request counted by key and version, every response with its
// latency (HDR histogram). Called for every frame with plain numbers: no decode, no allocation.
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { Tap } from '../filter-chain.ts'

export class MetricsTap implements Tap {
  readonly #metrics: ProxyMetrics

  constructor (metrics: ProxyMetrics) {
    this.#metrics = metrics
  }

  request (apiKey: number, apiVersion: number): void {
    this.#metrics.request(apiKey, apiVersion)
  }

  response (apiKey: number, apiVersion: number, latencyMicros: number): void {
    this.#metrics.response(apiKey, apiVersion, latencyMicros)
  }
}
