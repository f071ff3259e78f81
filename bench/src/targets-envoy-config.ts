// Envoy configurations the harness generates: one listener, `tcp_proxy` to one upstream, circuit
// breakers out of the way; optionally TLS on either side, which is how the mTLS double proxy is
// built from two Envoys (client side: plaintext in, TLS with a client certificate out; broker
// side: TLS in requiring a client certificate of the mesh CA, plaintext out).

export interface EnvoyTlsFiles {
  // PEM files: our certificate chain and key, and the CA the peer's certificate must chain to
  cert: string
  key: string
  ca: string
}

export interface EnvoyTlsOptions {
  // TLS on the listener, client certificates required
  downstream?: EnvoyTlsFiles
  // TLS towards the upstream with a client certificate; the upstream's certificate must carry
  // IP:<upstream host> (the mesh certificates carry IP:127.0.0.1)
  upstream?: EnvoyTlsFiles
}

// Both sides may use TLS 1.3, as kproxy (Node's defaults) does: Envoy's client side would stop at 1.2.
const TLS_PARAMS = '{ tls_minimum_protocol_version: TLSv1_2, tls_maximum_protocol_version: TLSv1_3 }'

function commonTlsContext (files: EnvoyTlsFiles, indent: string, upstreamIp: string | null): string {
  const san = upstreamIp === null
    ? ''
    : `\n${indent}  match_typed_subject_alt_names:\n${indent}  - { san_type: IP_ADDRESS, matcher: { exact: "${upstreamIp}" } }`
  return `${indent}tls_params: ${TLS_PARAMS}
${indent}tls_certificates:
${indent}- certificate_chain: { filename: "${files.cert}" }
${indent}  private_key: { filename: "${files.key}" }
${indent}validation_context:
${indent}  trusted_ca: { filename: "${files.ca}" }${san}`
}

export function envoyTcpProxyConfig (listenPort: number, adminPort: number, upstreamHost: string, upstreamPort: number, tls: EnvoyTlsOptions = {}): string {
  const downstream = tls.downstream === undefined
    ? ''
    : `
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
${commonTlsContext(tls.downstream, '            ', null)}`
  const upstream = tls.upstream === undefined
    ? ''
    : `
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
${commonTlsContext(tls.upstream, '          ', upstreamHost)}`
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
static_resources:
  listeners:
  - name: kafka
    address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: kafka
          cluster: kafka${downstream}
  clusters:
  - name: kafka
    type: STATIC
    connect_timeout: 5s
    # the default circuit breaker allows 1024 upstream connections and resets the rest
    circuit_breakers:
      thresholds:
      - { max_connections: 1000000, max_pending_requests: 1000000, max_requests: 1000000 }${upstream}
    load_assignment:
      cluster_name: kafka
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: ${upstreamHost}, port_value: ${upstreamPort} } } }
`
}
