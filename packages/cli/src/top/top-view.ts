// What `kproxy top` shows, as lines of text: a header with totals and rates, one row per Kafka
// API (sorted by the key the user chose), and the busiest flows. Pure: the terminal loop
// (top-terminal.ts) fetches, calls this and paints. Client-chosen strings (client ids, topics,
// principals) are cleaned of control characters before they reach the terminal, so a client id
// cannot move the cursor, clear the screen or retitle the window.
import type { ApiView, FlowsView, OverviewView, WorkersView } from '../admin/api-views.ts'

export type ApiSort = 'rate' | 'total' | 'errors' | 'latency' | 'name'
export const SORT_KEYS: Readonly<Record<string, ApiSort>> = { r: 'rate', t: 'total', e: 'errors', l: 'latency', n: 'name' }
const SORT_NAMES: Readonly<Record<ApiSort, string>> = { rate: 'req/s', total: 'requests', errors: 'errors', latency: 'p99', name: 'name' }

export interface TopData {
  url: string
  overview: OverviewView
  apis: ApiView[]
  flows: FlowsView | null
  workers: WorkersView
}

export interface TopState {
  sort: ApiSort
  showFlows: boolean
  // a fetch that failed after the first one (kproxy restarting...): shown, the last data stays
  problem: string | null
}

// No C0/C1 control character (ESC, CR, BEL...) from a client reaches the terminal.
export function printable (s: string | null): string {
  if (s === null) return '-'
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function fit (s: string, width: number): string {
  return s.length <= width ? s.padEnd(width) : s.slice(0, Math.max(0, width - 1)) + '~'
}

function right (s: string, width: number): string {
  return s.padStart(width)
}

function num (n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined) return '-'
  return n.toFixed(digits)
}

function ms (v: number | null | undefined): string {
  if (v === null || v === undefined) return '-'
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
}

function bytes (n: number | null): string {
  if (n === null) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`
}

function uptime (s: number): string {
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor(s % 3600 / 60)}m`
  return `${Math.floor(s / 86400)}d ${Math.floor(s % 86400 / 3600)}h`
}

function latencyOf (a: ApiView): ApiView['latency'] {
  return a.latencyWindow ?? a.latency
}

export function sortApis (apis: readonly ApiView[], sort: ApiSort): ApiView[] {
  const by: Record<ApiSort, (a: ApiView, b: ApiView) => number> = {
    rate: (a, b) => (b.requestsPerSecond ?? 0) - (a.requestsPerSecond ?? 0) || b.requests - a.requests,
    total: (a, b) => b.requests - a.requests,
    errors: (a, b) => (b.errorsPerSecond ?? 0) - (a.errorsPerSecond ?? 0) || b.errors - a.errors,
    latency: (a, b) => (latencyOf(b)?.p99 ?? -1) - (latencyOf(a)?.p99 ?? -1),
    name: (a, b) => a.name.localeCompare(b.name)
  }
  return [...apis].sort((a, b) => by[sort](a, b) || a.apiKey - b.apiKey)
}

export const API_HEADER = ['API', 'REQ/S', 'REQUESTS', 'ERR/S', 'ERRORS', 'P50MS', 'P99MS', 'P99.9MS', 'THROTTLED']

export function renderTop (d: TopData, s: TopState, size: { columns: number, rows: number }, now = new Date()): string[] {
  const o = d.overview
  const lines: string[] = []
  lines.push(`kproxy ${d.url}  ${o.ready.ready ? 'ready' : `NOT READY: ${printable(o.ready.reason)}`}  up ${uptime(o.uptimeSeconds)}  workers ${o.workers.answering}/${o.workers.configured}  restarts ${o.workers.restarts}  ${now.toLocaleTimeString()}`)
  lines.push(`conns ${o.connections.active} active, ${o.connections.total} total  in ${bytes(o.bytes.receivedPerSecond)}/s  out ${bytes(o.bytes.sentPerSecond)}/s  requests ${o.requests.total} (${num(o.requests.perSecond)}/s)  errors ${o.errors.total} (${num(o.errors.perSecond)}/s)`)
  lines.push(`workers: ${d.workers.workers.map(w => `#${w.id} ${w.state} ${w.activeConnections ?? '-'} conns${w.upstreamHealthy === false ? ' UPSTREAM DOWN' : ''}`).join('  ')}`)
  lines.push(s.problem === null ? '' : `! ${printable(s.problem)}`)
  const widths = [22, 9, 11, 8, 9, 8, 8, 8, 10]
  const row = (cells: string[]): string => cells.map((c, i) => i === 0 ? fit(c, widths[0]!) : right(c, widths[i]!)).join(' ')
  lines.push(row(API_HEADER) + `   sort: ${SORT_NAMES[s.sort]}`)
  for (const a of sortApis(d.apis, s.sort)) {
    const l = latencyOf(a)
    lines.push(row([a.name, num(a.requestsPerSecond), String(a.requests), num(a.errorsPerSecond), String(a.errors), ms(l?.p50), ms(l?.p99), ms(l?.p999), String(a.throttledResponses)]))
  }
  if (s.showFlows) {
    lines.push('')
    const f = d.flows
    if (f === null || !f.recorded) {
      lines.push('FLOWS: not recorded (set stats.flows: true)')
    } else {
      lines.push(`FLOWS (${f.shown} of ${f.total}, busiest first)`)
      const fw = [24, 18, 24, 10, 12, 12, 8]
      const frow = (cells: string[]): string => cells.map((c, i) => i < 4 ? fit(c, fw[i]!) : right(c, fw[i]!)).join(' ')
      lines.push(frow(['CLIENT', 'PRINCIPAL', 'TOPIC', 'TARGET', 'IN/S', 'OUT/S', 'ERR/S']))
      for (const x of f.flows) {
        lines.push(frow([printable(x.clientId), printable(x.principal), printable(x.topic), printable(x.target), bytes(x.bytesInPerSecond), bytes(x.bytesOutPerSecond), num(x.errorsPerSecond)]))
      }
    }
  }
  const footer = 'q quit  r req/s  t requests  e errors  l p99  n name  f flows'
  const body = lines.slice(0, Math.max(1, size.rows - 1)).map(l => l.length > size.columns ? l.slice(0, size.columns) : l)
  return [...body, footer.slice(0, size.columns)]
}
