// The admin client against a real admin server (stand-in supervisor): the token from a file or
// the environment, and each failure as a KproxyError that says what to do.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { mergeSnapshots } from '@kproxy/core/metrics/metrics-merge'
import { startAdminServer } from '../../src/admin/admin-server.ts'
import type { Supervisor } from '../../src/supervisor/supervisor.ts'
import { AdminClient } from '../../src/admin-client/admin-client.ts'
import { freePort } from '../../../workers/test/free-port.ts'

const TOKEN = 'client-test-token-0123456789'

async function server (t: { teardown (fn: () => unknown): void }, token: string | null) {
  const stand = {
    config: resolveConfig({ flags: { upstream: '127.0.0.1:1' } }),
    workerCount: 1,
    startedAt: Date.now(),
    restarts: [],
    metrics: async () => mergeSnapshots([new MetricsRegistry().snapshot()]),
    readiness: async () => ({ ready: true, reason: null, spare: 'none', workers: [] }),
    brokers: () => []
  }
  const admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, { supervisor: stand as unknown as Supervisor, logger: pino({ level: 'silent' }), reload: () => { throw new Error('x') }, debugEndpoints: false, token })
  t.teardown(() => admin.close())
  return admin.address.port
}

t.test('address forms', async t => {
  const c = new AdminClient({ address: '9901' }, {})
  t.equal(c.url, 'http://127.0.0.1:9901', 'a bare port is loopback')
  await c.close()
  const d = new AdminClient({}, { KPROXY_ADMIN: '[::1]:1234' })
  t.equal(d.url, 'http://[::1]:1234')
  await d.close()
  const e = new AdminClient({}, {})
  t.equal(e.url, 'http://127.0.0.1:9901', 'the default')
  await e.close()
  t.throws(() => new AdminClient({ address: 'nope' }, {}), { code: 'KPROXY_ERR_ADMIN_ADDRESS' })
})

t.test('token from a file or the environment; 401 explained', async t => {
  const port = await server(t, TOKEN)
  const none = new AdminClient({ address: String(port) }, {})
  t.teardown(() => none.close())
  await t.rejects(none.get('/api/overview'), { code: 'KPROXY_ERR_ADMIN_UNAUTHORIZED', message: /wants a token: put it in KPROXY_ADMIN_TOKEN or in a file given with --token-file/ })
  const wrong = new AdminClient({ address: String(port) }, { KPROXY_ADMIN_TOKEN: 'wrong-token-but-long-enough' })
  t.teardown(() => wrong.close())
  await t.rejects(wrong.get('/api/overview'), { message: /refused this one/ })
  const env = new AdminClient({ address: String(port) }, { KPROXY_ADMIN_TOKEN: TOKEN })
  t.teardown(() => env.close())
  t.match(await env.get('/api/overview'), { workers: { configured: 1 } })
  const file = join(mkdtempSync(join(tmpdir(), 'kproxy-token-')), 'token')
  writeFileSync(file, TOKEN + '\n')
  const fromFile = new AdminClient({ address: String(port), tokenFile: file }, {})
  t.teardown(() => fromFile.close())
  t.match(await fromFile.get('/api/workers'), { configured: 1 })
  t.throws(() => new AdminClient({ tokenFile: '/nonexistent/token' }, {}), { code: 'KPROXY_ERR_ADMIN_TOKEN' })
  t.equal((await none.call('GET', '/ready')).status, 200, 'the probe needs no token')
})

t.test('nothing listening, and something that is not kproxy', async t => {
  const free = await freePort()
  const c = new AdminClient({ address: String(free) }, {})
  t.teardown(() => c.close())
  await t.rejects(c.get('/api/overview'), { code: 'KPROXY_ERR_ADMIN_UNREACHABLE', message: /cannot reach kproxy's admin API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/ })
  const port = await server(t, null)
  const ok = new AdminClient({ address: String(port) }, {})
  t.teardown(() => ok.close())
  await t.rejects(ok.get('/'), { code: 'KPROXY_ERR_ADMIN_RESPONSE', message: /not JSON/ })
  await t.rejects(ok.get('/nope'), { code: 'KPROXY_ERR_ADMIN_RESPONSE', message: /HTTP 404: no such endpoint: \/nope/ })
})
