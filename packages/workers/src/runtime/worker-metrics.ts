// A worker's metrics as the stats section asks (stats-config.ts): latency histograms (broker
// mode's per API, mesh mode's per cluster and API) unless an exclusion regexp names their family, and a flow registry when stats.flows is on. The sessions
// report Produce requests, Produce responses and Fetch responses to `metrics.flows` (null when
// flows are off, so a session skips the scan entirely).
import type { Logger } from 'pino'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { FlowRegistry } from '@kproxy/core/metrics/flow-registry'
import { statsOf } from '@kproxy/core/metrics/stats-config'
import { StatsSelection } from '@kproxy/core/metrics/stats-selection'

export const LATENCY_FAMILY = 'kproxy_response_latency_seconds'
export const MESH_LATENCY_FAMILY = 'kproxy_mesh_upstream_latency_seconds'

export function createWorkerMetrics (config: object, logger: () => Logger): MetricsRegistry {
  const stats = statsOf(config)
  const selection = new StatsSelection(stats)
  const flows = !stats.flows
    ? null
    : new FlowRegistry({
      maxFlows: stats.maxFlows,
      onOverflow (table, cap) {
        logger().warn({ code: 'KPROXY_WARN_STATS_OVERFLOW', table, cap },
          `more than ${cap} ${table} on this worker: new ones are counted under "other" (kproxy_flow_overflow_total); raise stats.maxFlows if you need them apart`)
      }
    })
  return new MetricsRegistry({ latency: selection.records(LATENCY_FAMILY), meshLatency: selection.records(MESH_LATENCY_FAMILY), flows })
}
