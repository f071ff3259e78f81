// What `kproxy top` paints: sorted API rows with exact totals, flows with client strings cleaned
// of terminal control characters, and the frame cut to the terminal's size.
import t from 'tap'
import { printable, renderTop, sortApis } from '../../src/top/top-view.ts'
import type { TopData } from '../../src/top/top-view.ts'
import type { ApiView } from '../../src/admin/api-views.ts'

function api (name: string, apiKey: number, requests: number, perSecond: number | null, errors = 0, p99 = 1): ApiView {
  const latency = { count: requests, p50: p99 / 2, p99, p999: p99, max: p99, percentiles: [] }
  return { api: name.toLowerCase(), apiKey, name, requests, requestsPerSecond: perSecond, responses: requests, errors, errorsPerSecond: errors > 0 ? 1 : 0, errorCodes: [], denied: 0, throttledResponses: 0, throttleSeconds: 0, throttleSecondsPerSecond: 0, latency, latencyWindow: null }
}

const data: TopData = {
  url: 'http://127.0.0.1:9901',
  overview: {
    at: 0, intervalSeconds: 1, uptimeSeconds: 65, ready: { ready: true, reason: null }, workers: { configured: 2, answering: 2, restarts: 1 },
    connections: { active: 3, total: 40, perSecond: 0.5 }, bytes: { received: 1e6, sent: 2e6, receivedPerSecond: 2048, sentPerSecond: 0 },
    requests: { total: 123456789, perSecond: 10 }, errors: { total: 2, perSecond: 0 }, flowsRecorded: true
  },
  apis: [api('Produce', 0, 123456000, 9, 0, 3), api('Fetch', 1, 700, 1, 2, 500), api('Metadata', 3, 89, null)],
  flows: {
    at: 0, intervalSeconds: 1, recorded: true, shown: 1, total: 1, overflow: { flows: 0, partitions: 0 },
    flows: [{ principal: null, clientId: 'evil\x1b]0;pwned\x07\x1b[2J', softwareName: null, softwareVersion: null, target: 'broker-1', topic: 'orders\r\n', bytesIn: 1, bytesOut: 0, requests: 1, errors: 0, bytesInPerSecond: 1024, bytesOutPerSecond: 0, requestsPerSecond: 1, errorsPerSecond: 0 }]
  },
  workers: { configured: 2, spare: 'loaded', restarts: [], workers: [{ id: 0, state: 'ready', activeConnections: 2, upstreamHealthy: true, logLevel: 'info' }, { id: 1, state: 'ready', activeConnections: 1, upstreamHealthy: false, logLevel: 'info' }] }
}

t.test('rows, totals and sorting', async t => {
  const lines = renderTop(data, { sort: 'rate', showFlows: true, problem: null }, { columns: 200, rows: 100 }, new Date(0))
  t.match(lines[0], /^kproxy http:\/\/127\.0\.0\.1:9901 {2}ready {2}up 1m 5s {2}workers 2\/2 {2}restarts 1/)
  t.match(lines[1], /conns 3 active, 40 total {2}in 2\.0 KiB\/s {2}out 0 B\/s {2}requests 123456789 \(10\.0\/s\) {2}errors 2 \(0\.0\/s\)/)
  t.match(lines[2], /#1 ready 1 conns UPSTREAM DOWN/)
  const rows = lines.filter(l => /^(Produce|Fetch|Metadata) /.test(l)).map(l => l.split(/\s+/))
  t.same(rows.map(r => r[0]), ['Produce', 'Fetch', 'Metadata'], 'by requests per second')
  t.same(rows[0]!.slice(0, 5), ['Produce', '9.0', '123456000', '0.0', '0'], 'totals are exact, not abbreviated')
  t.same(sortApis(data.apis, 'name').map(a => a.name), ['Fetch', 'Metadata', 'Produce'])
  t.same(sortApis(data.apis, 'latency').map(a => a.name), ['Fetch', 'Produce', 'Metadata'])
  t.same(sortApis(data.apis, 'errors').map(a => a.name)[0], 'Fetch')
  t.same(sortApis(data.apis, 'total').map(a => a.name), ['Produce', 'Fetch', 'Metadata'])
})

t.test('client strings cannot drive the terminal', async t => {
  const lines = renderTop(data, { sort: 'rate', showFlows: true, problem: null }, { columns: 200, rows: 100 })
  const text = lines.join('\n')
  t.notMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character but the newlines between lines')
  t.match(text, /evil\?\]0;pwned\?\?\[2J/)
  t.equal(printable('a\u009bb'), 'a?b', 'C1 controls too (a CSI on its own)')
  t.equal(printable(null), '-')
})

t.test('the frame fits the terminal', async t => {
  const lines = renderTop(data, { sort: 'rate', showFlows: true, problem: 'connection refused' }, { columns: 40, rows: 8 })
  t.equal(lines.length, 8)
  t.ok(lines.every(l => l.length <= 40))
  t.match(lines[3], /^! connection refused/)
  t.match(lines[7], /^q quit/)
  const off = renderTop(data, { sort: 'rate', showFlows: false, problem: null }, { columns: 200, rows: 100 })
  t.notOk(off.some(l => l.startsWith('FLOWS')), 'f hides the flows')
})
