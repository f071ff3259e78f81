// Latency by percentile as an SVG line chart, one line per target, the usual HdrHistogram view:
// the x axis is log10(1 / (1 - p)), so 0%, 90%, 99%, 99.9%, ... are evenly spaced up to 99.999%;
// the y axis is linear milliseconds from 0 to the largest value shown.
import type { Histogram } from './histogram.ts'

export interface ChartSeries { label: string, histogram: Histogram }

const W = 800
const H = 480
const LEFT = 70
const RIGHT = 180
const TOP = 40
const BOTTOM = 50
const NINES = 5
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']

// text for an SVG document
export function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

// Percentiles sampled evenly on the log axis: 20 points per nine.
export function percentileGrid (): number[] {
  const out: number[] = []
  for (let i = 0; i <= NINES * 20; i++) out.push(100 * (1 - Math.pow(10, -i / 20)))
  return out
}

function niceMax (v: number): number {
  if (v <= 0) return 1
  const p = Math.pow(10, Math.floor(Math.log10(v)))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

export function latencyChartSvg (title: string, series: readonly ChartSeries[]): string {
  const grid = percentileGrid()
  const values = series.map(s => grid.map(p => s.histogram.getValueAtPercentile(p) / 1000))
  const yMax = niceMax(Math.max(0, ...values.flat()))
  const pw = W - LEFT - RIGHT
  const ph = H - TOP - BOTTOM
  const x = (i: number): number => LEFT + (i / (grid.length - 1)) * pw
  const y = (v: number): number => TOP + ph - (v / yMax) * ph
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`)
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`)
  // x ticks at each nine
  const labels = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']
  for (let n = 0; n <= NINES; n++) {
    const px = LEFT + (n / NINES) * pw
    parts.push(`<line x1="${px}" y1="${TOP}" x2="${px}" y2="${TOP + ph}" stroke="#ddd"/>`)
    parts.push(`<text x="${px}" y="${TOP + ph + 18}" text-anchor="middle">${labels[n]}</text>`)
  }
  for (let k = 0; k <= 5; k++) {
    const v = (yMax * k) / 5
    const py = y(v)
    parts.push(`<line x1="${LEFT}" y1="${py}" x2="${LEFT + pw}" y2="${py}" stroke="#eee"/>`)
    parts.push(`<text x="${LEFT - 6}" y="${py + 4}" text-anchor="end">${Number(v.toPrecision(3))}</text>`)
  }
  parts.push(`<rect x="${LEFT}" y="${TOP}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`)
  parts.push(`<text x="${LEFT + pw / 2}" y="${H - 10}" text-anchor="middle">percentile</text>`)
  parts.push(`<text x="16" y="${TOP + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${TOP + ph / 2})">latency (ms)</text>`)
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!
    const points = values[i]!.map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"><title>${esc(s.label)}</title></polyline>`)
    const ly = TOP + 10 + i * 20
    parts.push(`<line x1="${LEFT + pw + 12}" y1="${ly}" x2="${LEFT + pw + 32}" y2="${ly}" stroke="${color}" stroke-width="2"/>`)
    parts.push(`<text x="${LEFT + pw + 38}" y="${ly + 4}">${esc(s.label)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
