// How mesh mode dials one cluster's brokers: plain or TLS (mesh.clusters[].tls, mTLS with a
// client certificate) and, with mesh.clusters[].sasl, kproxy's own SASL login on every connection
// before its first request (the shared connections and each client's own ones alike). The login
// is broker mode's (upstream-sasl-login.ts): same mechanisms, same password sources, read at each
// connection so a rotated password file is picked up; nothing secret is logged. Every socket it
// dials is counted per cluster (upstream_connects / upstream_disconnects, mesh-metrics.ts).
import type { Logger } from 'pino'
import type { MeshClusterConfig } from '@kproxy/core/config/schema/mesh-schema'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { upstreamCredentials } from '@kproxy/core/policy/upstream-credentials'
import { createUpstreamDialer, plainDialer, withLogin } from '../net/upstream-dialer.ts'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import type { UpstreamLogin } from '../upstream/upstream-sasl-login.ts'
import type { MeshMetrics } from './mesh-metrics.ts'

// `index`: the cluster's place in mesh.clusters (error messages name the key).
export function meshClusterDialer (cluster: MeshClusterConfig, index: number, logger: Logger, metrics: ProxyMetrics, meshMetrics: MeshMetrics): UpstreamDialer {
  const base = cluster.tls === null ? plainDialer : createUpstreamDialer(cluster.tls, logger, metrics, `mesh.clusters[${index}].tls`)
  const login = meshClusterLogin(cluster, index)
  return counted(login === null ? base : withLogin(base, () => login), cluster.name, meshMetrics)
}

// Once per connection, not per request: a closure per socket is fine here.
function counted (dialer: UpstreamDialer, cluster: string, meshMetrics: MeshMetrics): UpstreamDialer {
  return {
    secure: dialer.secure,
    readyEvent: dialer.readyEvent,
    get login () { return dialer.login },
    dial (to, identity, onread) {
      const socket = dialer.dial(to, identity, onread)
      meshMetrics.upstream(cluster, 'connects')
      socket.once('close', () => meshMetrics.upstream(cluster, 'disconnects'))
      return socket
    },
    handshakeFailed: (socket, err) => dialer.handshakeFailed(socket, err),
    close: () => dialer.close()
  }
}

export function meshClusterLogin (cluster: MeshClusterConfig, index: number): UpstreamLogin | null {
  const sasl = cluster.sasl
  if (sasl === null) return null
  const configKey = `mesh.clusters[${index}].sasl`
  return {
    mechanism: sasl.mechanism,
    username: sasl.username,
    configKey,
    credentials: () => upstreamCredentials(sasl, process.env, configKey)
  }
}
