// The two kinds of chart, drawn with uPlot (loaded as a classic script: window.uPlot): a rolling
// time series of the last few minutes, and an HDR-style percentile plot whose x axis stretches
// the tail (x = 1 / (1 - percentile)), so p99, p99.9 and p99.99 get equal room.
const KEEP_POINTS = 300
export const PALETTE = ['#2f6fb3', '#c2261f', '#2e8540', '#c77c02', '#6c4fb3', '#0f8a8a', '#a2467d', '#5b6770']

function widthOf (container) {
  return Math.max(280, container.clientWidth || 480)
}

function resizing (container, plot, height) {
  new ResizeObserver(() => plot.setSize({ width: widthOf(container), height })).observe(container)
}

// series: [{ label, format(value) }]; push(unixSeconds, [v1, v2, ...]) appends a point.
export function timeSeries (container, series, { height = 160, format = v => String(v) } = {}) {
  const data = [[], ...series.map(() => [])]
  const plot = new window.uPlot({
    width: widthOf(container),
    height,
    legend: { live: true },
    // at least a minute wide, so that the first points do not stretch over years
    scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 60), max] } },
    axes: [{}, { values: (u, vals) => vals.map(v => v === null ? '' : format(v)), size: 90 }],
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, value: (u, v) => v === null || v === undefined ? '–' : format(v) }))]
  }, data, container)
  resizing(container, plot, height)
  return {
    push (t, values) {
      data[0].push(t)
      values.forEach((v, i) => data[i + 1].push(v))
      if (data[0].length > KEEP_POINTS) for (const column of data) column.shift()
      // a line needs two points (and uPlot stretches a lone one over years)
      if (data[0].length >= 2) plot.setData(data)
    }
  }
}

const TAIL_CAP = 99.9999
const stretch = p => 1 / (1 - Math.min(p, TAIL_CAP) / 100)
const unstretch = x => 100 * (1 - 1 / x)

function percentileLabel (x) {
  const p = unstretch(x)
  if (p >= TAIL_CAP - 1e-9) return 'max'
  return (p < 1 ? '0' : String(Number(p.toPrecision(6)))) + '%'
}

// update([{ label, percentiles: [[percentile, ms], ...] }]) redraws with those lines.
export function percentilePlot (container, { height = 220 } = {}) {
  let plot = null
  let labels = ''
  function build (lines) {
    if (plot !== null) plot.destroy()
    plot = new window.uPlot({
      width: widthOf(container),
      height,
      scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
      axes: [
        { values: (u, vals) => vals.map(v => v === null ? '' : percentileLabel(v)), splits: () => [1, 2, 10, 100, 1000, 10000, 100000, stretch(TAIL_CAP)] },
        { label: 'ms', values: (u, vals) => vals.map(v => v === null ? '' : String(Number(v.toPrecision(3)))), size: 60 }
      ],
      series: [{ label: 'percentile', value: (u, x) => x === null || x === undefined ? '–' : percentileLabel(x) },
        ...lines.map((l, i) => ({ label: l.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, points: { show: true }, value: (u, v) => v === null || v === undefined ? '–' : v.toFixed(3) + ' ms' }))]
    }, [[]], container)
    resizing(container, plot, height)
  }
  return {
    update (lines) {
      const key = lines.map(l => l.label).join('\u0000')
      if (key !== labels || plot === null) {
        labels = key
        build(lines)
      }
      if (lines.length === 0) return
      const xs = lines[0].percentiles.map(([p]) => stretch(p))
      // a log scale cannot show 0: the smallest latency HDR records is 1 µs
      plot.setData([xs, ...lines.map(l => l.percentiles.map(([, v]) => Math.max(v, 0.001)))])
    }
  }
}
