import { parseArgs } from 'node:util'
import type { Command } from '../command.ts'

const usage = `Usage: kproxy serve --upstream HOST:PORT[,HOST:PORT...] [options]
       kproxy serve --config mesh.yaml      (mesh mode: several clusters, see docs/mesh.md)

  --upstream HOST:PORT[,...]   the Kafka cluster's bootstrap servers
  --listen HOST:PORT           bootstrap address for clients (default 127.0.0.1:19092)
  --broker-port-base N         broker N is served on port N + this (default: listen port + 1)
  --advertised-host NAME       host name given to clients for every broker (default: listen host)
  --workers N                  worker threads (default 1)
  --admin [HOST:]PORT          admin HTTP API and dashboard (/, /api, /metrics, /ready, ...);
                               a bare PORT listens on 127.0.0.1 (set admin.token or
                               KPROXY_ADMIN_TOKEN before listening anywhere else)
  --log-level LEVEL            fatal, error, warn, info, debug, trace (default info)
  --young-generation-mb N      V8 young generation cap per thread (default 8; 0: V8's own)
  --config FILE                YAML config file; flags override it (see docs/configuration.md)
  --version-bridge             serve clients whose protocol versions the upstream dropped
                               (Kafka 4: KIP-896, KIP-724; see docs/version-bridge.md)

TLS toward clients (every listener; PEM files, watched and reloaded):
  --tls-cert FILE --tls-key FILE    server certificate chain and key
  --tls-ca FILE                     CA of client certificates (implies --tls-client-auth require)
  --tls-client-auth MODE            none, request or require
  --tls-mode MODE                   strict, permissive (TLS or plaintext as ANONYMOUS on one port) or disabled
  --sni-bootstrap-name NAME         SNI routing: all brokers behind the listen port, by server name
  --sni-broker-pattern PATTERN      server name of broker N (default broker-{id}.<bootstrap name>)
TLS toward the brokers:
  --upstream-tls                    connect with TLS (the system's CAs unless --upstream-tls-ca)
  --upstream-tls-ca FILE            CA of the brokers' certificates
  --upstream-tls-cert FILE --upstream-tls-key FILE   client certificate (mTLS to the brokers)
  --upstream-tls-server-name NAME   name to send and check instead of the broker's host

Signals: SIGTERM/SIGINT stop accepting, drain (shutdownTimeoutMs) and exit 0; SIGHUP re-reads FILE.`

function usageError (message: string): number {
  process.stderr.write(`kproxy serve: ${message}\n\n${usage}\n`)
  return 2
}

async function serve (argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  // The flags are the schema's: each key with a `flag` (a boolean key is a switch).
  const { CONFIG_FLAGS, schemaAt } = await import('@kproxy/core/config/schema/config-keys')
  const options: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } }
  for (const [flag, path] of CONFIG_FLAGS) options[flag] = { type: (schemaAt(path) as { type?: unknown }).type === 'boolean' ? 'boolean' : 'string' }
  try {
    ({ values } = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: false
    }))
  } catch (err) {
    return usageError((err as Error).message)
  }
  const { config: rawFile, ...rawFlags } = values
  const file = rawFile as string | undefined
  const flags: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(rawFlags)) flags[k] = typeof v === 'boolean' ? String(v) : v
  // the admin API holds the configuration and can reload it: loopback unless a host is given
  if (flags.admin !== undefined && /^\d+$/.test(flags.admin)) flags.admin = `127.0.0.1:${flags.admin}`
  const { checkFilters, loadConfig } = await import('../supervisor/load-config.ts')
  // Bad config throws KproxyError('KPROXY_ERR_CONFIG'): main prints it and exits 1.
  const config = loadConfig(file ?? null, flags)
  await checkFilters(config)

  const { pino } = await import('pino')
  const { Supervisor } = await import('../supervisor/supervisor.ts')
  const { startAdminServer } = await import('../admin/admin-server.ts')
  const { formatHostPort } = await import('@kproxy/core/config/host-port')
  const { resolveAdminToken } = await import('../admin/admin-access.ts')
  const { statsOf } = await import('@kproxy/core/metrics/stats-config')
  // KPROXY_ERR_ADMIN_TOKEN for a token too short to use: main prints it and exits 1
  const adminToken = resolveAdminToken(config)
  const logger = pino({ level: config.logLevel, base: { thread: 'supervisor' } }, pino.destination({ dest: 1, sync: true }))
  const { capYoungGeneration } = await import('../supervisor/young-generation.ts')
  const v8Flag = capYoungGeneration(config.youngGenerationMb)
  if (v8Flag !== null) logger.debug({ v8Flag }, 'young generation capped for every thread')
  const supervisor = new Supervisor(config, logger)
  const reload = (): ReturnType<typeof supervisor.reload> => supervisor.reload(loadConfig(file ?? null, flags))

  let requestStop: (signal: string) => void = () => {}
  const stopped = new Promise<string>(resolve => { requestStop = resolve })
  const onStop = (signal: NodeJS.Signals): void => requestStop(signal)
  const onHup = (): void => {
    if (file === undefined) {
      logger.warn('SIGHUP: no --config file to re-read')
      return
    }
    try {
      reload()
    } catch (err) {
      logger.error({ code: (err as { code?: string }).code, err: (err as Error).message }, 'SIGHUP: the config file is invalid; keeping the running configuration')
    }
  }
  process.on('SIGTERM', onStop)
  process.on('SIGINT', onStop)
  process.on('SIGHUP', onHup)
  try {
    const admin = config.admin === null
      ? null
      : await startAdminServer(config.admin, { supervisor, logger, reload, debugEndpoints: process.env.KPROXY_DEBUG_ENDPOINTS === '1', token: adminToken, stats: statsOf(config) })
    try {
      const startedAt = Date.now()
      const first = await Promise.race([supervisor.start().then(() => null), stopped])
      if (first !== null) {
        logger.info({ signal: first }, 'stopped during start-up')
        await supervisor.shutdown()
        return 0
      }
      if (config.mesh !== null) {
        const m = config.mesh
        logger.info({
          listen: formatHostPort(m.listen),
          advertisedHost: m.advertisedHost,
          clusters: m.clusters.map(c => ({ name: c.name, bootstrap: c.bootstrap.map(formatHostPort), tls: c.tls !== null })),
          routes: m.routes.length,
          defaultCluster: m.defaultCluster,
          tls: m.tls === null ? null : { mode: m.tls.mode, clientAuth: m.tls.clientAuth },
          admin: admin === null ? null : formatHostPort(admin.address),
          workers: config.workers,
          startMs: Date.now() - startedAt
        }, `kproxy mesh serving on ${formatHostPort(m.listen)} in front of ${m.clusters.length} cluster(s) (${m.clusters.map(c => c.name).join(', ')}), ${config.workers} worker(s)${admin === null ? '' : `, admin on http://${formatHostPort(admin.address)}`}`)
      }
      if (config.mesh === null) {
        const bm = config.brokerMode
        const ports = bm.sni !== null ? `SNI ${bm.sni.brokerNamePattern}` : bm.brokerPorts.kind === 'offset' ? `port ${bm.brokerPorts.base} + node id` : 'explicit ports'
        logger.info({
          listen: formatHostPort(bm.listen),
          advertisedHost: bm.advertisedHost,
          brokerPorts: bm.brokerPorts,
          tls: bm.tls === null ? null : { clientAuth: bm.tls.clientAuth, minVersion: bm.tls.minVersion },
          sni: bm.sni,
          upstreamTls: bm.upstreamTls !== null,
          upstream: bm.upstream.map(formatHostPort),
          admin: admin === null ? null : formatHostPort(admin.address),
          workers: config.workers,
          startMs: Date.now() - startedAt
        }, `kproxy serving on ${formatHostPort(bm.listen)} (brokers on ${ports}), ${config.workers} worker(s)${admin === null ? '' : `, admin on http://${formatHostPort(admin.address)}`}`)
      }
      const signal = await stopped
      logger.info({ signal, timeoutMs: supervisor.config.shutdownTimeoutMs }, `${signal}: stopping; in-flight requests get up to ${supervisor.config.shutdownTimeoutMs} ms`)
      await supervisor.shutdown()
      logger.info('stopped')
      return 0
    } finally {
      await admin?.close()
    }
  } finally {
    process.off('SIGTERM', onStop)
    process.off('SIGINT', onStop)
    process.off('SIGHUP', onHup)
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the proxy in front of a Kafka cluster (broker mode)',
  usage,
  async run (argv) {
    return await serve(argv)
  }
}
