// Routing, status codes and content types of the admin API. The supervisor here is a stand-in
// with fixed answers: the real one (threads, Kafka) is exercised in test/integration/serve-cli.
import t from 'tap'
import { pino } from 'pino'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { KproxyError } from '@kproxy/core'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { mergeSnapshots } from '@kproxy/core/metrics/metrics-merge'
import { startAdminServer } from '../../src/admin/admin-server.ts'
import type { Supervisor } from '../../src/supervisor/supervisor.ts'

t.test('admin endpoints', async t => {
  const config = { ...resolveConfig({ flags: { upstream: '127.0.0.1:9092' } }), sasl: { password: 'hunter2' } }
  const registry = new MetricsRegistry()
  registry.request(0, 9)
  registry.response(0, 9, 1500)
  const calls: string[] = []
  let readyNow = false
  const stand = {
    config,
    workerCount: 2,
    metrics: async () => mergeSnapshots([registry.snapshot()]),
    readiness: async () => ({ ready: readyNow, reason: readyNow ? null : 'worker 1 is starting', spare: 'none', workers: [] }),
    setLogLevel: (level: string) => { calls.push(`level:${level}`) },
    crashWorker: (id: number) => { calls.push(`crash:${id}`); return id === 0 }
  }
  let reloadFails = false
  const start = (debugEndpoints: boolean) => startAdminServer({ host: '127.0.0.1', port: 0 } as never, {
    supervisor: stand as unknown as Supervisor,
    logger: pino({ level: 'silent' }),
    reload: () => {
      if (reloadFails) throw new KproxyError('KPROXY_ERR_CONFIG', 'k.yaml:1:1: bad')
      return { config, applied: ['logLevel'], needsRestart: [] }
    },
    debugEndpoints
  })
  // port 0 is not a valid config value but fine for the server; the stand-in never validates it
  const admin = await start(false)
  t.teardown(() => admin.close())
  const base = `http://127.0.0.1:${admin.address.port}`
  const get = async (path: string, method = 'GET') => {
    const res = await fetch(base + path, { method })
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
  }

  const metrics = await get('/metrics')
  t.equal(metrics.status, 200)
  t.equal(metrics.type, 'text/plain; version=0.0.4; charset=utf-8')
  t.match(metrics.text, /^kproxy_requests_total\{api="produce",api_key="0",version="9"\} 1$/m)
  t.match(metrics.text, /^kproxy_workers_configured 2$/m)
  const stats = JSON.parse((await get('/stats')).text) as { stats: Array<{ name?: string, value?: number }> }
  t.same(stats.stats.find(s => s.name === 'kafka.kproxy.request.produce_request'), { name: 'kafka.kproxy.request.produce_request', value: 1 })
  const notReady = await get('/ready')
  t.equal(notReady.status, 503)
  t.equal(JSON.parse(notReady.text).reason, 'worker 1 is starting')
  readyNow = true
  t.equal((await get('/ready')).status, 200)
  t.equal((await get('/healthz')).status, 200)
  const dump = JSON.parse((await get('/config_dump')).text) as { sasl: { password: string }, brokerMode: { upstream: unknown } }
  t.equal(dump.sasl.password, '[redacted]')
  t.same(dump.brokerMode.upstream, [{ host: '127.0.0.1', port: 9092 }])
  t.equal((await get('/logging?level=trace', 'POST')).status, 200)
  t.equal((await get('/logging?level=verbose', 'POST')).status, 400)
  t.equal((await get('/logging', 'GET')).status, 405)
  t.same(calls, ['level:trace'])
  const reload = await get('/reload', 'POST')
  t.equal(reload.status, 200)
  t.same(JSON.parse(reload.text), { applied: ['logLevel'], needsRestart: [] })
  reloadFails = true
  const bad = await get('/reload', 'POST')
  t.equal(bad.status, 400)
  t.same(JSON.parse(bad.text), { error: 'k.yaml:1:1: bad', code: 'KPROXY_ERR_CONFIG' })
  t.equal((await get('/debug/crash-worker?id=0', 'POST')).status, 404, 'no debug endpoint unless enabled')
  t.equal((await get('/nope')).status, 404)

  const debug = await start(true)
  t.teardown(() => debug.close())
  const crash = await fetch(`http://127.0.0.1:${debug.address.port}/debug/crash-worker?id=0`, { method: 'POST' })
  t.equal(crash.status, 202)
  const missing = await fetch(`http://127.0.0.1:${debug.address.port}/debug/crash-worker?id=9`, { method: 'POST' })
  t.equal(missing.status, 400)
  t.same(calls, ['level:trace', 'crash:0', 'crash:9'])
})
