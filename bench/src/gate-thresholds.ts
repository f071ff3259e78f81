// The release gate's verdict: metrics computed from the measured rounds (direct and kproxy,
// alternating), compared with the thresholds committed in bench/gate.json. Pure code, so that a
// stored result (`--from-results`) is re-evaluated exactly as a fresh run is.
import { usageError } from './options.ts'
import { formatTable } from './report.ts'
import { median } from './compare.ts'

export type GateScenario = 'produce' | 'roundtrip'
export type GateTarget = 'direct' | 'kproxy' | 'envoy'
export const GATE_TARGETS: readonly GateTarget[] = ['direct', 'kproxy', 'envoy']

// One measured round of one target, reduced to what the metrics and the table need.
export interface GateRound {
  scenario: GateScenario
  target: GateTarget
  round: number
  // records/s for produce, requests/s for roundtrip
  throughput: number
  p50Us: number
  p99Us: number
  p999Us: number
  // Kafka error codes in responses, requests unanswered at the end, fixed-rate requests never sent
  errors: number
  unanswered: number
  unsent: number
  // the target process's CPU seconds per GB on the wire (null: direct, or not measured; results
  // stored before 2026-12-03 lack it)
  cpuSecondsPerGB?: number | null
}

export interface GateMeasurements {
  // the scenario options each round ran with (what the thresholds were chosen for)
  workload: Record<GateScenario, string[]>
  rounds: GateRound[]
}

interface MetricDef {
  description: string
  unit: string
  digits: number
  // a metric that compares with Envoy is skipped (not failed) when the run had no Envoy rounds
  needsEnvoy?: boolean
  compute (m: GateMeasurements): number
}

function medianOf (m: GateMeasurements, scenario: GateScenario, target: GateTarget, pick: (r: GateRound) => number): number {
  return median(m.rounds.filter(r => r.scenario === scenario && r.target === target).map(pick))
}

function cpuMedian (m: GateMeasurements, scenario: GateScenario, target: GateTarget): number {
  const cpu = m.rounds.filter(r => r.scenario === scenario && r.target === target && typeof r.cpuSecondsPerGB === 'number').map(r => r.cpuSecondsPerGB!)
  return cpu.length === 0 ? NaN : median(cpu)
}

function bestOf (m: GateMeasurements, scenario: GateScenario, target: GateTarget, pick: (r: GateRound) => number): number {
  return Math.min(...m.rounds.filter(r => r.scenario === scenario && r.target === target).map(pick))
}

// Ratios are of medians over rounds (as in bench:compare), never of single rounds. The added p50
// is of each target's best round: a cost kproxy adds to every request shows in every round, its
// best included, while a stall of the machine (the hypervisor took 16-29% of the CPU time on
// 2026-12-03, and a stalled round's corrected p50 rose to 23-270 ms for either target) falls on
// some rounds only.
export const METRICS: Record<string, MetricDef> = {
  'produce.throughputRatio': {
    description: 'kproxy records/s ÷ direct records/s (produce, medians)',
    unit: '×',
    digits: 3,
    compute: m => medianOf(m, 'produce', 'kproxy', r => r.throughput) / medianOf(m, 'produce', 'direct', r => r.throughput)
  },
  'roundtrip.throughputRatio': {
    description: 'kproxy req/s ÷ direct req/s at the fixed rate (below 1: kproxy could not keep up)',
    unit: '×',
    digits: 3,
    compute: m => medianOf(m, 'roundtrip', 'kproxy', r => r.throughput) / medianOf(m, 'roundtrip', 'direct', r => r.throughput)
  },
  'roundtrip.addedP99Ms': {
    description: 'kproxy p99 − direct p99 (roundtrip, medians), ms',
    unit: 'ms',
    digits: 3,
    compute: m => (medianOf(m, 'roundtrip', 'kproxy', r => r.p99Us) - medianOf(m, 'roundtrip', 'direct', r => r.p99Us)) / 1000
  },
  'roundtrip.addedP50Ms': {
    description: 'kproxy p50 − direct p50 (roundtrip, each target\'s best round), ms: the per-request cost',
    unit: 'ms',
    digits: 3,
    compute: m => (bestOf(m, 'roundtrip', 'kproxy', r => r.p50Us) - bestOf(m, 'roundtrip', 'direct', r => r.p50Us)) / 1000
  },
  'roundtrip.p99Ratio': {
    description: 'kproxy p99 ÷ direct p99 (roundtrip, medians)',
    unit: '×',
    digits: 3,
    compute: m => medianOf(m, 'roundtrip', 'kproxy', r => r.p99Us) / medianOf(m, 'roundtrip', 'direct', r => r.p99Us)
  },
  'produce.envoyRatio': {
    description: 'kproxy records/s ÷ Envoy tcp_proxy records/s (produce, medians, both 1 thread)',
    unit: '×',
    digits: 3,
    needsEnvoy: true,
    compute: m => medianOf(m, 'produce', 'kproxy', r => r.throughput) / medianOf(m, 'produce', 'envoy', r => r.throughput)
  },
  'produce.envoyCpuRatio': {
    description: 'kproxy CPU s/GB ÷ Envoy CPU s/GB (produce, medians)',
    unit: '×',
    digits: 3,
    needsEnvoy: true,
    compute: m => cpuMedian(m, 'produce', 'kproxy') / cpuMedian(m, 'produce', 'envoy')
  },
  'roundtrip.envoyCpuRatio': {
    description: 'kproxy CPU per request ÷ Envoy CPU per request (roundtrip at the fixed rate, medians)',
    unit: '×',
    digits: 3,
    needsEnvoy: true,
    compute: m => cpuMedian(m, 'roundtrip', 'kproxy') / cpuMedian(m, 'roundtrip', 'envoy')
  },
  'kproxy.failedRequests': {
    description: 'Kafka errors + unanswered requests in all kproxy rounds',
    unit: '',
    digits: 0,
    compute: m => {
      const mine = m.rounds.filter(r => r.target === 'kproxy')
      return mine.length === 0 ? NaN : mine.reduce((n, r) => n + r.errors + r.unanswered, 0)
    }
  }
}

export interface Threshold {
  metric: string
  // the metric passes when min <= value (if min is set) and value <= max (if max is set)
  min: number | null
  max: number | null
  comment: string
}

export interface Verdict {
  metric: string
  value: number
  threshold: Threshold
  pass: boolean
  // why it was not checked (it passes): a comparison with Envoy in a run without Envoy
  skipped: string | null
}

export const NO_ENVOY = 'no Envoy rounds in this run'

export function hasEnvoyRounds (m: GateMeasurements): boolean {
  return m.rounds.some(r => r.target === 'envoy')
}

// bench/gate.json grammar:
//   { "comment"?: string,
//     "thresholds": { "<metric>": { "min"?: number, "max"?: number, "comment"?: string }, ... } }
// at least one threshold; each names a known metric and has min, max or both.
export function parseThresholds (text: string, file: string): Threshold[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw usageError(`The thresholds file ${file} is not valid JSON (${(err as Error).message}).`)
  }
  const table = (doc as { thresholds?: unknown } | null)?.thresholds
  if (typeof table !== 'object' || table === null || Array.isArray(table) || Object.keys(table).length === 0) {
    throw usageError(`The thresholds file ${file} needs a "thresholds" object naming at least one metric (${Object.keys(METRICS).join(', ')}).`)
  }
  const out: Threshold[] = []
  for (const [metric, spec] of Object.entries(table as Record<string, unknown>)) {
    if (METRICS[metric] === undefined) throw usageError(`The thresholds file ${file} names an unknown metric '${metric}'; known: ${Object.keys(METRICS).join(', ')}.`)
    const s = spec as { min?: unknown, max?: unknown, comment?: unknown } | null
    const bound = (v: unknown): number | null => {
      if (v === undefined) return null
      if (typeof v !== 'number' || !Number.isFinite(v)) throw usageError(`The thresholds file ${file}: ${metric} must have numeric "min" and/or "max", not ${JSON.stringify(v)}.`)
      return v
    }
    if (typeof s !== 'object' || s === null) throw usageError(`The thresholds file ${file}: ${metric} must be an object with "min" and/or "max".`)
    const min = bound(s.min)
    const max = bound(s.max)
    if (min === null && max === null) throw usageError(`The thresholds file ${file}: ${metric} must have "min" and/or "max".`)
    if (min !== null && max !== null && min > max) throw usageError(`The thresholds file ${file}: ${metric} has "min" above "max".`)
    out.push({ metric, min, max, comment: typeof s.comment === 'string' ? s.comment : '' })
  }
  return out
}

export function evaluate (m: GateMeasurements, thresholds: readonly Threshold[]): Verdict[] {
  const envoy = hasEnvoyRounds(m)
  return thresholds.map(t => {
    const def = METRICS[t.metric]!
    if (def.needsEnvoy === true && !envoy) return { metric: t.metric, value: NaN, threshold: t, pass: true, skipped: NO_ENVOY }
    const value = def.compute(m)
    // NaN (a target without rounds, a zero baseline) never passes
    const pass = Number.isFinite(value) && (t.min === null || value >= t.min) && (t.max === null || value <= t.max)
    return { metric: t.metric, value, threshold: t, pass, skipped: null }
  })
}

function fmt (metric: string, v: number): string {
  return Number.isFinite(v) ? v.toFixed(METRICS[metric]!.digits) : 'n/a'
}

function bounds (t: Threshold): string {
  if (t.min !== null && t.max !== null) return `${fmt(t.metric, t.min)} .. ${fmt(t.metric, t.max)}`
  return t.min !== null ? `>= ${fmt(t.metric, t.min)}` : `<= ${fmt(t.metric, t.max!)}`
}

// Medians per scenario and target, then one line per metric: measured, threshold, PASS/FAIL.
export function gateTable (m: GateMeasurements, verdicts: readonly Verdict[]): string {
  const ms = (us: number): string => Number.isNaN(us) ? 'n/a' : (us / 1000).toFixed(3)
  const rows: string[][] = [['scenario', 'target', 'rounds', 'per s (median)', 'range', 'p50 ms', 'p99 ms', 'p99 range ms', 'CPU s/GB']]
  for (const scenario of ['produce', 'roundtrip'] as const) {
    for (const target of GATE_TARGETS) {
      const mine = m.rounds.filter(r => r.scenario === scenario && r.target === target)
      if (mine.length === 0) continue
      const tp = mine.map(r => r.throughput)
      const p99 = mine.map(r => r.p99Us)
      rows.push([scenario, target, String(mine.length), String(Math.round(median(tp))), `${Math.round(Math.min(...tp))}-${Math.round(Math.max(...tp))}`,
        ms(median(mine.map(r => r.p50Us))), ms(median(p99)), `${ms(Math.min(...p99))}-${ms(Math.max(...p99))}`,
        Number.isNaN(cpuMedian(m, scenario, target)) ? 'n/a' : cpuMedian(m, scenario, target).toFixed(2)])
    }
  }
  const checks: string[][] = [['metric', 'measured', 'threshold', 'result']]
  for (const v of verdicts) checks.push([v.metric, fmt(v.metric, v.value), bounds(v.threshold), v.skipped !== null ? `skipped: ${v.skipped}` : v.pass ? 'pass' : 'FAIL'])
  const failed = verdicts.filter(v => !v.pass).map(v => v.metric)
  const checked = verdicts.filter(v => v.skipped === null).length
  const skipped = verdicts.length - checked
  const last = failed.length === 0
    ? `gate: PASS (${checked} of ${checked} metrics within thresholds${skipped > 0 ? `; ${skipped} skipped: ${NO_ENVOY}` : ''})`
    : `gate: FAIL (${failed.join(', ')})`
  return `${formatTable(rows)}\n\n${formatTable(checks)}\n\n${last}`
}

// A stored gate-results.json (written by --out or --json) back into measurements.
export function parseMeasurements (text: string, file: string): GateMeasurements {
  let doc: { workload?: unknown, rounds?: unknown }
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw usageError(`The results file ${file} is not valid JSON (${(err as Error).message}).`)
  }
  const rounds = doc?.rounds
  const ok = Array.isArray(rounds) && rounds.length > 0 && rounds.every((r: Partial<GateRound> | null) =>
    r !== null && typeof r === 'object' && (r.scenario === 'produce' || r.scenario === 'roundtrip') && GATE_TARGETS.includes(r.target as GateTarget) &&
    ['round', 'throughput', 'p50Us', 'p99Us', 'p999Us', 'errors', 'unanswered', 'unsent'].every(k => typeof (r as Record<string, unknown>)[k] === 'number'))
  if (!ok || typeof doc.workload !== 'object' || doc.workload === null) {
    throw usageError(`The results file ${file} holds no gate measurements (expected the gate-results.json that --out or --json writes).`)
  }
  return { workload: doc.workload as Record<GateScenario, string[]>, rounds: rounds as GateRound[] }
}
