// Per Kafka API: rates, errors, throttling, and the latency percentile plot of the busiest APIs
// over the last interval (HDR histograms of the workers, merged).
import { registerPanel } from '../panel-registry.js'
import { el, clear, table } from '../dom.js'
import { count, ms, rate } from '../format.js'
import { percentilePlot } from '../charts.js'

const PLOTTED = 5

// throttle time the broker imposed per second of wall time (how much of the time clients waited)
function throttle (a) {
  if (a.throttleSecondsPerSecond === null) return a.throttledResponses === 0 ? '0' : '–'
  return a.throttleSecondsPerSecond === 0 ? '0' : ms(a.throttleSecondsPerSecond * 1000) + '/s'
}

registerPanel({
  id: 'apis',
  title: 'Kafka APIs',
  sources: ['/api/apis'],
  wide: true,
  create (body) {
    const tableBox = el('div')
    const plotTitle = el('h2', {}, 'Latency percentiles, last interval (busiest APIs)')
    const plotBox = el('div', { class: 'percentile-plot' })
    const empty = el('p', { class: 'hint' }, 'No request has come through yet.')
    body.append(empty, tableBox, plotTitle, plotBox)
    const plot = percentilePlot(plotBox)
    return {
      update (data) {
        const apis = data['/api/apis'].apis
        const rows = apis.map(a => {
          const w = a.latencyWindow ?? a.latency
          return [a.name, rate(a.requestsPerSecond), count(a.requests), rate(a.errorsPerSecond), count(a.errors),
            { text: a.errorCodes.map(e => e.error).join(', '), class: 'text', title: a.errorCodes.map(e => `${e.error}: ${e.count}`).join('\n') },
            ms(w?.p50), ms(w?.p99), ms(w?.p999), ms(w?.max), throttle(a)]
        })
        clear(tableBox)
        if (apis.length > 0) tableBox.append(table(['API', 'req/s', 'requests', 'err/s', 'errors', 'error codes', 'p50', 'p99', 'p99.9', 'max', 'throttled'], rows, i => apis[i].errorsPerSecond > 0 ? 'bad' : undefined))
        const plotted = apis.filter(a => (a.latencyWindow ?? a.latency) !== null)
          .sort((x, y) => (y.requestsPerSecond ?? y.requests) - (x.requestsPerSecond ?? x.requests)).slice(0, PLOTTED)
        plotTitle.hidden = plotBox.hidden = plotted.length === 0
        if (plotted.length > 0) plot.update(plotted.map(a => ({ label: a.name, percentiles: (a.latencyWindow ?? a.latency).percentiles })))
        empty.hidden = apis.length > 0
      }
    }
  }
})
