import type { Command } from '../command.ts'

const usage = `Usage: kproxy check-config FILE

Validates FILE against kproxy's config schema (see docs/configuration.md). Exit 0 with a one-line
summary when it is valid; otherwise every error (file, key path, what is allowed) and exit 1.`

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate a kproxy config file',
  usage,
  async run (argv) {
    if (argv.length !== 1 || argv[0]!.startsWith('-')) {
      process.stderr.write(`kproxy check-config: expected exactly one FILE.\n\n${usage}\n`)
      return 2
    }
    const { checkFilters, loadConfig } = await import('../supervisor/load-config.ts')
    const { formatHostPort } = await import('@kproxy/core/config/host-port')
    const { isKproxyError } = await import('@kproxy/core')
    const { checkQuotas } = await import('@kproxy/workers/policy/quota-shared')
    let config
    let quotas
    try {
      config = loadConfig(argv[0]!)
      await checkFilters(config)
      quotas = checkQuotas(config.policy)
    } catch (err) {
      if (!isKproxyError(err)) throw err
      const errors = (err as { errors?: readonly string[] }).errors ?? [err.message]
      process.stderr.write(errors.join('\n') + '\n')
      return 1
    }
    if (config.mesh !== null) {
      const m = config.mesh
      const routes = m.routes.map(r => `${r.kind === 'regex' ? `/${r.match}/` : r.kind === 'prefix' ? `${r.match}*` : r.match} -> ${r.cluster}${r.rename !== null ? ` (as ${r.rename}${r.kind === 'prefix' ? '*' : ''})` : ''}`)
      process.stdout.write(`${config.source}: ok — mesh mode, listen ${formatHostPort(m.listen)} (advertised as ${m.advertisedHost}, node ${m.nodeId}), clusters ${m.clusters.map(c => `${c.name} (${c.bootstrap.map(formatHostPort).join(',')}${c.tls !== null ? (c.tls.cert !== null ? ', mTLS' : ', TLS') : ''}${c.sasl !== null ? `, SASL ${c.sasl.mechanism} as ${c.sasl.username}` : ''})`).join(', ')}, routes ${routes.length === 0 ? 'none' : routes.join(', ')}, default cluster ${m.defaultCluster ?? 'none'}, ${config.workers} worker(s), admin ${config.admin === null ? 'off' : formatHostPort(config.admin)}\n`)
      return 0
    }
    const bm = config.brokerMode
    const ports = bm.sni !== null
      ? `SNI ${bm.sni.bootstrapName} / ${bm.sni.brokerNamePattern}`
      : bm.brokerPorts.kind === 'offset' ? `broker ports ${bm.brokerPorts.base}+id` : `${Object.keys(bm.brokerPorts.ports).length} explicit broker ports`
    const tls = `${bm.tls === null ? 'plaintext' : `TLS (client auth ${bm.tls.clientAuth})`} to clients, ${bm.upstreamTls === null ? 'plaintext' : `TLS${bm.upstreamTls.cert !== null ? ' with a client certificate' : ''}`} upstream`
    const filters = bm.filters.length === 0 ? '' : `, filters ${bm.filters.map(f => f.kind === 'builtin' ? f.name : f.name ?? f.path).join(' -> ')}`
    const quotaText = quotas == null ? '' : `, quotas: ${quotas.entities} entr${quotas.entities === 1 ? 'y' : 'ies'}${quotas.file === null ? '' : ` from ${quotas.file}`}`
    process.stdout.write(`${config.source}: ok — listen ${formatHostPort(bm.listen)} (advertised as ${bm.advertisedHost}), ${ports}, upstream ${bm.upstream.map(formatHostPort).join(',')}, ${config.workers} worker(s), admin ${config.admin === null ? 'off' : formatHostPort(config.admin)}, ${tls}${filters}${quotaText}\n`)
    return 0
  }
}
