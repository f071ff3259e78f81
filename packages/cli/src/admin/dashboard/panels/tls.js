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
        const failed = t.failures.reduce((n, f) => n + f.count, 0)
        clear(body).append(
          el('p', {}, `${count(t.handshakes)} completed (${rate(t.handshakesPerSecond)}), ${count(failed)} failed.`),
          table(['reason', 'failures', 'rate', 'meaning'], t.failures.map(f => [f.reason, count(f.count), rate(f.perSecond), { text: f.description, class: 'text', title: f.description }]),
            i => t.failures[i].count > 0 ? 'bad' : undefined)
        )
      }
    }
  }
})
