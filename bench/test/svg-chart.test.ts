import t from 'tap'
import { newHistogram, recordUs } from '../src/histogram.ts'
import { latencyChartSvg, percentileGrid } from '../src/svg-chart.ts'

// Tags balance and attributes are quoted: enough to say a browser or an XML parser reads it.
function checkWellFormed (svg: string): string[] {
  const stack: string[] = []
  const names: string[] = []
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m
    names.push(name!)
    if (self === '/') continue
    if (close === '/') {
      const open = stack.pop()
      if (open !== name) throw new Error(`</${name}> closes <${open}>`)
    } else {
      stack.push(name!)
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`)
  // nothing that looks like a tag was skipped by the pattern
  const tags = svg.match(/</g)?.length ?? 0
  if (tags !== names.length) throw new Error(`${tags - names.length} malformed tags`)
  return names
}

t.test('one line per target over 0..99.999% on a log axis, legend, escaped labels', async t => {
  const a = newHistogram()
  const b = newHistogram()
  for (let i = 1; i <= 10_000; i++) { recordUs(a, 100 + i / 100); recordUs(b, 200 + i / 50) }
  recordUs(b, 50_000)
  const svg = latencyChartSvg('produce <1 KiB> & friends', [{ label: 'direct', histogram: a }, { label: 'kproxy "1w"', histogram: b }])
  t.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'))
  checkWellFormed(svg)
  t.equal(svg.match(/<polyline /g)?.length, 2)
  t.match(svg, /produce &lt;1 KiB&gt; &amp; friends/)
  t.match(svg, /kproxy &quot;1w&quot;/)
  for (const label of ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']) t.match(svg, `>${label}</text>`)
  const grid = percentileGrid()
  t.equal(grid[0], 0)
  t.ok(Math.abs(grid[grid.length - 1]! - 99.999) < 1e-9)
  // every point lies inside the plot area; the slower line ends higher (smaller y)
  const lines = [...svg.matchAll(/points="([^"]+)"/g)].map(m => m[1]!.split(' ').map(p => p.split(',').map(Number)))
  for (const pts of lines) {
    t.equal(pts.length, grid.length)
    for (const [x, y] of pts) t.ok(x! >= 70 && x! <= 620 && y! >= 40 && y! <= 430, `point ${x},${y} in the plot`)
  }
  t.ok(lines[1]![lines[1]!.length - 1]![1]! < lines[0]![lines[0]!.length - 1]![1]!)
})

t.test('an empty chart is still a valid SVG', async t => {
  t.same(checkWellFormed(latencyChartSvg('nothing', [])).filter(n => n === 'polyline'), [])
})
