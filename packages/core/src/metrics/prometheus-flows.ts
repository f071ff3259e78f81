// The kproxy_flow_* families: the workers' flows summed over the labels the operator did not opt
// into (stats.labels), so that by default a flow series is one per target (broker or cluster).
// Each opt-in label (principal, client_id, topic, client_software_*) keeps at most
// maxLabelValues distinct values; later values are written as "other" and counted in
// kproxy_stats_label_values_folded. The values kept are sticky for the life of the exporter (the
// first ones seen, busiest first), so a series does not come and go between scrapes and its
// counter never goes down.
import type { FlowRow, FlowSnapshot } from './flow-registry.ts'
import { OTHER } from './flow-registry.ts'
import type { PrometheusWriter } from './prometheus-writer.ts'
import type { FlowLabels, StatsConfig } from './stats-config.ts'

type LabelName = 'principal' | 'client_id' | 'client_software_name' | 'client_software_version' | 'topic'

const FAMILIES: ReadonlyArray<[name: string, help: string, field: number]> = [
  ['kproxy_flow_received_bytes_total', 'Record bytes clients produced, by flow (stats.flows; labels opted into with stats.labels).', 6],
  ['kproxy_flow_sent_bytes_total', 'Record bytes sent to clients in Fetch responses, by flow.', 7],
  ['kproxy_flow_requests_total', 'Produce requests and Fetch responses naming the topic, by flow.', 8],
  ['kproxy_flow_errors_total', 'Partitions answered with an error code in Produce and Fetch responses, by flow.', 9]
]

export class FlowExport {
  readonly #labels: FlowLabels
  readonly #max: number
  readonly #kept = new Map<LabelName, Set<string>>()

  constructor (config: Pick<StatsConfig, 'labels' | 'maxLabelValues'>) {
    this.#labels = config.labels
    this.#max = config.maxLabelValues
  }

  #admit (label: LabelName, value: string | null, folded: Map<LabelName, Set<string>>): string {
    const v = value ?? ''
    if (v === OTHER) return v
    let kept = this.#kept.get(label)
    if (kept === undefined) this.#kept.set(label, kept = new Set())
    if (kept.has(v)) return v
    if (kept.size < this.#max) {
      kept.add(v)
      return v
    }
    let f = folded.get(label)
    if (f === undefined) folded.set(label, f = new Set())
    f.add(v)
    return OTHER
  }

  write (w: PrometheusWriter, flows: FlowSnapshot): void {
    const folded = new Map<LabelName, Set<string>>()
    const l = this.#labels
    // busiest first, so that the values kept by the cap are the ones that matter
    const rows = [...flows.flows].sort((a, b) => (b[6] + b[7]) - (a[6] + a[7]) || keyOrder(a, b))
    const series = new Map<string, { labels: Record<string, string>, sums: number[] }>()
    for (const r of rows) {
      const labels: Record<string, string> = { target: r[4] }
      if (l.principal) labels.principal = this.#admit('principal', r[0], folded)
      if (l.clientId) labels.client_id = this.#admit('client_id', r[1], folded)
      if (l.clientSoftware) {
        labels.client_software_name = this.#admit('client_software_name', r[2], folded)
        labels.client_software_version = this.#admit('client_software_version', r[3], folded)
      }
      if (l.topic) labels.topic = this.#admit('topic', r[5], folded)
      const key = JSON.stringify(labels)
      let s = series.get(key)
      if (s === undefined) series.set(key, s = { labels, sums: [0, 0, 0, 0] })
      for (let i = 0; i < 4; i++) s.sums[i]! += r[6 + i] as number
    }
    const ordered = [...series.entries()].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    for (const [name, help, field] of FAMILIES) {
      w.family(name, 'counter', help)
      for (const [, s] of ordered) w.sample(name, s.labels, s.sums[field - 6]!)
    }
    w.family('kproxy_flow_overflow_total', 'counter', 'New flows or partitions a worker counted as "other" because its table was full (stats.maxFlows).')
    w.sample('kproxy_flow_overflow_total', { table: 'flows' }, flows.overflow.flows)
    w.sample('kproxy_flow_overflow_total', { table: 'partitions' }, flows.overflow.partitions)
    w.family('kproxy_stats_label_values_folded', 'gauge', 'Distinct label values written as "other" at this scrape because the label reached stats.maxLabelValues.')
    const enabled: LabelName[] = []
    if (l.principal) enabled.push('principal')
    if (l.clientId) enabled.push('client_id')
    if (l.clientSoftware) enabled.push('client_software_name', 'client_software_version')
    if (l.topic) enabled.push('topic')
    for (const label of enabled) w.sample('kproxy_stats_label_values_folded', { label }, folded.get(label)?.size ?? 0)
  }
}

function keyOrder (a: FlowRow, b: FlowRow): number {
  for (let i = 0; i < 6; i++) {
    const x = a[i] ?? ''
    const y = b[i] ?? ''
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}
