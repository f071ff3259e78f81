// `kproxy clients`: the readiness report of a running kproxy (GET /clients on its admin API),
// as a table or JSON. A thin client: the report is made by the supervisor (clients-endpoint.ts).
import type { Command } from '../command.ts'
import type { ClientAssessment, ClientsReport, VersionNeed } from '@kproxy/core/bridge/client-report'

const usage = `Usage: kproxy clients (--admin HOST:PORT | --config FILE) [--json]

Lists the clients of a running kproxy (from its admin API, GET /clients): client id, software
name and version (ApiVersions v3+), principal, peer, connections, the API versions each used, and
whether it needs the version bridge against the upstream ("needs bridge": it uses versions the
upstream does not accept) and against Kafka 4 (read this column before an upgrade). See
docs/version-bridge.md.

  --admin HOST:PORT   the admin address of kproxy serve
  --config FILE       read the admin address from kproxy's config file
  --json              print the report as JSON (what GET /clients answers)`

function needText (n: VersionNeed): string {
  const bridge = n.bridged ? `bridged to v${n.bridgedTo}` : 'cannot be bridged'
  return `${n.api} v${n.version} (accepts ${n.accepted}; ${bridge})`
}

function row (c: ClientAssessment): string[] {
  const software = c.software.name === null ? '-' : `${c.software.name} ${c.software.version ?? ''}`.trim()
  const bridge = c.needsBridge ? 'NEEDS BRIDGE' : 'ok'
  const kafka4 = c.kafka4.ready ? 'ready' : 'NOT READY'
  const needs = c.needs.length > 0 ? c.needs : c.kafka4.needs
  return [c.clientId ?? '-', software, c.principal, c.peer, `${c.connections.active}/${c.connections.total}`, bridge, kafka4, needs.map(needText).join(', ') || '-']
}

export function renderClients (report: ClientsReport): string {
  const header = ['CLIENT ID', 'SOFTWARE', 'PRINCIPAL', 'PEER', 'CONN', 'UPSTREAM', `KAFKA ${report.clients[0]?.kafka4.version ?? '4'}`, 'VERSIONS IT NEEDS']
  const rows = [header, ...report.clients.map(row)]
  const widths = header.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  const lines = rows.map(r => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  '))
  const upstream = report.upstream.known ? 'learned from its brokers' : 'not learned yet (judged against the pinned Kafka release)'
  lines.push('', `${report.summary.clients} client(s); ${report.summary.needBridge} need the version bridge against the upstream (${upstream}); ` +
    `${report.summary.notReadyForKafka4} not ready for Kafka 4 without it. The version bridge is ${report.bridgeEnabled ? 'on' : 'off'}.`)
  return lines.join('\n') + '\n'
}

export const clientsCommand: Command = {
  name: 'clients',
  summary: 'list the clients of a running kproxy and whether they need the version bridge',
  usage,
  async run (argv) {
    let admin: string | null = null
    let configFile: string | null = null
    let json = false
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!
      if (a === '--json') json = true
      else if (a === '--admin' && i + 1 < argv.length) admin = argv[++i]!
      else if (a === '--config' && i + 1 < argv.length) configFile = argv[++i]!
      else {
        process.stderr.write(`kproxy clients: unknown argument ${a}\n\n${usage}\n`)
        return 2
      }
    }
    const { isKproxyError, KproxyError } = await import('@kproxy/core')
    try {
      if (admin === null && configFile !== null) {
        const { loadConfig } = await import('../supervisor/load-config.ts')
        const { formatHostPort } = await import('@kproxy/core/config/host-port')
        const config = loadConfig(configFile)
        if (config.admin === null) throw new KproxyError('KPROXY_ERR_ADMIN_UNREACHABLE', `${configFile} has no admin address (admin: HOST:PORT); kproxy clients reads the admin API`)
        admin = formatHostPort(config.admin)
      }
      if (admin === null) {
        process.stderr.write(`kproxy clients: give --admin HOST:PORT or --config FILE.\n\n${usage}\n`)
        return 2
      }
      const base = /^https?:\/\//.test(admin) ? admin : `http://${admin}`
      const { request } = await import('undici')
      let body: ClientsReport
      try {
        const res = await request(`${base.replace(/\/$/, '')}/clients`, { headersTimeout: 10_000, bodyTimeout: 10_000 })
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`)
        body = await res.body.json() as ClientsReport
      } catch (err) {
        throw new KproxyError('KPROXY_ERR_ADMIN_UNREACHABLE', `cannot read ${base}/clients: ${(err as Error).message}; check that kproxy serve runs with that admin address`)
      }
      process.stdout.write(json ? JSON.stringify(body, null, 2) + '\n' : renderClients(body))
      return 0
    } catch (err) {
      if (!isKproxyError(err)) throw err
      process.stderr.write(`kproxy clients: ${err.message} (${err.code})\n`)
      return 1
    }
  }
}
