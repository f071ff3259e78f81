// What the proxy pipelines report. A worker implements it with counters and HDR histograms
// (metrics registry) and the supervisor merges the workers' snapshots; the pipelines only call
// these methods, on the hot path, so implementations must not allocate per call.
import type { TlsFailureReason } from '../tls/handshake-failure.ts'

export interface ProxyMetrics {
  connectionOpened (): void
  connectionClosed (): void
  bytesIn (n: number): void // from downstream clients
  bytesOut (n: number): void // to downstream clients
  request (apiKey: number, apiVersion: number): void
  // latency from the request's last byte read to the response's first byte written, in µs
  response (apiKey: number, apiVersion: number, latencyMicros: number): void
  // error codes seen in responses the proxy decodes anyway (and those it synthesises)
  responseError (apiKey: number, errorCode: number): void
  denied (apiKey: number): void
  // a response that says the client was throttled (throttleTimeMs > 0; a smaller value is ignored)
  throttled (apiKey: number, throttleTimeMs: number): void
  unknownApi (apiKey: number): void
  decodeFailure (): void
  // a downstream TLS handshake that completed (and whose client certificate, if required, verified)
  tlsHandshake (): void
  tlsHandshakeFailure (reason: TlsFailureReason): void
  // a counter a filter owns (kproxy_filter_events_total{filter, event}); asked for once, then
  // incremented on the hot path
  filterCounter? (filter: string, event: string): FilterEventCounter
  // a request the version bridge sent upstream at another version (kproxy_bridged_requests_total)
  bridged? (apiKey: number, fromVersion: number, toVersion: number): void
  // a counter of ACL denials (kproxy_acl_denials_total{principal, operation, resource_type});
  // asked for once per connection and kind, then incremented on the hot path
  aclDenials? (principal: string, operation: string, resourceType: string): FilterEventCounter
  // the quota filter's counters for one principal and quota (kproxy_quota_*{principal, quota});
  // asked for once per connection and limit, then used on the hot path
  quotaCounter? (principal: string, quota: string): QuotaEventCounter
  // SASL termination (kproxy_sasl_events_total{mechanism, event}); mechanism 'none' before one
  // was chosen
  sasl? (mechanism: string, event: SaslEvent): void
  // a plaintext client on a permissive TLS listener (kproxy_plaintext_connections_total{listener,
  // peer, client_id}): who still has to move to TLS before the listener goes strict
  plaintextConnection? (listener: string, peer: string, clientId: string): void
  // mesh mode: the HDR histogram of one upstream cluster's answer time for one API
  // (kproxy_mesh_upstream_latency_seconds{cluster, api}); asked for once, then recorded into on
  // the hot path. Null when the stats selection excludes the family (nothing is recorded).
  meshLatency? (cluster: string, apiKey: number): LatencyRecorder | null
  // mesh mode: the connections open now to one cluster's brokers
  // (kproxy_mesh_upstream_connections{cluster}); asked for once, then moved by +1/-1
  meshConnections? (cluster: string): GaugeRecorder
}

export interface LatencyRecorder {
  record (latencyMicros: number): void
}

export interface GaugeRecorder {
  add (n: number): void
}

export interface QuotaEventCounter {
  // a response carried throttle_time_ms for this quota (and the connection was not read for ms)
  throttled (ms: number): void
  // a connection or a request refused by this quota
  refused (): void
}

export type SaslEvent = 'authenticated' | 'reauthenticated' | 'failed' | 'refused_before_auth' | 'expired' | 'principal_change'

export interface FilterEventCounter {
  inc (n?: number): void
}

export const noopProxyMetrics: ProxyMetrics = {
  connectionOpened () {},
  connectionClosed () {},
  bytesIn () {},
  bytesOut () {},
  request () {},
  response () {},
  responseError () {},
  denied () {},
  throttled () {},
  unknownApi () {},
  decodeFailure () {},
  tlsHandshake () {},
  tlsHandshakeFailure () {}
}
