// Routing, status codes, content types, access control and bad input of the admin API. The
// supervisor here is a stand-in with fixed answers over real metric registries (fed with real
// encoded Kafka frames): the real one (threads, Kafka) is exercised in test/integration.
import t from 'tap'
import { Writable } from 'node:stream'
import { request } from 'node:http'
import { pino } from 'pino'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { KproxyError } from '@kproxy/core'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { mergeSnapshots } from '@kproxy/core/metrics/metrics-merge'
import { FlowRegistry } from '@kproxy/core/metrics/flow-registry'
import { DEFAULT_STATS_CONFIG } from '@kproxy/core/metrics/stats-config'
import { encodeRequest } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { adminEndpoints, MAX_BODY_BYTES, startAdminServer } from '../../src/admin/admin-server.ts'
import type { AdminOptions } from '../../src/admin/admin-server.ts'
import type { Supervisor } from '../../src/supervisor/supervisor.ts'

const TOKEN = 'a-long-enough-admin-token-123'

function produceFrame (clientId: string, topic: string, bytes: number): { size: number, chunks: Buffer[] } {
  const whole = Buffer.concat(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId }, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 2, records: Buffer.alloc(bytes) }] }]
  }))
  return { size: whole.length - 4, chunks: [whole.subarray(4)] }
}

function standIn () {
  const config = { ...resolveConfig({ flags: { upstream: '127.0.0.1:9092' } }), sasl: { password: 'hunter2' } }
  const flows = new FlowRegistry()
  const registry = new MetricsRegistry({ flows })
  registry.request(0, 9)
  registry.response(0, 9, 1500)
  registry.connectionOpened()
  const client = flows.client({ principal: 'User:alice', clientId: 'app', softwareName: 'kcat', softwareVersion: '1.7.0', target: 'broker-1' })
  flows.produce(client, produceFrame('app', 'orders', 100), 9)
  const calls: string[] = []
  const stand = {
    config,
    workerCount: 2,
    startedAt: Date.now() - 5000,
    restarts: [{ workerId: 1, exitCode: 1, diedAt: Date.now() - 1000, readyAt: Date.now() - 900 }],
    readyNow: false,
    metrics: async () => mergeSnapshots([registry.snapshot()]),
    readiness: async () => ({
      ready: stand.readyNow,
      reason: stand.readyNow ? null : 'worker 1 is starting',
      spare: 'none',
      workers: [{ id: 0, state: 'ready', activeConnections: 1, upstreamHealthy: true, logLevel: 'info' }, { id: 1, state: 'starting' }]
    }),
    brokers: () => [{ nodeId: 1, address: { host: '10.0.0.1', port: 9092 } }],
    clients: async () => ({ bridgeEnabled: false, upstream: null, clients: [] }),
    setLogLevel: (level: string) => { calls.push(`level:${level}`) },
    crashWorker: (id: number) => { calls.push(`crash:${id}`); return id === 0 }
  }
  return { stand, registry, flows, client, calls }
}

interface Got { status: number, type: string | null, text: string, headers: Headers }

async function start (t: { teardown (fn: () => unknown): void }, over: Partial<AdminOptions> & { host?: string } = {}) {
  const s = standIn()
  let reloadFails = false
  const logs: string[] = []
  const admin = await startAdminServer({ host: over.host ?? '127.0.0.1', port: 0 }, {
    supervisor: s.stand as unknown as Supervisor,
    logger: pino({ level: 'info' }, new Writable({ write (chunk, _enc, done) { logs.push(chunk.toString()); done() } })),
    reload: () => {
      s.calls.push('reload')
      if (reloadFails) throw new KproxyError('KPROXY_ERR_CONFIG', 'k.yaml:1:1: bad')
      return { config: s.stand.config, applied: ['logLevel'], needsRestart: [] }
    },
    debugEndpoints: false,
    ...over
  })
  t.teardown(() => admin.close())
  const base = `http://127.0.0.1:${admin.address.port}`
  const get = async (path: string, init: RequestInit = {}): Promise<Got> => {
    const res = await fetch(base + path, init)
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), headers: res.headers }
  }
  return { ...s, admin, base, get, logs, failReload: () => { reloadFails = true } }
}

t.test('the operational endpoints', async t => {
  const { get, stand, calls, failReload } = await start(t)
  const metrics = await get('/metrics')
  t.equal(metrics.status, 200)
  t.equal(metrics.type, 'text/plain; version=0.0.4; charset=utf-8')
  t.match(metrics.text, /^kproxy_requests_total\{api="produce",api_key="0",version="9"\} 1$/m)
  t.match(metrics.text, /^kproxy_workers_configured 2$/m)
  t.match(metrics.text, /^kproxy_worker_restarts_total 1$/m)
  t.match(metrics.text, /^kproxy_flow_received_bytes_total\{target="broker-1"\} 100$/m, 'flows by target: no opt-in labels by default')
  const stats = JSON.parse((await get('/stats')).text) as { stats: Array<{ name?: string, value?: number }> }
  t.same(stats.stats.find(s => s.name === 'kafka.kproxy.request.produce_request'), { name: 'kafka.kproxy.request.produce_request', value: 1 })
  const notReady = await get('/ready')
  t.equal(notReady.status, 503)
  t.equal(JSON.parse(notReady.text).reason, 'worker 1 is starting')
  stand.readyNow = true
  t.equal((await get('/ready')).status, 200)
  t.equal((await get('/healthz')).status, 200)
  const dump = JSON.parse((await get('/config_dump')).text) as { sasl: { password: string }, brokerMode: { upstream: unknown } }
  t.equal(dump.sasl.password, '[redacted]')
  t.same(dump.brokerMode.upstream, [{ host: '127.0.0.1', port: 9092 }])
  t.equal((await get('/logging?level=trace', { method: 'POST' })).status, 200)
  t.equal((await get('/logging?level=verbose', { method: 'POST' })).status, 400)
  const reload = await get('/reload', { method: 'POST' })
  t.equal(reload.status, 200)
  t.same(JSON.parse(reload.text), { applied: ['logLevel'], needsRestart: [] })
  failReload()
  const bad = await get('/reload', { method: 'POST' })
  t.equal(bad.status, 400)
  t.same(JSON.parse(bad.text), { error: 'k.yaml:1:1: bad', code: 'KPROXY_ERR_CONFIG' })
  t.equal((await get('/debug/crash-worker?id=0', { method: 'POST' })).status, 404, 'no debug endpoint unless enabled')
  t.same(calls, ['level:trace', 'reload', 'reload'])
})

t.test('the debug endpoint, when enabled', async t => {
  const { get, calls } = await start(t, { debugEndpoints: true })
  t.equal((await get('/debug/crash-worker?id=0', { method: 'POST' })).status, 202)
  t.equal((await get('/debug/crash-worker?id=9', { method: 'POST' })).status, 400)
  t.same(calls, ['crash:0', 'crash:9'])
})

t.test('the JSON API: shapes, and rates once there are two samples', async t => {
  const { get, registry, flows, client } = await start(t)
  const index = JSON.parse((await get('/api')).text) as { endpoints: Array<{ path: string }> }
  t.same(index.endpoints.map(e => e.path).filter(p => p.startsWith('/api/')), ['/api/overview', '/api/apis', '/api/flows', '/api/workers', '/api/tls', '/api/mesh', '/api/upstreams'])
  const first = JSON.parse((await get('/api/overview')).text)
  t.equal(first.intervalSeconds, null, 'one sample: no rates yet')
  t.equal(first.requests.perSecond, null)
  t.match(first, { requests: { total: 1 }, connections: { active: 1, total: 1 }, workers: { configured: 2, answering: 1, restarts: 1 }, ready: { ready: false }, flowsRecorded: true })
  for (let i = 0; i < 10; i++) {
    registry.request(0, 9)
    registry.response(0, 9, 1000 * (i + 1))
  }
  registry.responseError(0, 6)
  registry.throttled(0, 500)
  flows.produce(client, produceFrame('app', 'orders', 50), 9)
  await new Promise(resolve => setTimeout(resolve, 1000))
  const second = JSON.parse((await get('/api/overview')).text)
  t.ok(second.intervalSeconds >= 0.9, `interval ${second.intervalSeconds} s`)
  t.equal(second.requests.total, 11)
  t.ok(Math.abs(second.requests.perSecond - 10 / second.intervalSeconds) < 1e-9, 'requests per second over the interval')
  const apis = JSON.parse((await get('/api/apis')).text)
  const produce = apis.apis.find((a: { api: string }) => a.api === 'produce')
  t.match(produce, { apiKey: 0, name: 'Produce', requests: 11, responses: 11, errors: 1, errorCodes: [{ code: 6, error: 'NOT_LEADER_OR_FOLLOWER', count: 1 }], throttledResponses: 1, throttleSeconds: 0.5 })
  t.equal(produce.latency.count, 11)
  t.equal(produce.latencyWindow.count, 10, 'the window holds only the last interval\'s responses')
  t.ok(Math.abs(produce.latencyWindow.p50 - 5) < 0.01, `window p50 ${produce.latencyWindow.p50} ms`)
  t.same(produce.latency.percentiles.map(([p]: [number]) => p), [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100])
  const flowsView = JSON.parse((await get('/api/flows?topic=orders')).text)
  t.match(flowsView, { recorded: true, shown: 1, total: 1, overflow: { flows: 0, partitions: 0 } })
  t.match(flowsView.flows[0], { principal: 'User:alice', clientId: 'app', softwareName: 'kcat', softwareVersion: '1.7.0', target: 'broker-1', topic: 'orders', bytesIn: 150, requests: 2 })
  t.ok(Math.abs(flowsView.flows[0].bytesInPerSecond - 50 / flowsView.intervalSeconds) < 1e-9)
  t.match(flowsView.partitions, [{ topic: 'orders', partition: 2, bytesIn: 150 }])
  t.equal((await get('/api/flows?limit=0')).status, 400)
  t.equal((await get('/api/flows?limit=x')).status, 400)
  const workers = JSON.parse((await get('/api/workers')).text)
  t.match(workers, { configured: 2, workers: [{ id: 0, state: 'ready', activeConnections: 1, upstreamHealthy: true }, { id: 1, state: 'starting', activeConnections: null }], restarts: [{ workerId: 1, exitCode: 1 }] })
  const tls = JSON.parse((await get('/api/tls')).text)
  t.ok(tls.failures.length >= 5 && tls.failures.every((f: { description: string }) => f.description.length > 0))
  const upstreams = JSON.parse((await get('/api/upstreams')).text)
  // nothing listens on 127.0.0.1:9092 in the stand-in's config (the probe really tries)
  t.match(upstreams, { tls: false, brokers: [{ nodeId: 1, upstream: '10.0.0.1:9092', localPort: 19094 }], workers: [{ id: 0, upstreamHealthy: true }, { id: 1, upstreamHealthy: null }] })
  t.match(upstreams.servers, [{ server: '127.0.0.1:9092', reachable: false, error: { code: /^KPROXY_ERR_UPSTREAM_(CONNECT|CLOSED)$/ } }])
})

t.test('/api/mesh: per cluster connections, requests and upstream latency, all APIs and per API, with a window', async t => {
  const { get, registry } = await start(t)
  t.same(JSON.parse((await get('/api/mesh')).text).clusters, [], 'not in mesh mode: no clusters')
  // the admin server samples the workers at most once per MIN_SAMPLE_MS
  await new Promise(resolve => setTimeout(resolve, 1000))
  const conns = registry.meshConnections('a')
  conns.add(1); conns.add(1)
  registry.filterCounter('mesh:a', 'produce_requests').inc(3)
  registry.filterCounter('mesh:a', 'produce_client_requests').inc(30)
  registry.filterCounter('mesh:a', 'fetch_requests').inc(1)
  registry.filterCounter('mesh:a', 'fetch_failed').inc(1)
  registry.filterCounter('mesh:a', 'bytes_sent').inc(4096)
  registry.meshLatency('a', 0)!.record(1000)
  registry.meshLatency('a', 1)!.record(2000)
  const first = JSON.parse((await get('/api/mesh')).text)
  t.match(first.clusters, [{ cluster: 'a', connections: 2, requests: 4, failed: 1, bytesSent: 4096, latency: { count: 2, p50: 1, max: 2 }, latencyWindow: { count: 2 } }])
  t.match(first.clusters[0].apis, [{ api: 'produce', apiKey: 0, name: 'Produce', latency: { count: 1, p50: 1 } }, { api: 'fetch', apiKey: 1, latency: { count: 1, p50: 2 } }])
  for (let i = 0; i < 4; i++) registry.meshLatency('a', 0)!.record(500)
  registry.meshLatency('b', 0)!.record(700)
  registry.filterCounter('mesh:a', 'produce_requests').inc(4)
  await new Promise(resolve => setTimeout(resolve, 1000))
  const second = JSON.parse((await get('/api/mesh')).text)
  const [a, b] = second.clusters
  t.match(a, { cluster: 'a', requests: 8, latency: { count: 6 }, latencyWindow: { count: 4, p50: 0.5, max: 0.5 } })
  t.ok(Math.abs(a.requestsPerSecond - 4 / second.intervalSeconds) < 1e-9, 'requests per second over the interval')
  t.match(a.apis[0], { api: 'produce', latency: { count: 5 }, latencyWindow: { count: 4 } })
  t.match(a.apis[1], { api: 'fetch', latency: { count: 1 }, latencyWindow: null }, 'no Fetch answer in the interval')
  t.match(b, { cluster: 'b', connections: 0, latency: { count: 1 }, latencyWindow: { count: 1, p50: 0.7 }, apis: [{ api: 'produce', latencyWindow: { count: 1 } }] }, 'a cluster new in this interval: its window is all it has')
})

t.test('bad input: 404, 405 with Allow, 413, HEAD', async t => {
  const { get, base, calls } = await start(t)
  const nope = await get('/nope')
  t.equal(nope.status, 404)
  t.match(JSON.parse(nope.text), { error: 'no such endpoint: /nope' })
  t.equal((await get('/api/nope')).status, 404)
  t.equal((await get('/dashboard/../../package.json')).status, 404, 'no path outside the dashboard files')
  const wrong = await get('/logging')
  t.equal(wrong.status, 405)
  t.equal(wrong.headers.get('allow'), 'POST')
  const post = await get('/metrics', { method: 'POST' })
  t.equal(post.status, 405)
  t.equal(post.headers.get('allow'), 'GET, HEAD')
  t.equal((await get('/api/overview', { method: 'DELETE' })).status, 405)
  const head = await get('/metrics', { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal(head.text, '')
  t.ok(Number(head.headers.get('content-length')) > 100, 'HEAD tells the length of what GET would send')
  const big = await get('/reload', { method: 'POST', body: 'x'.repeat(MAX_BODY_BYTES + 1) })
  t.equal(big.status, 413)
  t.equal(big.headers.get('connection'), 'close')
  t.equal((await get('/reload', { method: 'POST', body: 'x'.repeat(100) })).status, 200, 'a small body is read and ignored')
  // a chunked body (no content-length) is counted as it comes and refused past the limit
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = request(`${base}/reload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, res => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    for (let i = 0; i < 20; i++) req.write('y'.repeat(1024))
    req.end()
  })
  t.equal(chunked, 413)
  t.same(calls, ['reload'], 'a refused body never reached /reload')
})

t.test('the dashboard\'s static files', async t => {
  const { get } = await start(t)
  const page = await get('/')
  t.equal(page.status, 200)
  t.equal(page.type, 'text/html; charset=utf-8')
  t.match(page.text, /<script type="module" src="\/dashboard\/app.js">/)
  t.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
  t.equal(page.headers.get('x-content-type-options'), 'nosniff')
  const app = await get('/dashboard/app.js')
  t.equal(app.type, 'text/javascript; charset=utf-8')
  const uplot = await get('/vendor/uplot/uPlot.iife.min.js')
  t.equal(uplot.status, 200)
  t.match(uplot.text, /uPlot/)
  t.equal((await get('/vendor/uplot/uPlot.min.css')).type, 'text/css; charset=utf-8')
  t.equal((await get('/', { method: 'POST' })).status, 405)
})

// the query an endpoint needs to answer 200 (or 202) rather than 400
const QUERIES: Readonly<Record<string, string>> = { '/logging': '?level=info', '/debug/crash-worker': '?id=0' }

t.test('with admin.token: every endpoint but the probes and static files needs it', async t => {
  const { get } = await start(t, { token: TOKEN, debugEndpoints: true })
  // from the server's own route table: an endpoint added there is checked here without a list to
  // keep up to date
  const endpoints = adminEndpoints()
  t.same(endpoints.filter(e => e.access !== 'api').map(e => e.path).sort(), ['/healthz', '/ready'], 'the probes are the only endpoints without a token')
  const needToken = endpoints.filter(e => e.access !== 'probe')
  t.ok(needToken.some(e => e.path === '/clients') && needToken.some(e => e.path === '/api/mesh'), '/clients and /api/mesh among them')
  for (const { path: route, methods } of needToken) {
    const path = route + (QUERIES[route] ?? '')
    for (const method of methods) {
      const none = await get(path, { method })
      t.equal(none.status, 401, `${method} ${path} without a token`)
      t.equal(none.headers.get('www-authenticate'), 'Bearer realm="kproxy admin"')
      t.equal((await get(path, { method, headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status, 401, `${method} ${path} with a wrong token`)
      t.equal((await get(path, { method, headers: { authorization: `Basic ${TOKEN}` } })).status, 401, `${method} ${path}: not a bearer token`)
      const status = (await get(path, { method, headers: { authorization: `Bearer ${TOKEN}` } })).status
      t.not(status, 401, `${method} ${path} with the token: not 401`)
      t.ok([200, 202].includes(status), `${method} ${path} with the token: answered (${status})`)
    }
  }
  for (const { path } of endpoints.filter(e => e.access === 'probe')) t.not((await get(path)).status, 401, `${path} is a probe: no token`)
  for (const path of ['/', '/dashboard/app.js', '/vendor/uplot/uPlot.iife.min.js']) t.equal((await get(path)).status, 200, `${path} holds no data: no token`)
})

t.test('listening beyond loopback without a token prints a warning', async t => {
  const open = await start(t, { host: '0.0.0.0' })
  const warning = open.logs.map(l => JSON.parse(l)).find(l => l.code === 'KPROXY_WARN_ADMIN_NO_TOKEN')
  t.ok(warning, 'warned')
  t.match(warning.msg, /0\.0\.0\.0, which is not loopback, and has no token/)
  t.equal(warning.level, 40)
  const withToken = await start(t, { host: '0.0.0.0', token: TOKEN })
  t.notOk(withToken.logs.some(l => l.includes('KPROXY_WARN_ADMIN_NO_TOKEN')), 'no warning with a token')
  const loopback = await start(t)
  t.notOk(loopback.logs.some(l => l.includes('KPROXY_WARN_ADMIN_NO_TOKEN')), 'no warning on loopback')
})

t.test('the stats selection reaches /metrics', async t => {
  const { get } = await start(t, { stats: { ...DEFAULT_STATS_CONFIG, inclusionRegexps: ['kproxy_requests_total'] } })
  const text = (await get('/metrics')).text
  t.same([...text.matchAll(/^# TYPE (\S+)/gm)].map(m => m[1]), ['kproxy_requests_total'])
})
