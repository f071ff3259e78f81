// Issue 12's table from one `pnpm bench:table` run: which comparisons make a row, and, from the
// measured medians, each row's ratios and whether each of the targets holds (pure: no I/O).
import type { CompareRow, Round } from './compare.ts'
import { median } from './compare.ts'
import { formatTable } from './report.ts'

export type TableScenario = 'produce' | 'fetch' | 'roundtrip' | 'connections'

export interface TableRowDef {
  id: string
  title: string
  scenario: TableScenario
  targets: string[]
  // kproxy's target in this row, the peer it is held against, Node's floor (a plain pipe) if any
  proxy: string
  peer: string
  floor: string | null
  // L4 peers shown beside Envoy (× direct only)
  others: string[]
  args: string[]
}

// Issue 12's targets, as this table checks them
export const IDLE_KIB_TARGET = 10
export const PRODUCE_DIRECT_TARGET = 0.9

// The rows in the order; `seconds` is the measured time of one round of a throughput row.
export function tableRows (seconds: number, idleConnections: number): TableRowDef[] {
  const d = ['--duration', String(seconds)]
  const rt = ['--connections', '1', '--duration', String(seconds + 2)]
  return [
    { id: 'produce', title: 'produce', scenario: 'produce', targets: ['direct', 'kproxy', 'envoy', 'haproxy', 'node-pipe'], proxy: 'kproxy', peer: 'envoy', floor: 'node-pipe', others: ['haproxy'], args: d },
    { id: 'fetch', title: 'fetch', scenario: 'fetch', targets: ['direct', 'kproxy', 'envoy', 'node-pipe'], proxy: 'kproxy', peer: 'envoy', floor: 'node-pipe', others: [], args: d },
    { id: 'double', title: 'mTLS double proxy, produce', scenario: 'produce', targets: ['direct', 'kproxy-double', 'envoy-double', 'node-pipe-double'], proxy: 'kproxy-double', peer: 'envoy-double', floor: 'node-pipe-double', others: [], args: d },
    { id: 'two-threads', title: 'produce, 2 workers', scenario: 'produce', targets: ['direct', 'kproxy-2w', 'envoy-2'], proxy: 'kproxy-2w', peer: 'envoy-2', floor: null, others: [], args: d },
    { id: 'roundtrip-1000', title: 'round trip at 1,000/s', scenario: 'roundtrip', targets: ['direct', 'kproxy', 'envoy', 'node-pipe'], proxy: 'kproxy', peer: 'envoy', floor: 'node-pipe', others: [], args: ['--rate', '1000', ...rt] },
    { id: 'roundtrip-5000', title: 'round trip at 5,000/s', scenario: 'roundtrip', targets: ['direct', 'kproxy', 'envoy', 'node-pipe'], proxy: 'kproxy', peer: 'envoy', floor: 'node-pipe', others: [], args: ['--rate', '5000', ...rt] },
    { id: 'idle', title: `${idleConnections.toLocaleString('en')} idle connections`, scenario: 'connections', targets: ['direct', 'kproxy', 'envoy'], proxy: 'kproxy', peer: 'envoy', floor: null, others: [], args: ['--count', String(idleConnections)] }
  ]
}

export interface TableTarget { what: string, met: boolean, by: string }

export interface TableLine {
  id: string
  title: string
  scenario: TableScenario
  // throughput × direct per target name (null: not measured)
  timesDirect: Record<string, number | null>
  // kproxy ÷ peer, throughput
  overPeer: number | null
  // CPU per unit of work: s/GB for throughput rows, µs per request for round trips
  cpu: Record<string, number | null>
  cpuUnit: string
  // round trips: added over direct's medians, ms
  addedP50Ms: Record<string, number | null>
  addedP99Ms: Record<string, number | null>
  kibPerConnection: Record<string, number | null>
  skipped: string[]
  targets: TableTarget[]
}

// a ÷ b, null when either is missing or b is not positive
export function ratio (a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || !(b > 0) || Number.isNaN(a) ? null : a / b
}

// CPU µs per request over a target's rounds (median), for the round-trip rows
export function cpuUsPerRequest (rounds: readonly Round[], target: string): number | null {
  const xs = rounds.filter(r => r.target === target && r.cpuSeconds !== null && r.result.requests > 0).map(r => r.cpuSeconds! * 1e6 / r.result.requests)
  return xs.length === 0 ? null : median(xs)
}

// "missed by 12%" / "met (8% to spare)"; `higherIsBetter` says which way the bound goes
function check (what: string, value: number | null, bound: number, higherIsBetter: boolean, unit = ''): TableTarget {
  if (value === null) return { what, met: false, by: 'not measured' }
  const met = higherIsBetter ? value >= bound : value <= bound
  if (unit !== '') return { what, met, by: `${value.toFixed(2)}${unit} against ${bound}${unit}` }
  const off = Math.abs(value / bound - 1) * 100
  return { what, met, by: met ? `${value.toFixed(3)} (${off.toFixed(0)}% to spare)` : `${value.toFixed(3)} (missed by ${off.toFixed(0)}%)` }
}

export function tableLine (def: TableRowDef, rows: readonly CompareRow[], rounds: readonly Round[]): TableLine {
  const by = new Map(rows.map(r => [r.target, r]))
  const ok = (t: string): CompareRow | undefined => { const r = by.get(t); return r !== undefined && r.skipped === null && r.rounds > 0 ? r : undefined }
  const named = [def.proxy, def.peer, ...def.others, ...(def.floor === null ? [] : [def.floor])]
  const timesDirect: Record<string, number | null> = {}
  const cpu: Record<string, number | null> = {}
  const addedP50Ms: Record<string, number | null> = {}
  const addedP99Ms: Record<string, number | null> = {}
  const kibPerConnection: Record<string, number | null> = {}
  const direct = ok('direct')
  for (const t of named) {
    const r = ok(t)
    timesDirect[t] = r?.throughputRatio ?? null
    cpu[t] = def.scenario === 'roundtrip' ? (r === undefined ? null : cpuUsPerRequest(rounds, t)) : r?.cpuSecondsPerGB ?? null
    addedP50Ms[t] = r === undefined || direct === undefined ? null : (r.p50 - direct.p50) / 1000
    addedP99Ms[t] = r === undefined || direct === undefined ? null : (r.p99 - direct.p99) / 1000
  }
  for (const t of def.targets) kibPerConnection[t] = ok(t)?.kibPerConnection ?? null
  const overPeer = ratio(ok(def.proxy)?.throughput, ok(def.peer)?.throughput)
  const cpuOverPeer = ratio(cpu[def.proxy], cpu[def.peer])
  const targets: TableTarget[] = []
  if (def.scenario === 'produce' || def.scenario === 'fetch') {
    if (def.id !== 'two-threads') targets.push(check(`CPU s/GB ≤ ${def.peer}'s (kproxy ÷ ${def.peer})`, cpuOverPeer, 1, false))
    targets.push(check(`throughput ≥ 1.0× ${def.peer}`, overPeer, 1, true))
    if (def.id === 'produce') targets.push(check(`produce ≥ ${PRODUCE_DIRECT_TARGET}× direct`, timesDirect[def.proxy] ?? null, PRODUCE_DIRECT_TARGET, true))
  } else if (def.scenario === 'roundtrip') {
    targets.push(check(`CPU per request ≤ ${def.peer}'s (kproxy ÷ ${def.peer})`, cpuOverPeer, 1, false))
    const a = addedP99Ms[def.proxy] ?? null
    const b = addedP99Ms[def.peer] ?? null
    targets.push(a === null || b === null
      ? { what: `added p99 ≤ ${def.peer}'s`, met: false, by: 'not measured' }
      : { what: `added p99 ≤ ${def.peer}'s`, met: a <= b, by: `${a.toFixed(3)} ms against ${b.toFixed(3)} ms` })
  } else {
    targets.push(check(`≤ ${IDLE_KIB_TARGET} KiB per idle connection`, kibPerConnection[def.proxy] ?? null, IDLE_KIB_TARGET, false, ' KiB'))
  }
  const skipped = rows.filter(r => r.skipped !== null).map(r => `${r.target}: ${r.skipped}`)
  return { id: def.id, title: def.title, scenario: def.scenario, timesDirect, overPeer, cpu, cpuUnit: def.scenario === 'roundtrip' ? 'µs/request' : 'CPU s/GB', addedP50Ms, addedP99Ms, kibPerConnection, skipped, targets }
}

const f = (x: number | null | undefined, digits = 3): string => x == null ? '–' : x.toFixed(digits)

// The summary as a Markdown table (issue 12's columns), then one line per target checked.
export function tableMarkdown (defs: readonly TableRowDef[], lines: readonly TableLine[]): string {
  const out: string[][] = [['row', 'kproxy × direct', 'peer × direct', 'HAProxy × direct', 'Node floor × direct', 'kproxy ÷ peer', 'CPU kproxy vs peer (ratio)', 'Node floor CPU ÷ peer', 'added p50 / p99 ms, kproxy vs peer', 'KiB per connection, kproxy vs peer']]
  for (const line of lines) {
    const def = defs.find(d => d.id === line.id)!
    const cpuRatio = ratio(line.cpu[def.proxy], line.cpu[def.peer])
    const digits = line.scenario === 'roundtrip' ? 1 : 2
    // a connections round's rate is how fast connections opened, not a throughput
    const idle = line.scenario === 'connections'
    out.push([
      `${line.title} (${def.proxy} vs ${def.peer})`,
      idle ? '–' : f(line.timesDirect[def.proxy]),
      idle ? '–' : f(line.timesDirect[def.peer]),
      def.others.includes('haproxy') ? f(line.timesDirect.haproxy) : '–',
      def.floor === null ? '–' : f(line.timesDirect[def.floor]),
      idle ? '–' : f(line.overPeer),
      idle ? '–' : `${f(line.cpu[def.proxy], digits)} vs ${f(line.cpu[def.peer], digits)} ${line.cpuUnit} (${f(cpuRatio, 2)}×)`,
      def.floor === null ? '–' : f(ratio(line.cpu[def.floor], line.cpu[def.peer]), 2),
      line.scenario === 'roundtrip' ? `${f(line.addedP50Ms[def.proxy])} / ${f(line.addedP99Ms[def.proxy], 2)} vs ${f(line.addedP50Ms[def.peer])} / ${f(line.addedP99Ms[def.peer], 2)}` : '–',
      idle ? `${f(line.kibPerConnection[def.proxy], 1)} vs ${f(line.kibPerConnection[def.peer], 1)} (broker ${f(line.kibPerConnection.direct, 1)})` : '–'
    ])
  }
  const md = [`| ${out[0]!.join(' | ')} |`, `|${out[0]!.map(() => '---').join('|')}|`, ...out.slice(1).map(r => `| ${r.join(' | ')} |`)]
  const checks = lines.flatMap(l => l.targets.map(t => `- ${l.title}: ${t.what}: ${t.met ? 'met' : 'missed'}, ${t.by}`))
  const skipped = lines.flatMap(l => l.skipped.map(s => `- ${l.title}: skipped ${s}`))
  return [...md, '', 'Targets (issue 12):', ...checks, ...(skipped.length === 0 ? [] : ['', 'Skipped:', ...skipped])].join('\n')
}

// The same as plain text for a terminal
export function tableText (defs: readonly TableRowDef[], lines: readonly TableLine[]): string {
  const rows: string[][] = [['row', 'kproxy x direct', 'peer x direct', 'kproxy / peer', 'kproxy', 'peer', 'unit']]
  for (const line of lines) {
    const def = defs.find(d => d.id === line.id)!
    const idle = line.scenario === 'connections'
    const mine = idle ? line.kibPerConnection[def.proxy] : line.cpu[def.proxy]
    const theirs = idle ? line.kibPerConnection[def.peer] : line.cpu[def.peer]
    rows.push([line.id, idle ? '–' : f(line.timesDirect[def.proxy]), idle ? '–' : f(line.timesDirect[def.peer]), idle ? '–' : f(line.overPeer), f(mine, 2), f(theirs, 2), idle ? 'KiB/connection' : line.cpuUnit])
  }
  return formatTable(rows)
}
