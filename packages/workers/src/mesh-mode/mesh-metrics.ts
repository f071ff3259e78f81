// Per-cluster metrics of mesh mode. The answer time of every request kproxy sends to a cluster
// goes into an HDR histogram per cluster and API (kproxy_mesh_upstream_latency_seconds{cluster,
// api}, merged by the supervisor like broker mode's kproxy_response_latency_seconds, and in
// /api/mesh), the connections open to a cluster's brokers into a gauge
// (kproxy_mesh_upstream_connections{cluster}). The counters go through the registry's
// filter-event counters, as kproxy_filter_events_total{filter="mesh:<cluster>", event=...}:
//   <api>_requests        sub-requests sent to the cluster (e.g. produce_requests)
//   <api>_failed          of those, lost (connection closed, cluster down) before an answer
//   <api>_latency_ms      summed answer time; divide by <api>_answered for the mean
//   <api>_answered
//   bytes_sent            request bytes sent to the cluster
//   produce_client_requests   client Produce requests with a part for this cluster
//   upstream_connects     connections kproxy opened to the cluster's brokers (shared and the
//                         clients' own, TLS and SASL login included)
//   upstream_disconnects  of those, closed again: upstream_connects - upstream_disconnects is the
//                         number open now
//   upstream_login_failed kproxy's SASL login (mesh.clusters[].sasl) refused or unreadable
//                         password, on a shared connection
//   upstream_reauthenticated  that login renewed on an open shared connection before the
//                         broker's session ended (KIP-368)
// Coalescing (client produce requests per upstream produce request) is
// produce_client_requests / produce_requests.
import type { FilterEventCounter, GaugeRecorder, LatencyRecorder, ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { apiByKey } from '@kproxy/core/protocol/api-keys'

export interface MeshMetrics {
  // a sub-request sent to `cluster`; `bytes` of request
  sent (cluster: string, apiKey: number, bytes: number): void
  // its answer after `ms`; `failed` when it was lost
  answered (cluster: string, apiKey: number, ms: number, failed: boolean): void
  // a client produce request that had a part for `cluster`
  produceClientRequest (cluster: string): void
  // a connection to one of `cluster`'s brokers dialled or closed, or its login refused
  upstream (cluster: string, event: UpstreamEvent): void
}

export type UpstreamEvent = 'connects' | 'disconnects' | 'login_failed' | 'reauthenticated'

export const noopMeshMetrics: MeshMetrics = {
  sent () {},
  answered () {},
  produceClientRequest () {},
  upstream () {}
}

interface ApiCounters {
  requests: FilterEventCounter
  failed: FilterEventCounter
  latency: FilterEventCounter
  answered: FilterEventCounter
  // null when the stats selection excludes kproxy_mesh_upstream_latency_seconds
  histogram: LatencyRecorder | null
}

const noGauge: GaugeRecorder = { add () {} }

function snake (name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}

export function createMeshMetrics (metrics: ProxyMetrics): MeshMetrics {
  const counter = metrics.filterCounter?.bind(metrics)
  if (counter === undefined) return noopMeshMetrics
  const byApi = new Map<string, ApiCounters>()
  const bytes = new Map<string, FilterEventCounter>()
  const clientProduce = new Map<string, FilterEventCounter>()
  const upstream = new Map<string, FilterEventCounter>()
  const open = new Map<string, GaugeRecorder>()
  const histogram = metrics.meshLatency?.bind(metrics)
  const gauge = metrics.meshConnections?.bind(metrics)
  const api = (cluster: string, apiKey: number): ApiCounters => {
    const key = `${cluster}\u0000${apiKey}`
    let c = byApi.get(key)
    if (c === undefined) {
      const name = snake(apiByKey(apiKey)?.name ?? `api_${apiKey}`)
      const filter = `mesh:${cluster}`
      byApi.set(key, c = {
        requests: counter(filter, `${name}_requests`),
        failed: counter(filter, `${name}_failed`),
        latency: counter(filter, `${name}_latency_ms`),
        answered: counter(filter, `${name}_answered`),
        histogram: histogram?.(cluster, apiKey) ?? null
      })
    }
    return c
  }
  return {
    sent (cluster, apiKey, n) {
      api(cluster, apiKey).requests.inc()
      let b = bytes.get(cluster)
      if (b === undefined) bytes.set(cluster, b = counter(`mesh:${cluster}`, 'bytes_sent'))
      b.inc(n)
    },
    answered (cluster, apiKey, ms, failed) {
      const c = api(cluster, apiKey)
      if (failed) {
        c.failed.inc()
        return
      }
      c.answered.inc()
      c.latency.inc(ms)
      c.histogram?.record(ms * 1000)
    },
    produceClientRequest (cluster) {
      let c = clientProduce.get(cluster)
      if (c === undefined) clientProduce.set(cluster, c = counter(`mesh:${cluster}`, 'produce_client_requests'))
      c.inc()
    },
    upstream (cluster, event) {
      const key = `${cluster}\u0000${event}`
      let c = upstream.get(key)
      if (c === undefined) upstream.set(key, c = counter(`mesh:${cluster}`, `upstream_${event}`))
      c.inc()
      if (event !== 'connects' && event !== 'disconnects') return
      let g = open.get(cluster)
      if (g === undefined) open.set(cluster, g = gauge?.(cluster) ?? noGauge)
      g.add(event === 'connects' ? 1 : -1)
    }
  }
}
