// The headline numbers and their last few minutes: requests, errors, bytes, connections.
import { registerPanel } from '../panel-registry.js'
import { el, clear } from '../dom.js'
import { byteRate, count, duration, rate } from '../format.js'
import { timeSeries } from '../charts.js'

registerPanel({
  id: 'overview',
  title: 'Overview',
  sources: ['/api/overview'],
  wide: true,
  create (body) {
    const cards = el('div', { class: 'cards' })
    const charts = el('div', { class: 'charts' })
    const requestsBox = el('div')
    const bytesBox = el('div')
    charts.append(requestsBox, bytesBox)
    body.append(cards, charts)
    let requests = null
    let traffic = null
    return {
      update (data) {
        const o = data['/api/overview']
        const card = (label, value, title) => el('div', { class: 'card', title, 'data-metric': label }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value))
        clear(cards).append(
          card('requests', rate(o.requests.perSecond), `${count(o.requests.total)} since start`),
          card('errors', rate(o.errors.perSecond), `${count(o.errors.total)} since start`),
          card('received', byteRate(o.bytes.receivedPerSecond), `${count(o.bytes.received)} bytes since start`),
          card('sent', byteRate(o.bytes.sentPerSecond), `${count(o.bytes.sent)} bytes since start`),
          card('connections', count(o.connections.active), `${count(o.connections.total)} accepted since start`),
          card('workers', `${o.workers.answering} / ${o.workers.configured}`, 'answering / configured'),
          card('restarts', count(o.workers.restarts), 'worker threads restarted since start'),
          card('uptime', duration(o.uptimeSeconds))
        )
        if (o.intervalSeconds === null) return
        if (requests === null) {
          requests = timeSeries(requestsBox, [{ label: 'requests/s' }, { label: 'errors/s' }], { format: v => count(v) })
          traffic = timeSeries(bytesBox, [{ label: 'received' }, { label: 'sent' }], { format: v => byteRate(v) })
        }
        const t = o.at / 1000
        requests.push(t, [o.requests.perSecond, o.errors.perSecond])
        traffic.push(t, [o.bytes.receivedPerSecond, o.bytes.sentPerSecond])
      }
    }
  }
})
