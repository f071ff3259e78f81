// TLS handshakes, and the failed ones by reason (each reason with what it means).
import { registerPanel } from '../panel-registry.js'
import { el, clear, table } from '../dom.js'
import { count, rate } from '../format.js'

registerPanel({
  id: 'tls',
  title: 'TLS handshakes',
  sources: ['/api/tls'],
  create (body) {
    return {
      update (data) {
        const t = data['/api/tls']
        const failed = t.failures.filter(f => f.count > 0)
        clear(body).append(el('p', {}, `${count(t.handshakes)} completed (${rate(t.handshakesPerSecond)}), ${count(failed.reduce((n, f) => n + f.count, 0))} failed.`))
        // the reasons that happened; all of them are in /api/tls and in /metrics, zeros included
        if (failed.length > 0) {
          body.append(table(['reason', 'failures', 'rate', 'meaning'], failed.map(f => [f.reason, count(f.count), rate(f.perSecond), { text: f.description, class: 'text', title: f.description }]),
            i => failed[i].perSecond > 0 ? 'bad' : undefined))
        }
      }
    }
  }
})
