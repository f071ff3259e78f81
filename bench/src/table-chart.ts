// Issue 12's table as an SVG bar chart: per row, kproxy's throughput and CPU per unit of work as a
// ratio to the peer it is held against (Envoy), and Node's floor's CPU on the same scale, with the
// line at 1.0 that the targets are about (throughput at or right of it, CPU at or left of it).
import { esc } from './svg-chart.ts'
import { ratio } from './table-report.ts'
import type { TableLine, TableRowDef } from './table-report.ts'

const W = 860
const LEFT = 300
const RIGHT = 40
const TOP = 56
const BAR = 14
const GAP = 4
const GROUP_GAP = 16
const SERIES = [
  { key: 'throughput', label: 'throughput, kproxy ÷ peer (target ≥ 1)', color: '#1f77b4' },
  { key: 'cpu', label: 'CPU per unit of work, kproxy ÷ peer (target ≤ 1)', color: '#d62728' },
  { key: 'floor', label: 'CPU, Node floor (plain pipe) ÷ peer', color: '#999999' }
] as const

export function tableChartSvg (title: string, defs: readonly TableRowDef[], lines: readonly TableLine[]): string {
  const groups = lines.filter(l => l.scenario !== 'connections').map(l => {
    const def = defs.find(d => d.id === l.id)!
    return {
      label: `${l.title} (${def.peer})`,
      values: {
        throughput: l.scenario === 'roundtrip' ? null : l.overPeer,
        cpu: ratio(l.cpu[def.proxy], l.cpu[def.peer]),
        floor: def.floor === null ? null : ratio(l.cpu[def.floor], l.cpu[def.peer])
      } as Record<string, number | null>
    }
  })
  const all = groups.flatMap(g => Object.values(g.values)).filter((v): v is number => v !== null)
  const xMax = Math.max(2, Math.ceil(Math.max(0, ...all) * 2) / 2)
  const pw = W - LEFT - RIGHT
  const x = (v: number): number => LEFT + (v / xMax) * pw
  const groupHeight = SERIES.length * (BAR + GAP) + GROUP_GAP
  const ph = groups.length * groupHeight
  const H = TOP + ph + 40 + SERIES.length * 18
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`)
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`)
  for (let v = 0; v <= xMax + 1e-9; v += 0.5) {
    const px = x(v)
    parts.push(`<line x1="${px}" y1="${TOP - 6}" x2="${px}" y2="${TOP + ph}" stroke="${v === 1 ? '#333' : '#e5e5e5'}"${v === 1 ? ' stroke-dasharray="4 3"' : ''}/>`)
    parts.push(`<text x="${px}" y="${TOP - 10}" text-anchor="middle">${v.toFixed(1)}×</text>`)
  }
  groups.forEach((g, i) => {
    const y0 = TOP + i * groupHeight
    parts.push(`<text x="${LEFT - 8}" y="${y0 + (SERIES.length * (BAR + GAP)) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`)
    SERIES.forEach((s, k) => {
      const v = g.values[s.key]
      if (v == null) return
      const y = y0 + k * (BAR + GAP)
      parts.push(`<rect x="${LEFT}" y="${y}" width="${Math.max(1, x(v) - LEFT)}" height="${BAR}" fill="${s.color}"/>`)
      parts.push(`<text x="${x(v) + 4}" y="${y + BAR - 3}">${v.toFixed(2)}</text>`)
    })
  })
  SERIES.forEach((s, k) => {
    const y = TOP + ph + 24 + k * 18
    parts.push(`<rect x="${LEFT}" y="${y - 10}" width="12" height="12" fill="${s.color}"/>`)
    parts.push(`<text x="${LEFT + 18}" y="${y}">${esc(s.label)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
