// `kproxy status` in words, from the admin API's answers.
import type { OverviewView, UpstreamsView } from '../admin/api-views.ts'
import type { Readiness } from '../supervisor/supervisor.ts'

export interface StatusAnswers {
  url: string
  ready: Readiness
  overview: OverviewView
  upstreams: UpstreamsView
}

export function formatStatus (a: StatusAnswers): string {
  const o = a.overview
  const u = a.upstreams
  const readyWorkers = a.ready.workers.filter(w => w.state === 'ready').length
  const lines = [
    `kproxy at ${a.url}: ${a.ready.ready ? 'ready' : `NOT READY: ${a.ready.reason ?? 'unknown reason'}`}`,
    `  workers      ${readyWorkers}/${o.workers.configured} ready, spare ${a.ready.spare}, ${o.workers.restarts} restart(s) since the start ${uptime(o.uptimeSeconds)} ago`,
    `  connections  ${o.connections.active} open, ${o.connections.total} accepted`,
    `  traffic      ${o.requests.total} requests, ${o.errors.total} error codes in responses, ${o.bytes.received} bytes in, ${o.bytes.sent} bytes out`,
    ...u.servers.map(s => `  upstream     ${s.server}: ${s.error === null ? `answered Metadata in ${Math.round(s.ms)} ms` : `${s.error.code}: ${s.error.message}`}`),
    `  brokers      ${u.brokers.length === 0 ? 'none known' : u.brokers.map(b => `${b.nodeId} (${b.upstream}${b.localPort === null ? '' : ` on port ${b.localPort}`})`).join(', ')}`,
    `  flows        ${o.flowsRecorded ? 'recorded' : 'not recorded (stats.flows: false)'}`
  ]
  return lines.join('\n') + '\n'
}

function uptime (s: number): string {
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172800) return `${Math.floor(s / 3600)}h ${Math.floor(s % 3600 / 60)}m`
  return `${Math.floor(s / 86400)}d ${Math.floor(s % 86400 / 3600)}h`
}
