// The admin HTTP API (node:http), served by the supervisor (every endpoint: docs/admin-api.md):
//   GET  /                the dashboard (static files under /dashboard/ and /vendor/)
//   GET  /api/...         JSON for the dashboard, `kproxy top` and scripts (api-views.ts)
//   GET  /metrics         Prometheus text format (through the stats selection)
//   GET  /stats           JSON with Envoy's kafka_broker stat names
//   GET  /ready           200 when every worker listens and the upstream answered, else 503 + reason
//   GET  /healthz         200 while the supervisor runs
//   GET  /config_dump     the running ProxyConfig, secrets redacted
//   GET  /clients         the readiness report: clients, their versions, who needs the version bridge
//   POST /logging?level=debug   log level of every thread
//   POST /reload          re-read the config file (like SIGHUP)
//   POST /debug/crash-worker?id=N   only with KPROXY_DEBUG_ENDPOINTS=1: worker N crashes
// Bad input: an unknown path is a 404, a method a path does not take a 405 with Allow, a body
// over MAX_BODY_BYTES a 413 (no endpoint takes a body), a missing or wrong token a 401
// (admin-access.ts). Every answer is JSON but /metrics and the static files.
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { isKproxyError, KproxyError } from '@kproxy/core/kproxy-error'
import type { HostPort, ProxyConfig } from '@kproxy/core/config/proxy-config'
import { redactSecrets } from '@kproxy/core/config/redact'
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '@kproxy/core/metrics/prometheus'
import { renderEnvoyStats } from '@kproxy/core/metrics/envoy-stats'
import { FlowExport } from '@kproxy/core/metrics/prometheus-flows'
import { StatsSelection } from '@kproxy/core/metrics/stats-selection'
import { DEFAULT_STATS_CONFIG } from '@kproxy/core/metrics/stats-config'
import type { StatsConfig } from '@kproxy/core/metrics/stats-config'
import type { LiveChange } from '@kproxy/core/config/live-reload'
import type { Supervisor } from '../supervisor/supervisor.ts'
import { AdminAccess, exposureWarning } from './admin-access.ts'
import { meshView } from './mesh-view.ts'
import { apisView, DEFAULT_FLOW_LIMIT, flowsView, MAX_FLOW_LIMIT, overviewView, tlsView, upstreamsView, workersView } from './api-views.ts'
import { MetricsSampler } from './metrics-sampler.ts'
import { DASHBOARD_CSP, loadDashboardFiles } from './dashboard-files.ts'
import type { StaticFile } from './dashboard-files.ts'
import { UpstreamProbe } from './upstream-probe.ts'
import { clientsReport } from './clients-endpoint.ts'

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const
// No endpoint reads a body; anything bigger than a few headers' worth is refused unread.
export const MAX_BODY_BYTES = 4096

export interface AdminOptions {
  supervisor: Supervisor
  logger: Logger
  // re-reads the config file and applies it (also used by SIGHUP)
  reload (): LiveChange
  debugEndpoints: boolean
  // every endpoint but the probes and the static files needs `Authorization: Bearer <token>`
  token?: string | null
  // what /metrics and /stats export (read at start; a change needs a restart)
  stats?: StatsConfig
}

export interface AdminServer {
  readonly address: HostPort
  close (): Promise<void>
}

interface Reply {
  status: number
  body: unknown
  type?: string
  headers?: Record<string, string>
}

// probe: no token ever (Kubernetes probes); static: no data, no token; api: token if configured
export type AdminAccessKind = 'probe' | 'static' | 'api'
export type AdminMethod = 'GET' | 'POST'

interface Ctx {
  url: URL
  o: AdminOptions
  server: ServerState
}

interface Route {
  access: AdminAccessKind
  summary: string
  methods: Partial<Record<AdminMethod, (c: Ctx) => Promise<Reply> | Reply>>
}

interface ServerState {
  access: AdminAccess
  selection: StatsSelection
  flowExport: FlowExport
  sampler: MetricsSampler
  upstreams: UpstreamProbe
  files: Map<string, StaticFile>
}

const json = (status: number, body: unknown): Reply => ({ status, body })

function intParam (url: URL, name: string, min: number, max: number, dflt: number): number | string {
  const text = url.searchParams.get(name)
  if (text === null) return dflt
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < min || n > max) return `${name} must be an integer from ${min} to ${max}, got '${text}'`
  return n
}

const ROUTES: Readonly<Record<string, Route>> = {
  '/clients': {
    access: 'api',
    summary: 'the readiness report: every client, the API versions it used, and which need the version bridge',
    methods: { async GET ({ o }) { return json(200, await clientsReport(o.supervisor)) } }
  },
  '/api': {
    access: 'api',
    summary: 'this list of endpoints',
    methods: { GET: () => json(200, { endpoints: Object.entries(ROUTES).filter(([p]) => p !== '/debug/crash-worker').map(([path, r]) => ({ path, methods: Object.keys(r.methods), summary: r.summary, token: r.access === 'api' })) }) }
  },
  '/api/overview': {
    access: 'api',
    summary: 'totals and rates: connections, bytes, requests, errors, workers, readiness',
    methods: {
      async GET ({ o, server }) {
        const sup = o.supervisor
        const [pair, readiness] = await Promise.all([server.sampler.current(), sup.readiness()])
        return json(200, overviewView(pair, { startedAt: sup.startedAt, workersConfigured: sup.workerCount, restarts: sup.restarts.length, readiness }))
      }
    }
  },
  '/api/apis': {
    access: 'api',
    summary: 'per Kafka API: requests, errors, throttling, latency percentiles',
    methods: { async GET ({ server }) { return json(200, apisView(await server.sampler.current())) } }
  },
  '/api/flows': {
    access: 'api',
    summary: 'flows (client -> topic -> broker) by bytes per second; ?limit=N, ?topic=NAME adds its partitions',
    methods: {
      async GET ({ url, server }) {
        const limit = intParam(url, 'limit', 1, MAX_FLOW_LIMIT, DEFAULT_FLOW_LIMIT)
        if (typeof limit === 'string') return json(400, { error: limit })
        return json(200, flowsView(await server.sampler.current(), { limit, topic: url.searchParams.get('topic') }))
      }
    }
  },
  '/api/workers': {
    access: 'api',
    summary: 'worker threads: state, connections, upstream health, restarts',
    methods: {
      async GET ({ o }) {
        const sup = o.supervisor
        return json(200, workersView(await sup.readiness(), sup.restarts, sup.workerCount))
      }
    }
  },
  '/api/tls': {
    access: 'api',
    summary: 'TLS handshakes and failures by reason',
    methods: { async GET ({ server }) { return json(200, tlsView(await server.sampler.current())) } }
  },
  '/api/mesh': {
    access: 'api',
    summary: 'mesh mode per cluster: open upstream connections, requests, upstream latency percentiles (all APIs and per API)',
    methods: { async GET ({ server }) { return json(200, meshView(await server.sampler.current())) } }
  },
  '/api/upstreams': {
    access: 'api',
    summary: 'bootstrap servers (probed with Metadata), brokers and their local ports, upstream health per worker',
    methods: {
      async GET ({ o, server }) {
        const sup = o.supervisor
        const [probe, readiness] = await Promise.all([server.upstreams.current(), sup.readiness()])
        return json(200, upstreamsView(sup.config, probe, sup.brokers(), readiness))
      }
    }
  },
  '/metrics': {
    access: 'api',
    summary: 'Prometheus text format',
    methods: {
      async GET ({ o, server }) {
        const sup = o.supervisor
        const text = renderPrometheus(await sup.metrics(), { workersExpected: sup.workerCount, workerRestarts: sup.restarts.length, selection: server.selection, flows: server.flowExport })
        return { status: 200, body: text, type: PROMETHEUS_CONTENT_TYPE }
      }
    }
  },
  '/stats': {
    access: 'api',
    summary: 'Envoy-style stats (kafka.<prefix>.*) as JSON',
    methods: { async GET ({ o, server }) { return json(200, renderEnvoyStats(await o.supervisor.metrics(), o.supervisor.config.statPrefix, server.selection)) } }
  },
  '/ready': {
    access: 'probe',
    summary: 'readiness probe: 200 when every worker listens and the upstream answered, else 503',
    methods: {
      async GET ({ o }) {
        const r = await o.supervisor.readiness()
        return json(r.ready ? 200 : 503, r)
      }
    }
  },
  '/healthz': {
    access: 'probe',
    summary: 'liveness probe: 200 while the supervisor runs',
    methods: { GET: () => json(200, { ok: true }) }
  },
  '/config_dump': {
    access: 'api',
    summary: 'the running configuration, secrets redacted',
    methods: { GET: ({ o }) => json(200, redactSecrets(o.supervisor.config as ProxyConfig)) }
  },
  '/logging': {
    access: 'api',
    summary: 'POST ?level=LEVEL: log level of every thread',
    methods: {
      POST ({ url, o }) {
        const level = url.searchParams.get('level')
        if (level === null || !(LEVELS as readonly string[]).includes(level)) {
          return json(400, { error: `level must be one of ${LEVELS.join(', ')}` })
        }
        o.supervisor.setLogLevel(level as typeof LEVELS[number])
        o.logger.info({ logLevel: level }, 'log level changed through the admin API')
        return json(200, { logLevel: level })
      }
    }
  },
  '/reload': {
    access: 'api',
    summary: 'POST: re-read the config file (like SIGHUP)',
    methods: {
      POST ({ o }) {
        try {
          const change = o.reload()
          return json(200, { applied: change.applied, needsRestart: change.needsRestart })
        } catch (err) {
          if (isKproxyError(err)) return json(400, { error: err.message, code: err.code })
          throw err
        }
      }
    }
  },
  '/debug/crash-worker': {
    access: 'api',
    summary: 'POST ?id=N: worker N crashes (KPROXY_DEBUG_ENDPOINTS=1 only)',
    methods: {
      POST ({ url, o }) {
        const id = Number(url.searchParams.get('id') ?? 'x')
        if (!Number.isInteger(id) || !o.supervisor.crashWorker(id)) return json(400, { error: `no running worker ${url.searchParams.get('id')}` })
        return json(202, { crashing: id })
      }
    }
  }
}

export interface AdminEndpoint {
  readonly path: string
  readonly access: AdminAccessKind
  readonly methods: readonly AdminMethod[]
}

// Every endpoint of the route table (the static files aside), with its access and methods: what
// the tests walk, so that an endpoint added here is checked for its token without being listed
// again.
export function adminEndpoints (): AdminEndpoint[] {
  return Object.entries(ROUTES).map(([path, r]) => ({ path, access: r.access, methods: Object.keys(r.methods) as AdminMethod[] }))
}

function routeFor (path: string, o: AdminOptions, files: Map<string, StaticFile>): Route | undefined {
  if (path === '/debug/crash-worker' && !o.debugEndpoints) return undefined
  const r = ROUTES[path]
  if (r !== undefined) return r
  const file = files.get(path)
  if (file === undefined) return undefined
  return { access: 'static', summary: '', methods: { GET: () => ({ status: 200, body: file.body, type: file.type, headers: { 'content-security-policy': DASHBOARD_CSP } }) } }
}

function send (res: ServerResponse, reply: Reply, head: boolean): void {
  const b = reply.body
  const payload = Buffer.isBuffer(b) ? b : Buffer.from(typeof b === 'string' ? b : JSON.stringify(b, null, 2) + '\n')
  res.writeHead(reply.status, {
    'content-type': reply.type ?? 'application/json',
    'content-length': payload.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    ...reply.headers
  })
  res.end(head ? undefined : payload)
}

async function handle (req: IncomingMessage, res: ServerResponse, o: AdminOptions, server: ServerState): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin')
  const method = req.method ?? 'GET'
  const head = method === 'HEAD'
  const route = routeFor(url.pathname, o, server.files)
  if (route === undefined) {
    return send(res, json(404, { error: `no such endpoint: ${url.pathname}`, endpoints: ['/', ...Object.keys(ROUTES).filter(p => p !== '/debug/crash-worker')] }), head)
  }
  const handler = route.methods[(head ? 'GET' : method) as AdminMethod]
  if (handler === undefined) {
    const allow = Object.keys(route.methods).flatMap(m => m === 'GET' ? ['GET', 'HEAD'] : [m]).join(', ')
    return send(res, { status: 405, body: { error: `${method} is not allowed on ${url.pathname}; allowed: ${allow}` }, headers: { allow } }, head)
  }
  if (route.access === 'api' && !server.access.allows(req.headers.authorization)) {
    return send(res, { status: 401, body: { error: 'this endpoint needs the admin token: send `Authorization: Bearer <token>` (admin.token / KPROXY_ADMIN_TOKEN)' }, headers: { 'www-authenticate': 'Bearer realm="kproxy admin"' } }, head)
  }
  send(res, await handler({ url, o, server }), head)
}

function refuseBody (req: IncomingMessage, res: ServerResponse): void {
  send(res, { status: 413, body: { error: `request bodies are limited to ${MAX_BODY_BYTES} bytes; no admin endpoint takes a body` }, headers: { connection: 'close' } }, false)
  res.once('finish', () => req.destroy())
}

export function startAdminServer (at: HostPort, o: AdminOptions): Promise<AdminServer> {
  const stats = o.stats ?? DEFAULT_STATS_CONFIG
  const token = o.token ?? null
  const sup = o.supervisor
  const state: ServerState = {
    access: new AdminAccess(token),
    selection: new StatsSelection(stats),
    flowExport: new FlowExport(stats),
    sampler: new MetricsSampler(() => sup.metrics()),
    upstreams: new UpstreamProbe(() => sup.config, o.logger),
    files: loadDashboardFiles()
  }
  const warning = exposureWarning(at.host, token)
  if (warning !== null) o.logger.warn({ code: 'KPROXY_WARN_ADMIN_NO_TOKEN', admin: `${at.host}:${at.port}` }, warning)
  const server: Server = createServer((req, res) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > MAX_BODY_BYTES) return refuseBody(req, res)
    let size = 0
    let refused = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES && !refused) {
        refused = true
        refuseBody(req, res)
      }
    })
    // The request is handled once its (small) body has been read: a refused body never
    // reaches an endpoint.
    req.on('end', () => {
      if (refused) return
      handle(req, res, o, state).catch((err: unknown) => {
        o.logger.error({ code: 'KPROXY_ERR_ADMIN', err: (err as Error).message }, 'admin request failed')
        if (!res.headersSent) send(res, json(500, { error: (err as Error).message }), false)
        else res.destroy()
      })
    })
  })
  server.keepAliveTimeout = 5000
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new KproxyError('KPROXY_ERR_ADMIN_LISTEN', `cannot listen for the admin API on ${at.host}:${at.port}: ${err.code ?? err.message}`))
    })
    server.listen({ host: at.host, port: at.port }, () => {
      const a = server.address()
      const port = typeof a === 'object' && a !== null ? a.port : at.port
      resolve({
        address: { host: at.host, port },
        close: () => new Promise(done => {
          state.upstreams.close()
          server.close(() => done())
          server.closeAllConnections()
        })
      })
    })
  })
}
