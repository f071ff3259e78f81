// Mesh mode, per cluster: open upstream connections, requests kproxy sends it, and the upstream
// answer time over the last interval (HDR histograms of the workers, merged; /api/mesh), with a
// percentile plot per cluster. Hidden outside mesh mode.
import { registerPanel } from '../panel-registry.js'
import { el, clear, table } from '../dom.js'
import { count, ms, rate } from '../format.js'
import { percentilePlot } from '../charts.js'

registerPanel({
  id: 'mesh',
  title: 'Mesh clusters',
  sources: ['/api/mesh'],
  wide: true,
  available: data => (data['/api/mesh']?.clusters.length ?? 0) > 0,
  create (body) {
    const tableBox = el('div')
    const plotTitle = el('h2', {}, 'Upstream latency percentiles per cluster, last interval')
    const plotBox = el('div', { class: 'percentile-plot' })
    body.append(tableBox, plotTitle, plotBox)
    const plot = percentilePlot(plotBox)
    return {
      update (data) {
        const clusters = data['/api/mesh'].clusters
        clear(tableBox)
        tableBox.append(table(['cluster', 'connections', 'req/s', 'requests', 'failed', 'p50', 'p99', 'p99.9', 'max', 'slowest API (p99)'], clusters.map(c => {
          const w = c.latencyWindow ?? c.latency
          // the same span as the cluster's columns: the last interval when it had requests
          const spanOf = a => c.latencyWindow !== null ? a.latencyWindow : a.latency
          const slowest = c.apis.filter(a => spanOf(a) !== null).sort((x, y) => spanOf(y).p99 - spanOf(x).p99)[0]
          return [{ text: c.cluster, class: 'text' }, count(c.connections), rate(c.requestsPerSecond), count(c.requests), count(c.failed),
            ms(w?.p50), ms(w?.p99), ms(w?.p999), ms(w?.max), slowest === undefined ? '–' : `${slowest.name} ${ms(spanOf(slowest).p99)}`]
        }), i => clusters[i].failed > 0 ? 'bad' : undefined))
        const plotted = clusters.filter(c => (c.latencyWindow ?? c.latency) !== null)
        plotTitle.hidden = plotBox.hidden = plotted.length === 0
        if (plotted.length > 0) plot.update(plotted.map(c => ({ label: c.cluster, percentiles: (c.latencyWindow ?? c.latency).percentiles })))
      }
    }
  }
})
