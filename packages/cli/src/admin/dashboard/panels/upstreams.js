// The Kafka cluster behind kproxy: bootstrap servers, brokers learned and the local port each is
// served on, and whether each worker reaches the upstream. Hidden in mesh mode (no bootstrap
// servers of its own; the mesh panel shows the clusters).
import { registerPanel } from '../panel-registry.js'
import { el, clear, table } from '../dom.js'
import { ms } from '../format.js'

registerPanel({
  id: 'upstreams',
  title: 'Upstream cluster',
  sources: ['/api/upstreams'],
  available: data => (data['/api/upstreams']?.servers.length ?? 0) > 0,
  create (body) {
    return {
      update (data) {
        const u = data['/api/upstreams']
        clear(body).append(
          el('p', {}, el('span', { class: `dot ${u.ready ? 'ok' : 'bad'}` }), u.ready ? 'ready' : `not ready: ${u.reason}`, u.tls ? ' · upstream over TLS' : ''),
          table(['bootstrap server', 'Metadata', 'time'], u.servers.map(s => [s.server,
            el('span', { title: s.error?.message }, el('span', { class: `dot ${s.reachable ? 'ok' : 'bad'}` }), s.error === null ? 'answered' : s.error.code),
            ms(s.ms)]), i => u.servers[i].reachable ? undefined : 'bad'),
          table(['broker', 'upstream address', 'served on port'], u.brokers.map(b => [String(b.nodeId), b.upstream, b.localPort === null ? 'SNI' : String(b.localPort)])),
          el('p', { class: 'hint' }, u.workers.map(w => `worker ${w.id}: ${w.upstreamHealthy === null ? 'no answer' : w.upstreamHealthy ? 'upstream healthy' : 'upstream unhealthy'}`).join(' · '))
        )
      }
    }
  }
})
