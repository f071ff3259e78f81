// The Kafka cluster behind kproxy: bootstrap servers, brokers learned and the local port each is
// served on, and whether each worker reaches the upstream.
import { registerPanel } from '../panel-registry.js'
import { el, clear, table } from '../dom.js'

registerPanel({
  id: 'upstreams',
  title: 'Upstream cluster',
  sources: ['/api/upstreams'],
  create (body) {
    return {
      update (data) {
        const u = data['/api/upstreams']
        clear(body).append(
          el('p', {}, el('span', { class: `dot ${u.ready ? 'ok' : 'bad'}` }), u.ready ? 'ready' : `not ready: ${u.reason}`,
            ` · bootstrap ${u.bootstrap.join(', ')}${u.tls ? ' (TLS)' : ''}`),
          table(['broker', 'upstream address', 'served on port'], u.brokers.map(b => [String(b.nodeId), b.upstream, b.localPort === null ? 'SNI' : String(b.localPort)])),
          el('p', { class: 'hint' }, u.workers.map(w => `worker ${w.id}: ${w.upstreamHealthy === null ? 'no answer' : w.upstreamHealthy ? 'upstream healthy' : 'upstream unhealthy'}`).join(' · '))
        )
      }
    }
  }
})
