// Section "brokerMode": one local port per upstream broker, addresses rewritten in responses;
// TLS toward clients and toward the brokers, SNI routing, the API key policy. The cross-key rules
// of the section sit below the schema (resolveBrokerMode).
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { parseHostPort } from '../host-port.ts'
import type { BrokerModeConfig, BrokerPortMapping, HostPort, SniConfig, TlsVersion, UpstreamTlsConfig } from '../proxy-config.ts'
import { FILTER_KEYS, resolveFilters } from './filters-schema.ts'
import { group, key } from './schema-kit.ts'
import type { ResolveContext } from './resolve-context.ts'
import {
  API_KEY_LIST_ALLOWED, apiKeyList, apiKeyNumbers, bool, checkApiKeyList, checkHostPort, dnsName, DNS_NAME, filePath, hostPort, int, literals, TLS_VERSIONS
} from './value-kinds.ts'
import { withDefaults } from './defaults.ts'
import { resolveVersionBridge, VERSION_BRIDGE } from './version-bridge-schema.ts'
import { downstreamTlsGroup, resolveDownstreamTls } from './downstream-tls-schema.ts'

function path (doc: string, flag?: string, defaultText?: string): ReturnType<typeof key<ReturnType<typeof filePath>>> {
  return key(filePath(), { allowed: 'a file path', doc, live: false, ...(flag !== undefined ? { flag } : {}), ...(defaultText !== undefined ? { defaultText } : {}) })
}

function tlsVersion (doc: string, dflt: TlsVersion): ReturnType<typeof key<ReturnType<typeof literals<typeof TLS_VERSIONS>>>> {
  return key(literals(TLS_VERSIONS, dflt), { allowed: TLS_VERSIONS.join(' or '), doc, live: false })
}

export { TLS_MODES } from './downstream-tls-schema.ts'

const UPSTREAM_ALLOWED = 'a non-empty list of HOST:PORT (or one comma-separated string)'

function upstreamList (value: unknown): string[] {
  return typeof value === 'string' ? value.split(',').map(s => s.trim()) : value as string[]
}

// Every key of brokerMode.tls needs a restart except `mode` (downstream-tls-schema.ts).
const TLS = downstreamTlsGroup(true)

const UPSTREAM_TLS = group({
  enabled: key(bool(), { defaultText: 'false (true when ca or cert is set)', flag: '--upstream-tls', doc: 'Connect to the upstream with TLS.' }),
  ca: path("PEM CA certificates that sign the brokers' certificates.", '--upstream-tls-ca', "(the system's CAs)"),
  cert: path('PEM client certificate chain, for brokers that require one.', '--upstream-tls-cert'),
  key: path('PEM private key of the client certificate (never logged or shown).', '--upstream-tls-key'),
  checkHostname: key(bool(true), { doc: "Check the broker's certificate names its host (or serverName)." }),
  serverName: key(dnsName(), { allowed: 'a DNS name', defaultText: "(the broker's host)", flag: '--upstream-tls-server-name', doc: 'Name sent as SNI and checked in the certificate instead of the host.' }),
  minVersion: tlsVersion('Oldest TLS version accepted.', 'TLSv1.2'),
  maxVersion: tlsVersion('Newest TLS version offered.', 'TLSv1.3')
})

const SNI = group({
  bootstrapName: key(dnsName(), {
    allowed: 'a DNS name',
    defaultText: '(none: SNI routing off)',
    flag: '--sni-bootstrap-name',
    doc: 'Server name of the bootstrap (a client without SNI gets the bootstrap too).'
  }),
  brokerNamePattern: key(Type.String({ pattern: '^[^{}]*\\{id\\}[^{}]*$' }), {
    allowed: 'a DNS name containing {id}',
    defaultText: 'broker-{id}.<bootstrapName>',
    flag: '--sni-broker-pattern',
    doc: 'Server name of broker N; rewritten responses advertise these names.',
    check: v => typeof v === 'string' && !DNS_NAME.test(v.replace('{id}', '0')) ? `'${v}' with {id} = 0 is not a DNS name` : undefined
  }),
  advertisedPort: key(int(1, 65535), { defaultText: 'the listen port', doc: 'Port advertised with the broker names (e.g. a load balancer in front).' })
})

export const BROKER_MODE = group({
  listen: key(Object.assign(hostPort(), { default: '127.0.0.1:19092' }), { allowed: 'HOST:PORT', flag: '--listen', live: false, doc: 'Bootstrap address clients connect to.', check: checkHostPort }),
  advertisedHost: key(Type.String({ minLength: 1 }), {
    allowed: 'a host name or IP address',
    defaultText: 'the listen host',
    flag: '--advertised-host',
    live: false,
    doc: 'Host name put into rewritten broker addresses (required when listening on 0.0.0.0 or ::).',
    check: v => {
      if (typeof v !== 'string') return undefined
      const hp = parseHostPort(v.includes(':') ? `[${v}]:1` : `${v}:1`)
      return typeof hp === 'string' ? hp : undefined
    }
  }),
  upstream: key(Type.Union([Type.String({ minLength: 1 }), Type.Array(hostPort(), { minItems: 1 })]), {
    allowed: UPSTREAM_ALLOWED,
    defaultText: '(required)',
    flag: '--upstream',
    live: false,
    doc: "The real cluster's bootstrap servers.",
    check: v => {
      if (typeof v !== 'string' && !Array.isArray(v)) return undefined
      for (const item of upstreamList(v)) {
        if (typeof item !== 'string') return undefined
        const hp = parseHostPort(item)
        if (typeof hp === 'string') return `'${item}': ${hp}`
      }
      return undefined
    }
  }),
  brokerPorts: key(group({
    base: key(int(1, 65535), { defaultText: 'listen port + 1', flag: '--broker-port-base', doc: 'Port of broker N is base + N.' }),
    ports: key(Type.Record(Type.String({ pattern: '^[0-9]+$' }), int(1, 65535), { additionalProperties: false }), {
      allowed: 'a mapping of node id to port',
      doc: 'Explicit node id -> port map; brokers not listed get no listener.',
      check: v => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
        for (const [k, p] of Object.entries(v)) {
          if (!/^\d+$/.test(k)) return `'${k}' is not a node id`
          if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) return `port of node ${k} must be an integer from 1 to 65535`
        }
        return undefined
      }
    })
  }), { live: false, doc: 'Local port of upstream broker N: base + N, or an explicit map (set one of the two).' }),
  apiKeysAllowed: key(Object.assign(apiKeyList(), { default: [] }), { allowed: API_KEY_LIST_ALLOWED, defaultText: '[] (all)', live: true, doc: 'If non-empty, only these APIs pass; others get an error response.', check: checkApiKeyList }),
  apiKeysDenied: key(Object.assign(apiKeyList(), { default: [] }), { allowed: API_KEY_LIST_ALLOWED, live: true, doc: 'These APIs get an error response (counted as denied).', check: checkApiKeyList }),
  maxFrameSize: key(int(1024, 2_147_483_647, 100 * 1024 * 1024), { defaultText: '104857600 (100 MiB)', live: true, doc: 'Largest request or response frame; a bigger one closes that connection.' }),
  upstreamConnectTimeoutMs: key(int(100, 600_000, 10_000), { live: true, doc: 'How long an upstream connect may take before the client connection is closed.' }),
  bootstrapAnswerTimeoutMs: key(int(0, 600_000, 1000), { live: true, doc: 'A bootstrap server that leaves the first requests of a connection unanswered this long is skipped: the requests go to the next server (0: never).' }),
  ...FILTER_KEYS,
  versionBridge: key(VERSION_BRIDGE, { live: true, doc: 'The version bridge: old clients against an upstream that dropped their protocol versions (docs/version-bridge.md).' }),
  tls: key(TLS, { doc: 'TLS on every client-facing listener (enabled by setting cert and key). Files are watched and reloaded; mode is live, the other keys need a restart.' }),
  upstreamTls: key(UPSTREAM_TLS, { live: false, doc: 'TLS to the upstream brokers (enabled by enabled: true, ca or cert).' }),
  sni: key(SNI, { live: false, doc: 'SNI routing: every broker behind the one TLS listen port, selected by the server name (needs tls).' })
})

export type BrokerModeFile = Static<typeof BROKER_MODE>

// The section's cross-key rules and computed defaults.
export function resolveBrokerMode (file: BrokerModeFile, ctx: ResolveContext, upstreamRequired = true): BrokerModeConfig {
  const bm = withDefaults(BROKER_MODE, file)
  const listen = parseHostPort(bm.listen!) as HostPort
  if (upstreamRequired && bm.upstream === undefined && !ctx.failed(['brokerMode', 'upstream'])) {
    ctx.report(['brokerMode'], 'brokerMode.upstream is required (or --upstream HOST:PORT[,HOST:PORT...])')
  }
  let advertisedHost = bm.advertisedHost
  if (advertisedHost === undefined) {
    if (listen.host === '0.0.0.0' || listen.host === '::') {
      ctx.report(['brokerMode', 'listen'], `brokerMode.advertisedHost is required when listening on ${listen.host}; allowed: the host name clients use to reach kproxy`)
    }
    advertisedHost = listen.host
  }
  const bp = bm.brokerPorts ?? {}
  let brokerPorts: BrokerPortMapping
  if (bp.base !== undefined && bp.ports !== undefined) {
    ctx.report(['brokerMode', 'brokerPorts'], 'brokerMode.brokerPorts: set either base or ports, not both')
  }
  if (bp.ports !== undefined) {
    const ports: Record<number, number> = {}
    for (const [id, port] of Object.entries(bp.ports)) {
      ports[Number(id)] = port
      if (port === listen.port) ctx.report(['brokerMode', 'brokerPorts', 'ports', id], `brokerMode.brokerPorts.ports.${id}: port ${port} is the listen port; allowed: any other port`)
    }
    brokerPorts = { kind: 'explicit', ports }
  } else {
    const base = bp.base ?? listen.port + 1
    if (base === listen.port) ctx.report(['brokerMode', 'brokerPorts', 'base'], `brokerMode.brokerPorts.base: ${base} is the listen port; allowed: a port above it, e.g. ${listen.port + 1}`)
    if (base > 65535) ctx.report(['brokerMode', 'listen'], `brokerMode.brokerPorts.base: listen port + 1 is ${base}; allowed: set a base from 1 to 65535`)
    brokerPorts = { kind: 'offset', base }
  }
  const tls = resolveDownstreamTls(bm.tls, 'brokerMode', ctx, true)
  if (tls !== null && tls.mode !== 'strict' && bm.sni !== undefined) ctx.report(['brokerMode', 'tls', 'mode'], `brokerMode.tls.mode: ${tls.mode} cannot be used with brokerMode.sni (the server name of a TLS ClientHello picks the broker); allowed: strict`)
  return {
    listen,
    advertisedHost,
    upstream: bm.upstream === undefined ? [] : upstreamList(bm.upstream).map(hp => parseHostPort(hp) as HostPort),
    brokerPorts,
    apiKeysAllowed: apiKeyNumbers(bm.apiKeysAllowed!),
    apiKeysDenied: apiKeyNumbers(bm.apiKeysDenied!),
    maxFrameSize: bm.maxFrameSize!,
    upstreamConnectTimeoutMs: bm.upstreamConnectTimeoutMs!,
    filters: resolveFilters(bm.filters!, ctx.baseDir),
    filterHoldTimeoutMs: bm.filterHoldTimeoutMs!,
    bootstrapAnswerTimeoutMs: bm.bootstrapAnswerTimeoutMs!,
    versionBridge: resolveVersionBridge(bm.versionBridge),
    tls,
    upstreamTls: resolveUpstreamTls(bm.upstreamTls, ctx),
    sni: resolveSni(bm.sni, listen, tls !== null, ctx)
  }
}

// minVersion..maxVersion of one TLS group; an empty range is an error.
function checkVersionRange (t: { minVersion?: TlsVersion, maxVersion?: TlsVersion }, at: string, ctx: ResolveContext): { minVersion: TlsVersion, maxVersion: TlsVersion } {
  const minVersion = t.minVersion!
  const maxVersion = t.maxVersion!
  if (minVersion > maxVersion) ctx.report(['brokerMode', at, 'minVersion'], `brokerMode.${at}: minVersion ${minVersion} is above maxVersion ${maxVersion}`)
  return { minVersion, maxVersion }
}

function resolveUpstreamTls (file: Static<typeof UPSTREAM_TLS> | undefined, ctx: ResolveContext): UpstreamTlsConfig | null {
  const t = withDefaults(UPSTREAM_TLS, file ?? {})
  const ca = t.ca ?? null
  const cert = t.cert ?? null
  const key = t.key ?? null
  const enabled = t.enabled ?? (ca !== null || cert !== null || key !== null)
  if (!enabled) {
    if (ca !== null || cert !== null || key !== null) ctx.report(['brokerMode', 'upstreamTls', 'enabled'], 'brokerMode.upstreamTls: enabled is false but ca, cert or key is set; allowed: remove them or enable upstream TLS')
    return null
  }
  if ((cert === null) !== (key === null)) {
    ctx.report(['brokerMode', 'upstreamTls'], 'brokerMode.upstreamTls: a client certificate needs both cert and key (--upstream-tls-cert, --upstream-tls-key)')
  }
  return { ca, cert, key, checkHostname: t.checkHostname!, serverName: t.serverName ?? null, ...checkVersionRange(t, 'upstreamTls', ctx) }
}

function resolveSni (file: Static<typeof SNI> | undefined, listen: HostPort, tls: boolean, ctx: ResolveContext): SniConfig | null {
  if (file === undefined || Object.keys(file).length === 0) return null
  const bootstrapName = file.bootstrapName
  if (bootstrapName === undefined) {
    ctx.report(['brokerMode', 'sni'], 'brokerMode.sni.bootstrapName is required for SNI routing (--sni-bootstrap-name NAME)')
    return null
  }
  if (!tls) ctx.report(['brokerMode', 'sni'], 'brokerMode.sni needs TLS on the listener; allowed: set brokerMode.tls.cert and key (--tls-cert, --tls-key)')
  const brokerNamePattern = file.brokerNamePattern ?? `broker-{id}.${bootstrapName}`
  if (brokerNamePattern.replace('{id}', '1') === bootstrapName) ctx.report(['brokerMode', 'sni', 'brokerNamePattern'], 'brokerMode.sni.brokerNamePattern must differ from bootstrapName')
  return { bootstrapName, brokerNamePattern, advertisedPort: file.advertisedPort ?? listen.port }
}
