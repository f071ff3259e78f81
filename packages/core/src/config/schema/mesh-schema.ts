// Section "mesh": one endpoint in front of several Kafka clusters, topics routed by name
// (docs/mesh.md). Named clusters, ordered routing rules (prefix, exact name or regular expression
// -> cluster, optionally renamed), a default cluster or none, and the home cluster of groups and
// transactional ids. Exclusive with brokerMode in one config. The cross-key rules (unknown
// clusters, overlapping rules, rename collisions) sit in resolveMesh, so `kproxy check-config`
// reports them with the file's line and column.
import { resolve as resolvePath } from 'node:path'
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { parseHostPort } from '../host-port.ts'
import type { DownstreamTlsConfig, HostPort, UpstreamTlsConfig } from '../proxy-config.ts'
import type { UpstreamSaslConfig } from '../../policy/policy-config.ts'
import { SASL_MECHANISMS } from '../../sasl/sasl-mechanism.ts'
import { ruleConflicts } from '../../mesh/topic-router.ts'
import type { MeshRule } from '../../mesh/topic-router.ts'
import { FILTER_KEYS, resolveFilters } from './filters-schema.ts'
import type { ResolvedFilter } from './filters-schema.ts'
import { formatPath, group, key, requiredKey } from './schema-kit.ts'
import type { ResolveContext } from './resolve-context.ts'
import { API_KEY_LIST_ALLOWED, apiKeyList, apiKeyNumbers, bool, checkApiKeyList, checkHostPort, dnsName, filePath, hostPort, int, literals } from './value-kinds.ts'
import { withDefaults } from './defaults.ts'
import { downstreamTlsGroup, resolveDownstreamTls } from './downstream-tls-schema.ts'

export interface MeshClusterConfig {
  readonly name: string
  readonly bootstrap: readonly HostPort[]
  readonly tls: UpstreamTlsConfig | null
  // kproxy's own SASL login to this cluster's brokers (the password is read at each connection)
  readonly sasl: UpstreamSaslConfig | null
}

export interface MeshHomeRule {
  readonly prefix: string
  readonly cluster: string
}

// Where the replicas of a mesh keep the producer ids they take for clients (producer-id-log.ts in
// the workers): a topic of the default home cluster.
export interface ProducerIdLogConfig {
  readonly topic: string
  readonly retentionMs: number
  // -1: the cluster's default.replication.factor
  readonly replicationFactor: number
}

export interface MeshConfig {
  listen: HostPort
  advertisedHost: string
  // the node id kproxy advertises: the one broker clients see
  nodeId: number
  clusters: readonly MeshClusterConfig[]
  routes: readonly MeshRule[]
  defaultCluster: string | null
  // home cluster of a group id / transactional id by prefix; else groupDefaultCluster
  groups: readonly MeshHomeRule[]
  transactions: readonly MeshHomeRule[]
  homeDefaultCluster: string
  // null: each kproxy process keeps its own mappings (mesh.producerIdLog.enabled: false)
  producerIdLog: ProducerIdLogConfig | null
  metadataMaxAgeMs: number
  fetchMaxWaitMs: number
  maxFrameSize: number
  upstreamConnectTimeoutMs: number
  apiKeysAllowed: readonly number[]
  apiKeysDenied: readonly number[]
  filters: readonly ResolvedFilter[]
  filterHoldTimeoutMs: number
  // TLS toward clients on the mesh listener; null: plaintext
  tls: DownstreamTlsConfig | null
}

// a fresh schema per key: a key's doc is attached to its schema object, so a shared one would
// carry the last key's doc to every other
const NAME = (): ReturnType<typeof Type.String> => Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })
const NAME_ALLOWED = 'letters, digits, . _ - (1 to 64)'

function meshPath (doc: string): ReturnType<typeof key<ReturnType<typeof filePath>>> {
  return key(filePath(), { allowed: 'a file path', doc })
}

const CLUSTER_TLS = group({
  enabled: key(bool(), { defaultText: 'false (true when ca or cert is set)', doc: 'Connect to this cluster with TLS.' }),
  ca: meshPath("PEM CA certificates that sign this cluster's broker certificates (default: the system's CAs)."),
  cert: meshPath('PEM client certificate chain (mTLS).'),
  key: meshPath('PEM private key of the client certificate (never logged or shown).'),
  checkHostname: key(bool(true), { doc: "Check the broker's certificate names its host (or serverName)." }),
  serverName: key(dnsName(), { allowed: 'a DNS name', defaultText: "(the broker's host)", doc: 'Name sent as SNI and checked in the certificate instead of the host.' })
})

// kproxy's own login to the cluster, as policy.sasl.upstream in broker mode; the password itself
// never goes in the config (there is no key for it: `password` is an unknown key).
const CLUSTER_SASL = group({
  mechanism: requiredKey(literals(SASL_MECHANISMS), { doc: 'The SASL mechanism kproxy logs in with (the listener must offer it).' }),
  username: requiredKey(Type.String({ minLength: 1 }), { allowed: 'a non-empty string', doc: "The user kproxy logs in to this cluster's brokers as." }),
  passwordFile: key(filePath(), { allowed: 'a file path (relative: to the config file)', doc: 'File holding the password (one trailing newline dropped), read at each new connection so a rotated password is picked up; set this or passwordEnv.' }),
  passwordEnv: key(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), { allowed: 'an environment variable name', doc: 'Environment variable holding the password; set this or passwordFile.' })
})

function checkClusterSasl (value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  if ((v.passwordFile === undefined) === (v.passwordEnv === undefined)) return 'give exactly one of passwordFile and passwordEnv (the password itself never goes in the config)'
  return undefined
}

const CLUSTER = group({
  name: requiredKey(NAME(), { allowed: NAME_ALLOWED, doc: 'The name routing rules use.' }),
  bootstrap: requiredKey(Type.Union([Type.String({ minLength: 1 }), Type.Array(hostPort(), { minItems: 1 })]), {
    allowed: 'a non-empty list of HOST:PORT (or one comma-separated string)',
    doc: "The cluster's bootstrap servers.",
    check: v => {
      if (typeof v !== 'string' && !Array.isArray(v)) return undefined
      for (const item of hostList(v)) {
        if (typeof item !== 'string') return undefined
        const hp = parseHostPort(item)
        if (typeof hp === 'string') return `'${item}': ${hp}`
      }
      return undefined
    }
  }),
  tls: key(CLUSTER_TLS, { doc: 'TLS to this cluster (enabled by enabled: true, ca or cert).' }),
  sasl: key(CLUSTER_SASL, { allowed: 'a mapping: mechanism, username, passwordFile or passwordEnv', doc: "kproxy's own SASL login to this cluster's brokers (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), on every connection before its first request.", check: checkClusterSasl })
})

const ROUTE = group({
  prefix: key(Type.String({ minLength: 1 }), { allowed: 'a non-empty string', doc: 'Topics whose name starts with this (set one of prefix, exact, regex).' }),
  exact: key(Type.String({ minLength: 1 }), { allowed: 'a topic name', doc: 'The topic of exactly this name.' }),
  regex: key(Type.String({ minLength: 1 }), {
    allowed: 'a JavaScript regular expression',
    doc: 'Topics whose name it matches (anchor it with ^...$); no rename.',
    check: v => {
      if (typeof v !== 'string') return undefined
      try { new RegExp(v) } catch (err) { return `not a valid regular expression (${(err as Error).message})` } // eslint-disable-line no-new
      return undefined
    }
  }),
  cluster: requiredKey(NAME(), { allowed: 'the name of a cluster', doc: 'The cluster these topics live on.' }),
  rename: key(Type.String({ minLength: 1 }), { allowed: 'a non-empty string', doc: "The upstream side: replaces the prefix (or the exact name); the client's apples is fruit.apples on the cluster." })
})

const HOME = group({
  prefix: requiredKey(Type.String(), { allowed: 'a string', doc: 'Ids starting with this ("" for all).' }),
  cluster: requiredKey(NAME(), { allowed: 'the name of a cluster', doc: 'Their home cluster.' })
})

// A Kafka topic name that kproxy also hides from clients
export const PRODUCER_ID_LOG_TOPIC = '__kproxy_producer_ids'
const WEEK_MS = 7 * 24 * 3_600_000

const PRODUCER_ID_LOG = group({
  enabled: key(bool(true), { doc: "Keep the producer ids kproxy takes for idempotent producers on other clusters in a topic of the default home cluster, shared by every kproxy replica and kept across restarts, so that a retry through another replica or after a restart is answered as a duplicate. false: each kproxy process keeps its own (a retry through another process may be written twice on a cluster that did not allocate the client's producer id)." }),
  topic: key(Type.String({ pattern: '^[A-Za-z0-9._-]{1,249}$', default: PRODUCER_ID_LOG_TOPIC }), { allowed: 'a Kafka topic name', doc: 'The topic (one partition, created by kproxy when missing; clients of the mesh never see it).' }),
  retentionMs: key(int(3_600_000, 2_147_483_647, WEEK_MS), { defaultText: '604800000 (7 days)', doc: "The topic's retention.ms when kproxy creates it; keep it above the clusters' producer.id.expiration.ms (default 1 day)." }),
  replicationFactor: key(int(-1, 32_767, -1), { defaultText: "-1 (the cluster's default.replication.factor)", doc: "The topic's replication factor when kproxy creates it." })
})

export const MESH = group({
  listen: key(Object.assign(hostPort(), { default: '127.0.0.1:19092' }), { allowed: 'HOST:PORT', live: false, doc: 'The one address clients bootstrap from and are told every partition is led by.', check: checkHostPort }),
  advertisedHost: key(Type.String({ minLength: 1 }), { allowed: 'a host name or IP address', defaultText: 'the listen host', live: false, doc: 'Host name clients are told to use (required when listening on 0.0.0.0 or ::).' }),
  nodeId: key(int(0, 2_147_483_647, 0), { live: false, doc: 'The node id of the one broker clients see (kproxy); every replica of kproxy advertises the same.' }),
  clusters: key(Type.Array(CLUSTER, { minItems: 1 }), { allowed: 'a non-empty list of mappings', defaultText: '(required)', live: false, doc: 'The upstream clusters, by name.' }),
  routes: key(Type.Array(ROUTE, { default: [] }), { allowed: 'a list of mappings', live: false, doc: 'Ordered routing rules; first match wins; overlapping rules are an error.' }),
  defaultCluster: key(Type.Union([NAME(), Type.Null()], { default: null }), { allowed: 'a cluster name or null', defaultText: 'null (unrouted topics get UNKNOWN_TOPIC_OR_PARTITION)', live: false, doc: 'Where topics no rule matches live, under their own name.' }),
  groups: key(Type.Array(HOME, { default: [] }), { allowed: 'a list of mappings', live: false, doc: 'Home cluster of consumer groups by group id prefix (first match); else the default cluster, else the first cluster.' }),
  transactions: key(Type.Array(HOME, { default: [] }), { allowed: 'a list of mappings', live: false, doc: 'Home cluster of transactional producers by transactional id prefix (first match); else as for groups.' }),
  producerIdLog: key(PRODUCER_ID_LOG, { allowed: 'a mapping: enabled, topic, retentionMs, replicationFactor', live: false, doc: "Where kproxy replicas share the producer ids they take for clients' idempotent producers on other clusters (docs/mesh.md, \"Producer ids\")." }),
  metadataMaxAgeMs: key(int(100, 3_600_000, 30_000), { live: false, doc: "How long kproxy uses a cluster's topic and leader metadata before asking again (errors refresh it at once)." }),
  fetchMaxWaitMs: key(int(0, 600_000, 30_000), { live: false, doc: "Upper bound of a client's Fetch max wait (a fetch asking for hours waits this long at most)." }),
  maxFrameSize: key(int(1024, 2_147_483_647, 100 * 1024 * 1024), { defaultText: '104857600 (100 MiB)', live: false, doc: 'Largest request or response frame; a bigger one closes that connection.' }),
  upstreamConnectTimeoutMs: key(int(100, 600_000, 10_000), { live: false, doc: 'How long connecting to a cluster broker may take.' }),
  apiKeysAllowed: key(Object.assign(apiKeyList(), { default: [] }), { allowed: API_KEY_LIST_ALLOWED, defaultText: '[] (all)', live: false, doc: 'If non-empty, only these APIs pass; others get an error response.', check: checkApiKeyList }),
  apiKeysDenied: key(Object.assign(apiKeyList(), { default: [] }), { allowed: API_KEY_LIST_ALLOWED, live: false, doc: 'These APIs get an error response (counted as denied).', check: checkApiKeyList }),
  ...FILTER_KEYS,
  tls: key(downstreamTlsGroup(false), { doc: "TLS toward clients on the mesh listener (enabled by setting cert and key), as brokerMode.tls. Files are watched and reloaded; mode is live, the other keys need a restart." })
})

export type MeshFile = Static<typeof MESH>

function hostList (value: unknown): string[] {
  return typeof value === 'string' ? value.split(',').map(s => s.trim()) : value as string[]
}

export function resolveMesh (file: MeshFile, ctx: ResolveContext): MeshConfig {
  const m = withDefaults(MESH, file)
  const listen = parseHostPort(m.listen!) as HostPort
  let advertisedHost = m.advertisedHost
  if (advertisedHost === undefined) {
    if (listen.host === '0.0.0.0' || listen.host === '::') ctx.report(['mesh', 'listen'], `mesh.advertisedHost is required when listening on ${listen.host}; allowed: the host name clients use to reach kproxy`)
    advertisedHost = listen.host
  }
  const clusters: MeshClusterConfig[] = []
  const names = new Set<string>()
  if (m.clusters === undefined && !ctx.failed(['mesh', 'clusters'])) ctx.report(['mesh'], 'mesh.clusters is required: at least one cluster with a name and bootstrap servers')
  ;(m.clusters ?? []).forEach((c, i) => {
    if (names.has(c.name)) ctx.report(['mesh', 'clusters', i, 'name'], `mesh.clusters[${i}].name: '${c.name}' is used by another cluster; allowed: unique names`)
    names.add(c.name)
    clusters.push({
      name: c.name,
      bootstrap: hostList(c.bootstrap).map(hp => parseHostPort(hp) as HostPort),
      tls: resolveClusterTls(c.tls, ['mesh', 'clusters', i, 'tls'], ctx),
      sasl: resolveClusterSasl(c.sasl, ctx.baseDir)
    })
  })
  const known = (name: string): boolean => names.has(name) || ctx.failed(['mesh', 'clusters'])
  const unknownText = (name: string): string => `cluster '${name}' is not in mesh.clusters; allowed: ${[...names].join(', ')}`
  const routes: MeshRule[] = []
  ;(m.routes ?? []).forEach((r, i) => {
    const at = ['mesh', 'routes', i]
    const kinds = (['prefix', 'exact', 'regex'] as const).filter(k => r[k] !== undefined)
    if (kinds.length !== 1) {
      ctx.report(at, `mesh.routes[${i}]: set exactly one of prefix, exact, regex; got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`)
      return
    }
    const kind = kinds[0]!
    if (!known(r.cluster)) ctx.report([...at, 'cluster'], `mesh.routes[${i}].cluster: ${unknownText(r.cluster)}`)
    if (kind === 'regex' && r.rename !== undefined) ctx.report([...at, 'rename'], `mesh.routes[${i}].rename: a regex rule cannot rename (the upstream name could not be turned back); allowed: a prefix or exact rule`)
    routes.push({ kind, match: r[kind]!, cluster: r.cluster, rename: kind === 'regex' ? null : r.rename ?? null })
  })
  const defaultCluster = m.defaultCluster ?? null
  if (defaultCluster !== null && !known(defaultCluster)) ctx.report(['mesh', 'defaultCluster'], `mesh.defaultCluster: ${unknownText(defaultCluster)}`)
  for (const c of ruleConflicts(routes, defaultCluster)) ctx.report(['mesh', 'routes', c.index], `mesh.routes[${c.index}]: ${c.message}`)
  const homes = (list: ReadonlyArray<{ prefix: string, cluster: string }>, section: 'groups' | 'transactions'): MeshHomeRule[] => list.map((h, i) => {
    if (!known(h.cluster)) ctx.report(['mesh', section, i, 'cluster'], `mesh.${section}[${i}].cluster: ${unknownText(h.cluster)}`)
    return { prefix: h.prefix, cluster: h.cluster }
  })
  return {
    listen,
    advertisedHost,
    nodeId: m.nodeId!,
    clusters,
    routes,
    defaultCluster,
    groups: homes(m.groups ?? [], 'groups'),
    transactions: homes(m.transactions ?? [], 'transactions'),
    homeDefaultCluster: defaultCluster ?? clusters[0]?.name ?? '',
    producerIdLog: resolveProducerIdLog(m.producerIdLog),
    metadataMaxAgeMs: m.metadataMaxAgeMs!,
    fetchMaxWaitMs: m.fetchMaxWaitMs!,
    maxFrameSize: m.maxFrameSize!,
    upstreamConnectTimeoutMs: m.upstreamConnectTimeoutMs!,
    apiKeysAllowed: apiKeyNumbers(m.apiKeysAllowed!),
    apiKeysDenied: apiKeyNumbers(m.apiKeysDenied!),
    filters: resolveFilters(m.filters!, ctx.baseDir),
    filterHoldTimeoutMs: m.filterHoldTimeoutMs!,
    tls: resolveDownstreamTls(m.tls, 'mesh', ctx, false)
  }
}

function resolveProducerIdLog (file: Static<typeof PRODUCER_ID_LOG> | undefined): ProducerIdLogConfig | null {
  const p = withDefaults(PRODUCER_ID_LOG, file ?? {})
  if (p.enabled === false) return null
  return { topic: p.topic!, retentionMs: p.retentionMs!, replicationFactor: p.replicationFactor! }
}

function resolveClusterTls (file: Static<typeof CLUSTER_TLS> | undefined, at: Array<string | number>, ctx: ResolveContext): UpstreamTlsConfig | null {
  const t = withDefaults(CLUSTER_TLS, file ?? {})
  const ca = t.ca ?? null
  const cert = t.cert ?? null
  const tlsKey = t.key ?? null
  const enabled = t.enabled ?? (ca !== null || cert !== null || tlsKey !== null)
  if (!enabled) {
    if (ca !== null || cert !== null || tlsKey !== null) ctx.report([...at, 'enabled'], `${formatPath(at)}: enabled is false but ca, cert or key is set; allowed: remove them or enable TLS`)
    return null
  }
  if ((cert === null) !== (tlsKey === null)) ctx.report(at, `${formatPath(at)}: a client certificate needs both cert and key`)
  return { ca, cert, key: tlsKey, checkHostname: t.checkHostname!, serverName: t.serverName ?? null, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }
}

// The key check (checkClusterSasl) already refused a config without exactly one password source.
function resolveClusterSasl (file: Static<typeof CLUSTER_SASL> | undefined, baseDir: string): UpstreamSaslConfig | null {
  if (file === undefined) return null
  return {
    mechanism: file.mechanism,
    username: file.username,
    passwordFile: file.passwordFile !== undefined ? resolvePath(baseDir, file.passwordFile) : null,
    passwordEnv: file.passwordEnv ?? null
  }
}
