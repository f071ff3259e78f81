// Worker threads: state, connections each holds, upstream health, and the restarts so far.
import { registerPanel } from '../panel-registry.js'
import { el, clear, table } from '../dom.js'
import { count } from '../format.js'
import { timeSeries } from '../charts.js'

registerPanel({
  id: 'workers',
  title: 'Workers',
  sources: ['/api/workers'],
  create (body) {
    const tableBox = el('div')
    const chartBox = el('div')
    const restartsBox = el('div')
    body.append(tableBox, chartBox, restartsBox)
    let chart = null
    let ids = ''
    return {
      update (data) {
        const w = data['/api/workers']
        clear(tableBox).append(table(['worker', 'state', 'connections', 'upstream', 'log level'], w.workers.map(x => [
          String(x.id), x.state, count(x.activeConnections),
          el('span', {}, el('span', { class: `dot ${x.upstreamHealthy === true ? 'ok' : x.upstreamHealthy === false ? 'bad' : ''}` }), x.upstreamHealthy === null ? 'unknown' : x.upstreamHealthy ? 'healthy' : 'unhealthy'),
          x.logLevel ?? '–'
        ])))
        const key = w.workers.map(x => x.id).join(',')
        if (chart === null || key !== ids) {
          ids = key
          clear(chartBox)
          chart = timeSeries(chartBox, w.workers.map(x => ({ label: `worker ${x.id}` })), { height: 120, format: v => count(v) })
        }
        chart.push(Date.now() / 1000, w.workers.map(x => x.activeConnections))
        clear(restartsBox).append(w.restarts.length === 0
          ? el('p', { class: 'hint' }, `No worker has restarted. Spare thread: ${w.spare}.`)
          : table(['worker', 'exit code', 'died', 'back after'], w.restarts.slice(-10).reverse().map(r => [
            String(r.workerId), String(r.exitCode), new Date(r.diedAt).toLocaleTimeString(), r.readyAt === null ? 'restarting' : `${r.readyAt - r.diedAt} ms`])))
      }
    }
  }
})
