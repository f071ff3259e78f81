// The validated configuration of a kproxy instance, as every layer sees it. The YAML file, the
// command-line flags and their defaults all end up as one ProxyConfig (see config-schema.ts).

export interface HostPort {
  host: string
  port: number
}

// Which local port stands for upstream broker N. Deterministic, so that several kproxy instances
// behind one load balancer advertise the same addresses.
export type BrokerPortMapping =
  | { kind: 'offset', base: number } // port = base + node id
  | { kind: 'explicit', ports: Readonly<Record<number, number>> } // node id -> port

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
}

export interface ProxyConfig {
  // Absolute path of the file it came from, if any (for messages and /config_dump).
  source: string | null
  brokerMode: BrokerModeConfig
  workers: number
  admin: HostPort | null
  // SIGTERM: stop accepting, let in-flight requests finish for at most this long, then exit.
  shutdownTimeoutMs: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
  // Envoy broker-filter stat prefix: kafka.<statPrefix>.request.produce_request, ...
  statPrefix: string
}
