// One worker's part of the readiness report: open connections read when asked, closed ones
// folded per client identity; the tap marks versions without allocating per frame.
import t from 'tap'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { MAX_VERSIONS } from '@kproxy/core/metrics/metrics-registry'
import { ClientRegistry, MAX_CLOSED_CLIENTS } from '../../src/report/client-registry.ts'
import { ClientUsageTap } from '../../src/report/client-usage-tap.ts'
import { SessionContext } from '../../src/session/session-context.ts'

const listener = { name: 'broker', port: 19092, tls: false }

function conn (clientId: string, address = '10.0.0.1', principal: string | null = null): SessionContext {
  const c = new SessionContext(0, { address, port: 50000 + Math.floor(Math.random() * 1000) }, listener, principal, () => {})
  c.clientId = clientId
  return c
}

t.test('open and closed connections of one client become one record; others stay apart', async t => {
  let now = 5000
  const registry = new ClientRegistry(() => now)
  const tap = new ClientUsageTap()
  const a1 = conn('app')
  const a2 = conn('app')
  const b = conn('other', '10.0.0.2', 'CN=b')
  tap.request(ApiKey.Produce, 2, 100, a1)
  tap.request(ApiKey.Produce, 2, 100, a1)
  tap.request(ApiKey.Fetch, 3, 100, a2)
  tap.request(ApiKey.Metadata, 12, 10, b)
  const silent = conn('scanner')
  now = 6000
  registry.closed(a1)
  registry.closed(silent)
  const report = registry.report([a2, b])
  t.equal(report.length, 2, 'a connection that never sent a request is not a client')
  const app = report.find(r => r.clientId === 'app')!
  t.same(app.used, [ApiKey.Produce * MAX_VERSIONS + 2, ApiKey.Fetch * MAX_VERSIONS + 3])
  t.same([app.connectionsActive, app.connectionsTotal, app.lastSeen], [1, 2, 6000])
  t.equal(report.find(r => r.clientId === 'other')!.principal, 'CN=b')
})

t.test('closed clients are bounded: the least recently seen go first', async t => {
  const registry = new ClientRegistry()
  const tap = new ClientUsageTap()
  for (let i = 0; i < MAX_CLOSED_CLIENTS + 10; i++) {
    const c = conn(`c${i}`)
    tap.request(ApiKey.Metadata, 1, 1, c)
    registry.closed(c)
  }
  const report = registry.report([])
  t.equal(report.length, MAX_CLOSED_CLIENTS)
  t.notOk(report.some(r => r.clientId === 'c0'))
  t.ok(report.some(r => r.clientId === `c${MAX_CLOSED_CLIENTS + 9}`))
})
