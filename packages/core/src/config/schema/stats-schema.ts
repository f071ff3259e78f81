// Section "stats": what kproxy records and exports beyond its fixed counters (Istio's
// proxyStatsMatcher idea): per-flow counters, inclusion/exclusion regexps over the exported series,
// opt-in labels with a cardinality cap. docs/observability.md explains each.
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { compileStatsRegexp, DEFAULT_STATS_CONFIG, MAX_FLOWS_LIMIT, MAX_LABEL_VALUES_LIMIT } from '../../metrics/stats-config.ts'
import type { StatsConfig } from '../../metrics/stats-config.ts'
import { bool, int } from './value-kinds.ts'
import { group, key } from './schema-kit.ts'
import { withDefaults } from './defaults.ts'

function checkRegexps (value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined
  for (const item of value) {
    if (typeof item !== 'string') continue
    try {
      compileStatsRegexp(item)
    } catch (err) {
      return `'${item}' is not a valid regular expression (${(err as Error).message})`
    }
  }
  return undefined
}

const REGEXPS_ALLOWED = 'a list of regular expressions, each matching a whole series name (e.g. kproxy_requests_total)'

export const STATS = group({
  flows: key(bool(DEFAULT_STATS_CONFIG.flows), { live: false, doc: 'Per-flow counters (client -> topic -> broker) for the dashboard and kproxy_flow_*: reads every Produce request and Fetch response.' }),
  inclusionRegexps: key(Type.Array(Type.String({ minLength: 1 }), { default: [] }), { allowed: REGEXPS_ALLOWED, live: false, check: checkRegexps, doc: 'Keep only the series whose name matches one of these (empty: all).' }),
  exclusionRegexps: key(Type.Array(Type.String({ minLength: 1 }), { default: [] }), { allowed: REGEXPS_ALLOWED, live: false, check: checkRegexps, doc: 'Then drop the series whose name matches one of these.' }),
  labels: key(group({
    principal: key(bool(false), { doc: 'A principal label on the kproxy_flow_* families.' }),
    clientId: key(bool(false), { doc: 'A client_id label on the kproxy_flow_* families.' }),
    topic: key(bool(false), { doc: 'A topic label on the kproxy_flow_* families.' }),
    clientSoftware: key(bool(false), { doc: 'Client software name and version labels on the kproxy_flow_* families.' })
  }), { live: false, doc: 'Opt-in labels of the flow families (each multiplies the series count).' }),
  maxLabelValues: key(int(1, MAX_LABEL_VALUES_LIMIT, DEFAULT_STATS_CONFIG.maxLabelValues), { live: false, doc: 'Distinct values per label in /metrics; later ones are counted as "other" (and a warning is logged once).' }),
  maxFlows: key(int(1, MAX_FLOWS_LIMIT, DEFAULT_STATS_CONFIG.maxFlows), { live: false, doc: 'Flows a worker keeps; later ones are counted as "other".' })
})

export type StatsFile = Static<typeof STATS>

export function resolveStats (file: StatsFile | undefined): StatsConfig {
  const s = withDefaults(STATS, file ?? {})
  const labels = withDefaults(STATS.properties.labels, s.labels ?? {})
  return {
    flows: s.flows!,
    inclusionRegexps: s.inclusionRegexps!,
    exclusionRegexps: s.exclusionRegexps!,
    labels: { principal: labels.principal!, clientId: labels.clientId!, topic: labels.topic!, clientSoftware: labels.clientSoftware! },
    maxLabelValues: s.maxLabelValues!,
    maxFlows: s.maxFlows!
  }
}
