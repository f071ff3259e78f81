// The validated configuration of a kproxy instance, as every layer sees it. The YAML file, the
// command-line flags and their defaults all end up as one ProxyConfig (see resolve-config.ts).
// The file's shape is inferred from the schema (schema/kproxy-schema.ts, KproxyFile); the types
// here are the resolved shape where it differs (addresses parsed, computed defaults filled in,
// optional groups null), and take the schema's types where it is the same.
import type { ResolvedFilter } from './schema/filters-schema.ts'
import type { StatsConfig } from '../metrics/stats-config.ts'
import type { LogLevel } from './schema/common-schema.ts'
import type { TLS_VERSIONS } from './schema/value-kinds.ts'
import type { VersionBridgeConfig } from './schema/version-bridge-schema.ts'
import type { PolicySection } from './schema/policy-schema.ts'
import type { MeshConfig } from './schema/mesh-schema.ts'

export type { MeshConfig, ResolvedFilter, VersionBridgeConfig }

export interface HostPort {
  host: string
  port: number
}

// Which local port stands for upstream broker N. Deterministic, so that several kproxy instances
// behind one load balancer advertise the same addresses.
export type BrokerPortMapping =
  | { kind: 'offset', base: number } // port = base + node id
  | { kind: 'explicit', ports: Readonly<Record<number, number>> } // node id -> port

export type TlsVersion = typeof TLS_VERSIONS[number]

// TLS on the client-facing listeners. Files are PEM paths; their contents never enter the config
// (so /config_dump and logs cannot show a key), and they are watched: new handshakes use new
// certificates, existing connections carry on.
// strict: TLS only; permissive: TLS and plaintext on one port (the first bytes decide);
// disabled: plaintext only. The one brokerMode.tls key a reload applies.
export type TlsMode = 'strict' | 'permissive' | 'disabled'

export interface DownstreamTlsConfig {
  mode: TlsMode
  cert: string // certificate chain, leaf first
  key: string
  ca: string | null // trust for client certificates
  clientAuth: 'none' | 'request' | 'require'
  minVersion: TlsVersion
  maxVersion: TlsVersion
  ciphers: string | null // OpenSSL cipher list for TLS 1.2 (1.3 suites are not configurable here)
  // Kafka-style ssl.principal.mapping.rules (RULE:…, SAN:…, DEFAULT); first match wins.
  principalMappingRules: readonly string[]
  handshakeTimeoutMs: number
}

// TLS from kproxy to the upstream brokers (or to another kproxy in a double proxy).
export interface UpstreamTlsConfig {
  ca: string | null // null: the system's trusted CAs
  cert: string | null // client certificate, for brokers that require one
  key: string | null
  checkHostname: boolean
  // name sent as SNI and checked against the certificate instead of the broker's host
  serverName: string | null
  minVersion: TlsVersion
  maxVersion: TlsVersion
}

// SNI routing: one TLS port; the name the client asks for selects the upstream.
export interface SniConfig {
  bootstrapName: string
  // contains {id}: broker-{id}.kafka.example.com
  brokerNamePattern: string
  // port advertised with those names (default: the listen port)
  advertisedPort: number
}

// One entry of a listener's filter chain, as the filter engine loads it.
export type FilterEntry = ResolvedFilter

export interface BrokerModeConfig {
  // Where clients bootstrap.
  listen: HostPort
  // The host name clients are told to use for every broker (default: listen.host).
  advertisedHost: string
  // The real cluster's bootstrap servers.
  upstream: readonly HostPort[]
  brokerPorts: BrokerPortMapping
  // Envoy-style API key policy; a key in neither list is allowed unless apiKeysAllowed is non-empty.
  apiKeysAllowed: readonly number[]
  apiKeysDenied: readonly number[]
  maxFrameSize: number
  // How long an upstream connect may take before the downstream connection is closed.
  upstreamConnectTimeoutMs: number
  // The filter chain of every client connection, in order (built-in filters with their config
  // defaults filled in; module paths absolute).
  filters: readonly ResolvedFilter[]
  // How long a filter may hold a request before it gets an error response.
  filterHoldTimeoutMs: number
  // How long a bootstrap server may leave the first requests of a connection unanswered before
  // the connection moves to the next server (0: never).
  bootstrapAnswerTimeoutMs: number
  // old clients against an upstream that dropped their versions (docs/version-bridge.md); always
  // set by the config resolver, absent (off) in hand-written test configs
  versionBridge?: VersionBridgeConfig
  tls: DownstreamTlsConfig | null
  upstreamTls: UpstreamTlsConfig | null
  sni: SniConfig | null
}

// The admin API's address and its bearer token (null: none; KPROXY_ADMIN_TOKEN may still set one).
export interface AdminConfig extends HostPort {
  token: string | null
}

export interface ProxyConfig {
  // Absolute path of the file it came from, if any (for messages and /config_dump).
  source: string | null
  // broker mode's settings; with `mesh` set, only defaults (unused)
  brokerMode: BrokerModeConfig
  // mesh mode (docs/mesh.md); null: broker mode
  mesh: MeshConfig | null
  workers: number
  // V8's cap on young-generation growth per thread, set before the workers start (0: V8's own)
  youngGenerationMb: number
  admin: AdminConfig | null
  // SIGTERM: stop accepting, let in-flight requests finish for at most this long, then exit.
  shutdownTimeoutMs: number
  logLevel: LogLevel
  // Envoy broker-filter stat prefix: kafka.<statPrefix>.request.produce_request, ...
  statPrefix: string
  // what is recorded and exported beyond the fixed counters
  stats: StatsConfig
  // identity, ACLs, quotas, identity to the brokers, as checked (plain data for the workers;
  // policyOf() gives the rules)
  policy: PolicySection
}
