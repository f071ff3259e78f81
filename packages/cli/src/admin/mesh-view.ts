// GET /api/mesh: mesh mode per cluster (docs/mesh.md#per-cluster-metrics): connections open to
// its brokers, requests and failures from the mesh counters, and the upstream answer time from
// the workers' merged HDR histograms, for all APIs together and per API, since the start and
// over the last interval (the same LatencyView as /api/apis). Empty outside mesh mode.
import { apiLabel } from '@kproxy/core/metrics/metric-names'
import { createLatencyHistogram } from '@kproxy/core/metrics/metrics-registry'
import { apiByKey } from '@kproxy/core/protocol/api-keys'
import { latencyOf, windowOf } from './api-views.ts'
import type { Histogram, LatencyView, Stamp } from './api-views.ts'
import { intervalSeconds, perSecond } from './metrics-sampler.ts'
import type { SamplePair } from './metrics-sampler.ts'

export interface MeshApiView {
  api: string
  apiKey: number
  name: string
  latency: LatencyView | null
  latencyWindow: LatencyView | null
}

export interface MeshClusterView {
  cluster: string
  connections: number
  requests: number
  requestsPerSecond: number | null
  failed: number
  bytesSent: number
  latency: LatencyView | null
  latencyWindow: LatencyView | null
  apis: MeshApiView[]
}

// The histograms of every API of a cluster added together (null when it has none).
function allApis (byApi: Map<number, Histogram> | undefined): Histogram | undefined {
  if (byApi === undefined || byApi.size === 0) return undefined
  const h = createLatencyHistogram()
  for (const one of byApi.values()) h.add(one)
  return h
}

// Sum of a mesh counter family (`<api>_requests`, `<api>_failed`) over every API.
function sumEvents (events: Map<string, number> | undefined, suffix: string): number {
  let n = 0
  if (events !== undefined) for (const [e, v] of events) if (e.endsWith(suffix) && e !== 'produce_client_requests') n += v
  return n
}

export function meshView (pair: SamplePair): Stamp & { clusters: MeshClusterView[] } {
  const s = intervalSeconds(pair)
  const m = pair.now.metrics
  const b = pair.before?.metrics
  const names = new Set<string>([...m.meshConnections.keys(), ...m.meshLatency.keys()])
  for (const f of m.filterEvents.keys()) if (f.startsWith('mesh:')) names.add(f.slice(5))
  const clusters = [...names].sort().map((cluster): MeshClusterView => {
    const events = m.filterEvents.get(`mesh:${cluster}`)
    const byApi = m.meshLatency.get(cluster)
    const before = b?.meshLatency.get(cluster)
    const requests = sumEvents(events, '_requests')
    const all = allApis(byApi)
    return {
      cluster,
      connections: m.meshConnections.get(cluster) ?? 0,
      requests,
      requestsPerSecond: perSecond(requests, b === undefined ? undefined : sumEvents(b.filterEvents.get(`mesh:${cluster}`), '_requests'), s),
      failed: sumEvents(events, '_failed'),
      bytesSent: events?.get('bytes_sent') ?? 0,
      latency: latencyOf(all ?? null),
      latencyWindow: latencyOf(windowOf(all, b === undefined ? undefined : allApis(before) ?? createLatencyHistogram())),
      apis: [...(byApi ?? new Map<number, Histogram>())].sort((x, y) => x[0] - y[0]).map(([k, h]): MeshApiView => ({
        api: apiLabel(k),
        apiKey: k,
        name: apiByKey(k)?.name ?? `api_${k}`,
        latency: latencyOf(h),
        latencyWindow: latencyOf(windowOf(h, b === undefined ? undefined : before?.get(k) ?? createLatencyHistogram()))
      }))
    }
  })
  return { at: pair.now.at, intervalSeconds: s, clusters }
}
