// The `stats` section of the configuration: what kproxy records and exports beyond its fixed
// counters. Validated here (every problem collected, each naming its key path) and handed to the
// workers (flow recording, latency histograms) and to the admin server (what /metrics shows).
//
//   stats:
//     flows: false                 # per-flow counters: reads every Produce request and Fetch response
//     inclusionRegexps: []         # keep only series matching one of these (empty: keep all)
//     exclusionRegexps: []         # then drop series matching one of these
//     labels:                      # labels of the kproxy_flow_* families, off by default
//       principal: false
//       clientId: false
//       topic: false
//       clientSoftware: false
//     maxLabelValues: 100          # distinct values per label in /metrics; later ones become "other"
//     maxFlows: 1000               # flows a worker keeps; later ones are counted as "other"
import { KproxyError } from '../kproxy-error.ts'

export interface FlowLabels {
  principal: boolean
  clientId: boolean
  topic: boolean
  clientSoftware: boolean
}

export interface StatsConfig {
  flows: boolean
  inclusionRegexps: readonly string[]
  exclusionRegexps: readonly string[]
  labels: FlowLabels
  maxLabelValues: number
  maxFlows: number
}

export const DEFAULT_STATS_CONFIG: StatsConfig = Object.freeze({
  flows: false,
  inclusionRegexps: [],
  exclusionRegexps: [],
  labels: Object.freeze({ principal: false, clientId: false, topic: false, clientSoftware: false }),
  maxLabelValues: 100,
  maxFlows: 1000
})

// The limits the schema allows; defaults above.
export const MAX_LABEL_VALUES_LIMIT = 100_000
export const MAX_FLOWS_LIMIT = 1_000_000

const LABEL_KEYS: ReadonlyArray<keyof FlowLabels> = ['principal', 'clientId', 'topic', 'clientSoftware']
const KEYS = ['flows', 'inclusionRegexps', 'exclusionRegexps', 'labels', 'maxLabelValues', 'maxFlows']

// A regexp of the selection matches a whole name (as Envoy's safe_regex does): anchored here.
export function compileStatsRegexp (source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u')
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function regexpList (v: unknown, path: string, errors: string[]): string[] {
  if (!Array.isArray(v)) {
    errors.push(`${path}: got ${JSON.stringify(v)}, allowed: a list of regular expressions`)
    return []
  }
  const out: string[] = []
  v.forEach((item, i) => {
    if (typeof item !== 'string' || item.length === 0) {
      errors.push(`${path}[${i}]: got ${JSON.stringify(item)}, allowed: a non-empty regular expression`)
      return
    }
    try {
      compileStatsRegexp(item)
      out.push(item)
    } catch (err) {
      errors.push(`${path}[${i}]: '${item}' is not a valid regular expression (${(err as Error).message})`)
    }
  })
  return out
}

function intIn (v: unknown, min: number, max: number, path: string, errors: string[], dflt: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v
  errors.push(`${path}: got ${JSON.stringify(v)}, allowed: an integer from ${min} to ${max}`)
  return dflt
}

// Every problem of a `stats` value, and the config with defaults for what is missing or wrong.
export function checkStatsConfig (raw: unknown, where: string): { config: StatsConfig, errors: string[] } {
  const errors: string[] = []
  const d = DEFAULT_STATS_CONFIG
  if (raw === undefined || raw === null) return { config: d, errors }
  if (!isRecord(raw)) return { config: d, errors: [`${where}: stats: got ${JSON.stringify(raw)}, allowed: a mapping with ${KEYS.join(', ')}`] }
  for (const k of Object.keys(raw)) if (!KEYS.includes(k)) errors.push(`${where}: stats.${k}: unknown key; allowed keys here: ${KEYS.join(', ')}`)
  const bool = (v: unknown, path: string, dflt: boolean): boolean => {
    if (v === undefined) return dflt
    if (typeof v === 'boolean') return v
    errors.push(`${where}: ${path}: got ${JSON.stringify(v)}, allowed: true or false`)
    return dflt
  }
  const labels = { ...d.labels }
  if (raw.labels !== undefined) {
    if (!isRecord(raw.labels)) {
      errors.push(`${where}: stats.labels: got ${JSON.stringify(raw.labels)}, allowed: a mapping with ${LABEL_KEYS.join(', ')}`)
    } else {
      for (const k of Object.keys(raw.labels)) {
        if (!(LABEL_KEYS as readonly string[]).includes(k)) errors.push(`${where}: stats.labels.${k}: unknown key; allowed keys here: ${LABEL_KEYS.join(', ')}`)
      }
      for (const k of LABEL_KEYS) labels[k] = bool(raw.labels[k], `stats.labels.${k}`, d.labels[k])
    }
  }
  const config: StatsConfig = {
    flows: bool(raw.flows, 'stats.flows', d.flows),
    inclusionRegexps: raw.inclusionRegexps === undefined ? d.inclusionRegexps : regexpList(raw.inclusionRegexps, `${where}: stats.inclusionRegexps`, errors),
    exclusionRegexps: raw.exclusionRegexps === undefined ? d.exclusionRegexps : regexpList(raw.exclusionRegexps, `${where}: stats.exclusionRegexps`, errors),
    labels,
    maxLabelValues: raw.maxLabelValues === undefined ? d.maxLabelValues : intIn(raw.maxLabelValues, 1, MAX_LABEL_VALUES_LIMIT, `${where}: stats.maxLabelValues`, errors, d.maxLabelValues),
    maxFlows: raw.maxFlows === undefined ? d.maxFlows : intIn(raw.maxFlows, 1, MAX_FLOWS_LIMIT, `${where}: stats.maxFlows`, errors, d.maxFlows)
  }
  return { config, errors }
}

// The same, throwing KPROXY_ERR_CONFIG with every problem.
export function resolveStatsConfig (raw: unknown, where: string): StatsConfig {
  const { config, errors } = checkStatsConfig(raw, where)
  if (errors.length > 0) {
    throw new KproxyError('KPROXY_ERR_CONFIG', errors.length === 1 ? errors[0]! : `${errors.length} configuration errors:\n  ${errors.join('\n  ')}`)
  }
  return config
}

// The stats section of a config object that may have one (the schema adds it; until then, and
// for configs built in code, the defaults).
export function statsOf (config: object): StatsConfig {
  const s = (config as { stats?: StatsConfig }).stats
  return s ?? DEFAULT_STATS_CONFIG
}
