// Text table, JSON and files (.hgrm per target, result JSON, SVG chart) of scenario results.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { toHgrm } from './histogram.ts'
import type { ScenarioResult } from './scenarios.ts'
import { latencyChartSvg } from './svg-chart.ts'

function ms (us: number): string {
  return (us / 1000).toFixed(us >= 100_000 ? 0 : us >= 10_000 ? 1 : 3)
}

export function formatTable (rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  return rows.map(r => r.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ').trimEnd()).join('\n')
}

// One line per result: throughput, then latency percentiles in milliseconds.
export function resultTable (results: readonly ScenarioResult[]): string {
  const rows: string[][] = [['target', 'req/s', 'records/s', 'MB/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'mean ms']]
  for (const r of results) {
    const l = r.latencyUs
    const lat = l.count === 0 ? ['n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a'] : [ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max), ms(l.mean)]
    rows.push([r.label, String(r.requestsPerSec), String(r.recordsPerSec), r.mbPerSec.toFixed(2), ...lat])
  }
  let out = formatTable(rows)
  for (const r of results) {
    const notes: string[] = []
    if (Object.keys(r.errors).length > 0) notes.push(`Kafka errors ${JSON.stringify(r.errors)}`)
    if (r.unsent > 0) notes.push(`${r.unsent} requests fell due but were never sent (the target could not keep up with --rate)`)
    if ((r.throttled ?? 0) > 0) notes.push(`${r.throttled} responses throttled (throttle_time_ms above 0), ${r.throttleMsAvg} ms on average`)
    if (r.unanswered > 0) notes.push(`${r.unanswered} requests unanswered at the end`)
    if (r.memory !== null) notes.push(`${r.memory.connections} connections: target RSS ${r.memory.rssBeforeKiB} -> ${r.memory.rssAfterKiB} KiB, ${r.memory.perConnectionKiB} KiB per connection`)
    if (r.sendLagUs !== null && r.sendLagUs.count > 0) notes.push(`generator send lag (included above) p50 ${ms(r.sendLagUs.p50)} ms, p99 ${ms(r.sendLagUs.p99)} ms`)
    if (r.latencyUs.count === 0) notes.push('no latency: acks=0 has no responses')
    for (const n of notes) out += `\n${r.label}: ${n}`
  }
  return out
}

export function resultJson (r: ScenarioResult): Record<string, unknown> {
  const { histogram, ...plain } = r
  return plain
}

export function safeName (label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '_')
}

// Writes DIR/<label>.hgrm for each result, DIR/results.json and DIR/latency.svg.
export function writeOutputs (dir: string, results: readonly ScenarioResult[], title: string, extra: Record<string, unknown> = {}): string[] {
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  for (const r of results) {
    if (r.histogram.totalCount === 0) continue
    const f = join(dir, `${safeName(r.label)}.hgrm`)
    writeFileSync(f, toHgrm(r.histogram))
    files.push(f)
  }
  const json = join(dir, 'results.json')
  writeFileSync(json, JSON.stringify({ ...extra, results: results.map(resultJson) }, null, 2) + '\n')
  files.push(json)
  const svg = join(dir, 'latency.svg')
  writeFileSync(svg, latencyChartSvg(title, results.filter(r => r.histogram.totalCount > 0).map(r => ({ label: r.label, histogram: r.histogram }))))
  files.push(svg)
  return files
}
