// The admin HTTP API (node:http), served by the supervisor:
//   GET  /metrics       Prometheus text format
//   GET  /stats         JSON with Envoy's kafka_broker stat names
//   GET  /ready         200 when every worker listens and the upstream answered, else 503 + reason
//   GET  /healthz       200 while the supervisor runs
//   GET  /config_dump   the running ProxyConfig, secrets redacted
//   GET  /clients       the readiness report: clients, their versions, who needs the version bridge
//   POST /logging?level=debug   log level of every thread
//   POST /reload        re-read the config file (like SIGHUP)
//   POST /debug/crash-worker?id=N   only with KPROXY_DEBUG_ENDPOINTS=1: worker N crashes
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { isKproxyError, KproxyError } from '@kproxy/core'
import type { HostPort, ProxyConfig } from '@kproxy/core/config/proxy-config'
import { redactSecrets } from '@kproxy/core/config/redact'
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '@kproxy/core/metrics/prometheus'
import { renderEnvoyStats } from '@kproxy/core/metrics/envoy-stats'
import type { LiveChange } from '@kproxy/core/config/live-reload'
import type { Supervisor } from '../supervisor/supervisor.ts'
import { clientsReport } from './clients-endpoint.ts'

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const

export interface AdminOptions {
  supervisor: Supervisor
  logger: Logger
  // re-reads the config file and applies it (also used by SIGHUP)
  reload (): LiveChange
  debugEndpoints: boolean
}

export interface AdminServer {
  readonly address: HostPort
  close (): Promise<void>
}

function send (res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n'
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

async function route (req: IncomingMessage, res: ServerResponse, o: AdminOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin')
  const method = req.method ?? 'GET'
  const key = `${method} ${url.pathname}`
  const sup = o.supervisor
  switch (key) {
    case 'GET /metrics':
      return send(res, 200, renderPrometheus(await sup.metrics(), { workersExpected: sup.workerCount }), PROMETHEUS_CONTENT_TYPE)
    case 'GET /stats':
      return send(res, 200, renderEnvoyStats(await sup.metrics(), sup.config.statPrefix))
    case 'GET /ready': {
      const r = await sup.readiness()
      return send(res, r.ready ? 200 : 503, r)
    }
    case 'GET /healthz':
      return send(res, 200, { ok: true })
    case 'GET /config_dump':
      return send(res, 200, redactSecrets(sup.config as ProxyConfig))
    case 'GET /clients':
      return send(res, 200, await clientsReport(sup))
    case 'POST /logging': {
      const level = url.searchParams.get('level')
      if (level === null || !(LEVELS as readonly string[]).includes(level)) {
        return send(res, 400, { error: `level must be one of ${LEVELS.join(', ')}` })
      }
      sup.setLogLevel(level as typeof LEVELS[number])
      o.logger.info({ logLevel: level }, 'log level changed through the admin API')
      return send(res, 200, { logLevel: level })
    }
    case 'POST /reload': {
      try {
        const change = o.reload()
        return send(res, 200, { applied: change.applied, needsRestart: change.needsRestart })
      } catch (err) {
        if (isKproxyError(err)) return send(res, 400, { error: err.message, code: err.code })
        throw err
      }
    }
    case 'POST /debug/crash-worker': {
      if (!o.debugEndpoints) break
      const id = Number(url.searchParams.get('id') ?? 'x')
      if (!Number.isInteger(id) || !sup.crashWorker(id)) return send(res, 400, { error: `no running worker ${url.searchParams.get('id')}` })
      return send(res, 202, { crashing: id })
    }
  }
  const known = ['/metrics', '/stats', '/ready', '/healthz', '/config_dump', '/clients', '/logging', '/reload']
  if (known.includes(url.pathname)) return send(res, 405, { error: `${method} is not allowed on ${url.pathname}` })
  return send(res, 404, { error: `no such endpoint: ${url.pathname}`, endpoints: known })
}

export function startAdminServer (at: HostPort, o: AdminOptions): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    // Request bodies are not used; drain them so keep-alive works.
    req.resume()
    route(req, res, o).catch((err: unknown) => {
      o.logger.error({ code: 'KPROXY_ERR_ADMIN', err: (err as Error).message }, 'admin request failed')
      if (!res.headersSent) send(res, 500, { error: (err as Error).message })
      else res.destroy()
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
          server.close(() => done())
          server.closeAllConnections()
        })
      })
    })
  })
}
