// The one schema of kproxy's configuration: the YAML file, the command-line flags and the defaults
// all pass through it into a ProxyConfig. Every error is collected (not only the first) and names
// the file, the key path and what is allowed. The same table generates the key reference in
// docs/configuration.md (configKeyTable; a test fails when the document is stale).
import { KproxyError } from '../kproxy-error.ts'
import { apiByKey, apiByName, API_TABLE } from '../protocol/api-keys.ts'
import { formatHostPort, parseHostPort } from './host-port.ts'
import type { BrokerPortMapping, DownstreamTlsConfig, FilterEntry, HostPort, ProxyConfig, SniConfig, TlsVersion, UpstreamTlsConfig } from './proxy-config.ts'
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path'
import { parsePrincipalRules } from '../tls/principal-mapping.ts'

export class ConfigError extends KproxyError {
  readonly errors: readonly string[]
  constructor (errors: readonly string[]) {
    super('KPROXY_ERR_CONFIG', errors.length === 1 ? errors[0]! : `${errors.length} configuration errors:\n  ${errors.join('\n  ')}`)
    this.errors = errors
  }
}

class Invalid {
  readonly reason: string | undefined
  constructor (reason?: string) { this.reason = reason }
}

export interface LeafSpec {
  readonly kind: 'leaf'
  readonly allowed: string
  readonly default: string
  readonly doc: string
  readonly flag?: string
  // Applied by a reload (SIGHUP, POST /reload) without a restart.
  readonly live: boolean
  parse (value: unknown): unknown
  fromFlag? (text: string): unknown
}

export interface GroupSpec {
  readonly kind: 'group'
  readonly doc: string
  readonly fields: Readonly<Record<string, LeafSpec | GroupSpec>>
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const
const MAX_API_KEY = API_TABLE.length - 1

function int (min: number, max: number): Pick<LeafSpec, 'parse' | 'fromFlag' | 'allowed'> {
  return {
    allowed: `an integer from ${min} to ${max}`,
    parse: v => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : new Invalid(),
    fromFlag: t => /^-?\d+$/.test(t) ? Number(t) : t
  }
}

function hostPortValue (v: unknown): HostPort | Invalid {
  if (typeof v !== 'string') return new Invalid()
  const hp = parseHostPort(v)
  return typeof hp === 'string' ? new Invalid(hp) : hp
}

function apiKeyList (v: unknown): number[] | Invalid {
  if (!Array.isArray(v)) return new Invalid()
  const out: number[] = []
  for (const item of v) {
    if (typeof item === 'number' && Number.isInteger(item) && item >= 0 && apiByKey(item) !== undefined) {
      out.push(item)
    } else if (typeof item === 'string' && apiByName(item) !== undefined) {
      out.push(apiByName(item)!.apiKey)
    } else {
      return new Invalid(`'${String(item)}' is not a Kafka API key`)
    }
  }
  return out
}

function filePath (doc: string, flag?: string, dflt = '(none)'): LeafSpec {
  return {
    kind: 'leaf',
    allowed: 'a file path',
    default: dflt,
    live: false,
    doc,
    ...(flag !== undefined ? { flag } : {}),
    parse: v => typeof v === 'string' && v.length > 0 && !v.includes('\0') ? v : new Invalid()
  }
}

function bool (doc: string, dflt: string, flag?: string): LeafSpec {
  return {
    kind: 'leaf',
    allowed: 'true or false',
    default: dflt,
    live: false,
    doc,
    ...(flag !== undefined ? { flag } : {}),
    parse: v => typeof v === 'boolean' ? v : new Invalid(),
    fromFlag: t => t === 'true' ? true : t === 'false' ? false : t
  }
}

const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3']

function tlsVersion (doc: string, dflt: TlsVersion): LeafSpec {
  return {
    kind: 'leaf',
    allowed: TLS_VERSIONS.join(' or '),
    default: dflt,
    live: false,
    doc,
    parse: v => typeof v === 'string' && (TLS_VERSIONS as readonly string[]).includes(v) ? v : new Invalid()
  }
}

// Entries as written; module paths are resolved against the config file in resolveConfig.
function filterList (v: unknown): FilterEntry[] | Invalid {
  if (!Array.isArray(v)) return new Invalid()
  const out: FilterEntry[] = []
  for (const [i, item] of v.entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return new Invalid(`entry ${i} is not a mapping`)
    const e = item as Record<string, unknown>
    for (const key of Object.keys(e)) if (!['name', 'module', 'config'].includes(key)) return new Invalid(`entry ${i}: unknown key ${key}`)
    if (typeof e.module === 'string' && e.module !== '') {
      if (e.name !== undefined && typeof e.name !== 'string') return new Invalid(`entry ${i}: name must be a string`)
      out.push({ kind: 'module', path: e.module, name: (e.name as string | undefined) ?? null, config: e.config ?? null })
    } else if (e.module !== undefined) {
      return new Invalid(`entry ${i}: module must be a file path`)
    } else if (typeof e.name === 'string' && e.name !== '') {
      out.push({ kind: 'builtin', name: e.name, config: e.config ?? null })
    } else {
      return new Invalid(`entry ${i} has neither a built-in name nor a module`)
    }
  }
  return out
}

const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

export const CONFIG_SCHEMA: GroupSpec = {
  kind: 'group',
  doc: 'kproxy configuration',
  fields: {
    workers: { kind: 'leaf', ...int(1, 256), default: '1', flag: '--workers', live: false, doc: 'Worker threads; each listens on every port with SO_REUSEPORT.' },
    admin: {
      kind: 'leaf',
      allowed: 'HOST:PORT or null',
      default: 'null (no admin server)',
      flag: '--admin',
      live: false,
      doc: 'Admin HTTP server: /metrics, /stats, /ready, /healthz, /config_dump, /logging, /reload.',
      parse: v => v === null ? null : hostPortValue(v)
    },
    shutdownTimeoutMs: { kind: 'leaf', ...int(0, 3_600_000), default: '10000', live: true, doc: 'SIGTERM: how long in-flight requests may take to finish before the process exits.' },
    logLevel: {
      kind: 'leaf',
      allowed: LOG_LEVELS.join(', '),
      default: 'info',
      flag: '--log-level',
      live: true,
      doc: 'pino log level of every thread (also POST /logging?level=).',
      parse: v => typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v) ? v : new Invalid()
    },
    statPrefix: {
      kind: 'leaf',
      allowed: 'letters, digits and _',
      default: 'kproxy',
      live: true,
      doc: 'Prefix of the Envoy-style names in /stats: kafka.<statPrefix>.request.produce_request.',
      parse: v => typeof v === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(v) ? v : new Invalid()
    },
    brokerMode: {
      kind: 'group',
      doc: 'Broker mode: one local port per upstream broker, addresses rewritten in responses.',
      fields: {
        listen: { kind: 'leaf', allowed: 'HOST:PORT', default: '127.0.0.1:19092', flag: '--listen', live: false, doc: 'Bootstrap address clients connect to.', parse: hostPortValue },
        advertisedHost: {
          kind: 'leaf',
          allowed: 'a host name or IP address',
          default: 'the listen host',
          flag: '--advertised-host',
          live: false,
          doc: 'Host name put into rewritten broker addresses (required when listening on 0.0.0.0 or ::).',
          parse: v => {
            if (typeof v !== 'string') return new Invalid()
            const hp = parseHostPort(v.includes(':') ? `[${v}]:1` : `${v}:1`)
            return typeof hp === 'string' ? new Invalid(hp) : v
          }
        },
        upstream: {
          kind: 'leaf',
          allowed: 'a non-empty list of HOST:PORT (or one comma-separated string)',
          default: '(required)',
          flag: '--upstream',
          live: false,
          doc: "The real cluster's bootstrap servers.",
          parse: v => {
            const items = typeof v === 'string' ? v.split(',').map(s => s.trim()) : v
            if (!Array.isArray(items) || items.length === 0) return new Invalid()
            const out: HostPort[] = []
            for (const item of items) {
              const hp = hostPortValue(item)
              if (hp instanceof Invalid) return new Invalid(`'${String(item)}': ${hp.reason ?? 'expected HOST:PORT'}`)
              out.push(hp)
            }
            return out
          }
        },
        brokerPorts: {
          kind: 'group',
          doc: 'Local port of upstream broker N: base + N, or an explicit map (set one of the two).',
          fields: {
            base: { kind: 'leaf', ...int(1, 65535), default: 'listen port + 1', flag: '--broker-port-base', live: false, doc: 'Port of broker N is base + N.' },
            ports: {
              kind: 'leaf',
              allowed: 'a mapping of node id to port',
              default: '(none)',
              live: false,
              doc: 'Explicit node id -> port map; brokers not listed get no listener.',
              parse: v => {
                if (v === null || typeof v !== 'object' || Array.isArray(v)) return new Invalid()
                const out: Record<number, number> = {}
                for (const [k, p] of Object.entries(v)) {
                  if (!/^\d+$/.test(k)) return new Invalid(`'${k}' is not a node id`)
                  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) return new Invalid(`port of node ${k} must be an integer from 1 to 65535`)
                  out[Number(k)] = p
                }
                return out
              }
            }
          }
        },
        apiKeysAllowed: { kind: 'leaf', allowed: `a list of API keys (0..${MAX_API_KEY}) or names such as Produce`, default: '[] (all)', live: true, doc: 'If non-empty, only these APIs pass; others get an error response.', parse: apiKeyList },
        apiKeysDenied: { kind: 'leaf', allowed: `a list of API keys (0..${MAX_API_KEY}) or names such as Produce`, default: '[]', live: true, doc: 'These APIs get an error response (counted as denied).', parse: apiKeyList },
        filters: {
          kind: 'leaf',
          allowed: 'a list of { name: BUILTIN, config } or { module: PATH, name?, config }',
          default: '[]',
          live: true,
          doc: 'The filter chain of the listeners (docs/filters.md); a module path is relative to the config file.',
          parse: filterList
        },
        filterHoldTimeoutMs: { kind: 'leaf', ...int(1, 3_600_000), default: '30000', live: true, doc: 'How long a filter may hold a request or response before kproxy answers REQUEST_TIMED_OUT.' },
        bootstrapAnswerTimeoutMs: { kind: 'leaf', ...int(0, 600_000), default: '1000', live: true, doc: 'A bootstrap server that leaves the first requests of a connection unanswered this long is skipped (0: never).' },
        maxFrameSize: { kind: 'leaf', ...int(1024, 2_147_483_647), default: '104857600 (100 MiB)', live: true, doc: 'Largest request or response frame; a bigger one closes that connection.' },
        upstreamConnectTimeoutMs: { kind: 'leaf', ...int(100, 600_000), default: '10000', live: true, doc: 'How long an upstream connect may take before the client connection is closed.' },
        tls: {
          kind: 'group',
          doc: 'TLS on every client-facing listener (enabled by setting cert and key). Files are watched and reloaded.',
          fields: {
            cert: filePath('PEM certificate chain (leaf first) clients see.', '--tls-cert'),
            key: filePath('PEM private key of that certificate (never logged or shown).', '--tls-key'),
            ca: filePath('PEM CA certificates trusted for client certificates.', '--tls-ca'),
            clientAuth: {
              kind: 'leaf',
              allowed: 'none, request or require',
              default: 'none (require when ca is set)',
              flag: '--tls-client-auth',
              live: false,
              doc: 'Client certificates: none; request (verified when sent); require (mTLS).',
              parse: v => v === 'none' || v === 'request' || v === 'require' ? v : new Invalid()
            },
            minVersion: tlsVersion('Oldest TLS version accepted.', 'TLSv1.2'),
            maxVersion: tlsVersion('Newest TLS version offered.', 'TLSv1.3'),
            ciphers: {
              kind: 'leaf',
              allowed: 'an OpenSSL cipher list',
              default: "Node's default",
              live: false,
              doc: 'TLS 1.2 cipher suites.',
              parse: v => typeof v === 'string' && v.length > 0 ? v : new Invalid()
            },
            principalMappingRules: {
              kind: 'leaf',
              allowed: 'a list of RULE:regex/replacement/[LU], SAN:regex/replacement/[LU] or DEFAULT',
              default: '[DEFAULT] (the full subject DN)',
              live: false,
              doc: "Client certificate -> principal, like Kafka's ssl.principal.mapping.rules; first match wins.",
              parse: v => {
                if (!Array.isArray(v) || !v.every(r => typeof r === 'string')) return new Invalid()
                try {
                  parsePrincipalRules(v as string[])
                } catch (err) {
                  return new Invalid((err as Error).message)
                }
                return v
              }
            },
            handshakeTimeoutMs: { kind: 'leaf', ...int(100, 600_000), default: '10000', live: false, doc: 'A TLS handshake that takes longer is refused (handshake_timeout).' }
          }
        },
        upstreamTls: {
          kind: 'group',
          doc: 'TLS to the upstream brokers (enabled by enabled: true, ca or cert).',
          fields: {
            enabled: bool('Connect to the upstream with TLS.', 'false (true when ca or cert is set)', '--upstream-tls'),
            ca: filePath("PEM CA certificates that sign the brokers' certificates.", '--upstream-tls-ca', "(the system's CAs)"),
            cert: filePath('PEM client certificate chain, for brokers that require one.', '--upstream-tls-cert'),
            key: filePath('PEM private key of the client certificate (never logged or shown).', '--upstream-tls-key'),
            checkHostname: bool("Check the broker's certificate names its host (or serverName).", 'true'),
            serverName: {
              kind: 'leaf',
              allowed: 'a DNS name',
              default: "(the broker's host)",
              flag: '--upstream-tls-server-name',
              live: false,
              doc: 'Name sent as SNI and checked in the certificate instead of the host.',
              parse: v => typeof v === 'string' && DNS_NAME.test(v) ? v : new Invalid()
            },
            minVersion: tlsVersion('Oldest TLS version accepted.', 'TLSv1.2'),
            maxVersion: tlsVersion('Newest TLS version offered.', 'TLSv1.3')
          }
        },
        sni: {
          kind: 'group',
          doc: 'SNI routing: every broker behind the one TLS listen port, selected by the server name (needs tls).',
          fields: {
            bootstrapName: {
              kind: 'leaf',
              allowed: 'a DNS name',
              default: '(none: SNI routing off)',
              flag: '--sni-bootstrap-name',
              live: false,
              doc: 'Server name of the bootstrap (a client without SNI gets the bootstrap too).',
              parse: v => typeof v === 'string' && DNS_NAME.test(v) ? v : new Invalid()
            },
            brokerNamePattern: {
              kind: 'leaf',
              allowed: 'a DNS name containing {id}',
              default: 'broker-{id}.<bootstrapName>',
              flag: '--sni-broker-pattern',
              live: false,
              doc: 'Server name of broker N; rewritten responses advertise these names.',
              parse: v => typeof v === 'string' && /^[^{}]*\{id\}[^{}]*$/.test(v) && DNS_NAME.test(v.replace('{id}', '0')) ? v : new Invalid()
            },
            advertisedPort: { kind: 'leaf', ...int(1, 65535), default: 'the listen port', live: false, doc: 'Port advertised with the broker names (e.g. a load balancer in front).' }
          }
        }
      }
    }
  }
}

// Flag name (without --) -> key path, from the schema.
export const CONFIG_FLAGS: ReadonlyMap<string, string> = new Map(leaves(CONFIG_SCHEMA, '')
  .filter(([, l]) => l.flag !== undefined).map(([path, l]) => [l.flag!.slice(2), path]))

function leaves (group: GroupSpec, prefix: string): Array<[string, LeafSpec]> {
  const out: Array<[string, LeafSpec]> = []
  for (const [name, spec] of Object.entries(group.fields)) {
    const path = prefix === '' ? name : `${prefix}.${name}`
    if (spec.kind === 'leaf') out.push([path, spec])
    else out.push(...leaves(spec, path))
  }
  return out
}

function leafAt (path: string): LeafSpec {
  let node: LeafSpec | GroupSpec = CONFIG_SCHEMA
  for (const part of path.split('.')) node = (node as GroupSpec).fields[part]!
  return node as LeafSpec
}

type Settings = { [key: string]: unknown }

function validateGroup (raw: unknown, group: GroupSpec, path: string, where: string, errors: string[]): Settings {
  const out: Settings = {}
  if (raw === null || raw === undefined) return out
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push(`${where}: ${path === '' ? 'the document' : path} must be a mapping`)
    return out
  }
  for (const [key, value] of Object.entries(raw)) {
    const spec = group.fields[key]
    const keyPath = path === '' ? key : `${path}.${key}`
    if (spec === undefined) {
      errors.push(`${where}: ${keyPath}: unknown key; allowed keys here: ${Object.keys(group.fields).join(', ')}`)
      continue
    }
    if (spec.kind === 'group') {
      out[key] = validateGroup(value, spec, keyPath, where, errors)
      continue
    }
    const parsed = spec.parse(value)
    if (parsed instanceof Invalid) {
      errors.push(`${where}: ${keyPath}: ${parsed.reason !== undefined ? parsed.reason + '; ' : ''}got ${describe(value)}, allowed: ${spec.allowed}`)
    } else {
      out[key] = parsed
    }
  }
  return out
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return `a list [${v.map(x => JSON.stringify(x)).join(', ')}]`
  if (typeof v === 'object') return 'a mapping'
  return `${typeof v} ${JSON.stringify(v)}`
}

export interface ConfigSources {
  // Absolute path and text of the YAML file (already parsed with parseYamlSubset), if any.
  source?: string | null
  file?: unknown
  // Command-line flags by name without '--' (see CONFIG_FLAGS); they overlay the file.
  flags?: Readonly<Record<string, string | undefined>>
}

// File, then flags, then defaults, into a ProxyConfig; throws ConfigError with every problem.
export function resolveConfig (sources: ConfigSources): ProxyConfig {
  const errors: string[] = []
  const where = sources.source ?? '<flags>'
  const settings = validateGroup(sources.file ?? null, CONFIG_SCHEMA, '', where, errors)
  for (const [flag, text] of Object.entries(sources.flags ?? {})) {
    if (text === undefined) continue
    const path = CONFIG_FLAGS.get(flag)
    if (path === undefined) { errors.push(`--${flag}: unknown flag`); continue }
    const leaf = leafAt(path)
    const parsed = leaf.parse(leaf.fromFlag !== undefined ? leaf.fromFlag(text) : text)
    if (parsed instanceof Invalid) {
      errors.push(`--${flag} (${path}): ${parsed.reason !== undefined ? parsed.reason + '; ' : ''}got '${text}', allowed: ${leaf.allowed}`)
      continue
    }
    const parts = path.split('.')
    let node = settings
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Settings
    node[parts[parts.length - 1]!] = parsed
  }
  const bm = (settings.brokerMode ?? {}) as Settings
  const bp = (bm.brokerPorts ?? {}) as Settings
  const listen = (bm.listen as HostPort | undefined) ?? { host: '127.0.0.1', port: 19092 }
  if (bm.upstream === undefined && !errors.some(e => e.includes('upstream'))) errors.push(`${where}: brokerMode.upstream is required (or --upstream HOST:PORT[,HOST:PORT...])`)
  let advertisedHost = bm.advertisedHost as string | undefined
  if (advertisedHost === undefined) {
    if (listen.host === '0.0.0.0' || listen.host === '::') {
      errors.push(`${where}: brokerMode.advertisedHost is required when listening on ${listen.host}; allowed: the host name clients use to reach kproxy`)
    }
    advertisedHost = listen.host
  }
  let brokerPorts: BrokerPortMapping
  if (bp.base !== undefined && bp.ports !== undefined) {
    errors.push(`${where}: brokerMode.brokerPorts: set either base or ports, not both`)
  }
  if (bp.ports !== undefined) {
    brokerPorts = { kind: 'explicit', ports: bp.ports as Record<number, number> }
    for (const [id, port] of Object.entries(bp.ports as Record<number, number>)) {
      if (port === listen.port) errors.push(`${where}: brokerMode.brokerPorts.ports.${id}: port ${port} is the listen port; allowed: any other port`)
    }
  } else {
    const base = (bp.base as number | undefined) ?? listen.port + 1
    if (base === listen.port) errors.push(`${where}: brokerMode.brokerPorts.base: ${base} is the listen port; allowed: a port above it, e.g. ${listen.port + 1}`)
    if (base > 65535) errors.push(`${where}: brokerMode.brokerPorts.base: listen port + 1 is ${base}; allowed: set a base from 1 to 65535`)
    brokerPorts = { kind: 'offset', base }
  }
  const tls = resolveTls((bm.tls ?? {}) as Settings, where, errors)
  const upstreamTls = resolveUpstreamTls((bm.upstreamTls ?? {}) as Settings, where, errors)
  const sni = resolveSni((bm.sni ?? {}) as Settings, listen, tls !== null, where, errors)
  const admin = (settings.admin as HostPort | null | undefined) ?? null
  if (admin !== null && admin.port === listen.port) {
    errors.push(`${where}: admin: ${formatHostPort(admin)} uses the listen port; allowed: another port`)
  }
  if (errors.length > 0) throw new ConfigError(errors)
  return {
    source: sources.source ?? null,
    brokerMode: {
      listen,
      advertisedHost,
      upstream: bm.upstream as HostPort[],
      brokerPorts,
      apiKeysAllowed: (bm.apiKeysAllowed as number[] | undefined) ?? [],
      apiKeysDenied: (bm.apiKeysDenied as number[] | undefined) ?? [],
      maxFrameSize: (bm.maxFrameSize as number | undefined) ?? 100 * 1024 * 1024,
      upstreamConnectTimeoutMs: (bm.upstreamConnectTimeoutMs as number | undefined) ?? 10_000,
      tls,
      upstreamTls,
      sni,
      filters: ((bm.filters as FilterEntry[] | undefined) ?? []).map(f => f.kind === 'module' && !isAbsolute(f.path)
        ? { ...f, path: resolvePath(sources.source != null ? dirname(sources.source) : process.cwd(), f.path) }
        : f),
      filterHoldTimeoutMs: (bm.filterHoldTimeoutMs as number | undefined) ?? 30_000,
      bootstrapAnswerTimeoutMs: (bm.bootstrapAnswerTimeoutMs as number | undefined) ?? 1000
    },
    workers: (settings.workers as number | undefined) ?? 1,
    admin,
    shutdownTimeoutMs: (settings.shutdownTimeoutMs as number | undefined) ?? 10_000,
    logLevel: (settings.logLevel as ProxyConfig['logLevel'] | undefined) ?? 'info',
    statPrefix: (settings.statPrefix as string | undefined) ?? 'kproxy'
  }
}

// minVersion..maxVersion of one TLS group, defaults TLSv1.2..TLSv1.3; an empty range is an error.
function tlsVersionRange (t: Settings, at: string, errors: string[]): { minVersion: TlsVersion, maxVersion: TlsVersion } {
  const minVersion = (t.minVersion as TlsVersion | undefined) ?? 'TLSv1.2'
  const maxVersion = (t.maxVersion as TlsVersion | undefined) ?? 'TLSv1.3'
  if (minVersion > maxVersion) errors.push(`${at}: minVersion ${minVersion} is above maxVersion ${maxVersion}`)
  return { minVersion, maxVersion }
}

function resolveTls (t: Settings, where: string, errors: string[]): DownstreamTlsConfig | null {
  if (Object.keys(t).length === 0) return null
  const cert = t.cert as string | undefined
  const key = t.key as string | undefined
  if (cert === undefined || key === undefined) {
    errors.push(`${where}: brokerMode.tls: set both cert and key (--tls-cert, --tls-key) to enable TLS; got ${cert === undefined ? 'no cert' : 'no key'}`)
    return null
  }
  const ca = (t.ca as string | undefined) ?? null
  const clientAuth = (t.clientAuth as DownstreamTlsConfig['clientAuth'] | undefined) ?? (ca !== null ? 'require' : 'none')
  if (clientAuth !== 'none' && ca === null) {
    errors.push(`${where}: brokerMode.tls.clientAuth: ${clientAuth} needs brokerMode.tls.ca (--tls-ca), the CA that signs client certificates`)
  }
  const { minVersion, maxVersion } = tlsVersionRange(t, `${where}: brokerMode.tls`, errors)
  return {
    cert,
    key,
    ca,
    clientAuth,
    minVersion,
    maxVersion,
    ciphers: (t.ciphers as string | undefined) ?? null,
    principalMappingRules: (t.principalMappingRules as string[] | undefined) ?? ['DEFAULT'],
    handshakeTimeoutMs: (t.handshakeTimeoutMs as number | undefined) ?? 10_000
  }
}

function resolveUpstreamTls (t: Settings, where: string, errors: string[]): UpstreamTlsConfig | null {
  const ca = (t.ca as string | undefined) ?? null
  const cert = (t.cert as string | undefined) ?? null
  const key = (t.key as string | undefined) ?? null
  const enabled = (t.enabled as boolean | undefined) ?? (ca !== null || cert !== null || key !== null)
  if (!enabled) {
    if (ca !== null || cert !== null || key !== null) errors.push(`${where}: brokerMode.upstreamTls: enabled is false but ca, cert or key is set; allowed: remove them or enable upstream TLS`)
    return null
  }
  if ((cert === null) !== (key === null)) {
    errors.push(`${where}: brokerMode.upstreamTls: a client certificate needs both cert and key (--upstream-tls-cert, --upstream-tls-key)`)
  }
  const { minVersion, maxVersion } = tlsVersionRange(t, `${where}: brokerMode.upstreamTls`, errors)
  return {
    ca,
    cert,
    key,
    checkHostname: (t.checkHostname as boolean | undefined) ?? true,
    serverName: (t.serverName as string | undefined) ?? null,
    minVersion,
    maxVersion
  }
}

function resolveSni (t: Settings, listen: HostPort, tls: boolean, where: string, errors: string[]): SniConfig | null {
  if (Object.keys(t).length === 0) return null
  const bootstrapName = t.bootstrapName as string | undefined
  if (bootstrapName === undefined) {
    errors.push(`${where}: brokerMode.sni.bootstrapName is required for SNI routing (--sni-bootstrap-name NAME)`)
    return null
  }
  if (!tls) errors.push(`${where}: brokerMode.sni needs TLS on the listener; allowed: set brokerMode.tls.cert and key (--tls-cert, --tls-key)`)
  const brokerNamePattern = (t.brokerNamePattern as string | undefined) ?? `broker-{id}.${bootstrapName}`
  if (brokerNamePattern.replace('{id}', '1') === bootstrapName) errors.push(`${where}: brokerMode.sni.brokerNamePattern must differ from bootstrapName`)
  return { bootstrapName, brokerNamePattern, advertisedPort: (t.advertisedPort as number | undefined) ?? listen.port }
}

// The key reference for docs/configuration.md, generated from the schema.
export function configKeyTable (): string {
  const rows = leaves(CONFIG_SCHEMA, '').map(([path, l]) =>
    `| \`${path}\` | ${l.flag !== undefined ? `\`${l.flag}\`` : ''} | ${l.allowed} | ${l.default} | ${l.live ? 'yes' : 'no (restart)'} | ${l.doc} |`)
  return ['| Key | Flag | Allowed | Default | Live reload | Meaning |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n'
}

// The key paths a reload applies without a restart.
export const LIVE_KEYS: readonly string[] = leaves(CONFIG_SCHEMA, '').filter(([, l]) => l.live).map(([p]) => p)
