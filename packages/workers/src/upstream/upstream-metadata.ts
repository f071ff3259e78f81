// The brokers of the upstream cluster, asked of one bootstrap server: ApiVersions (a probe every
// listener answers, even a SASL one before authentication), then Metadata without topics. Used at
// start and whenever a listener needs a broker the directory does not know. Not on the data path,
// so plain promises.
import type { HostPort } from '@kproxy/core/config/proxy-config'
import { DEFAULT_MAX_FRAME_SIZE } from '@kproxy/core/protocol/frame-reader'
import { getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { VersionRange } from '@kproxy/core/protocol/api-keys'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import { plainDialer } from '../net/upstream-dialer.ts'
import { KafkaConnection } from './kafka-connection.ts'
import type { UpstreamFailure } from './kafka-connection.ts'

// Every Kafka 4 broker answers Metadata v12 (v13 only adds a top-level error code).
const METADATA_VERSION = 12

export interface UpstreamBroker { nodeId: number, host: string, port: number }

// `onApiVersions` gets the broker's ApiVersions ranges (what it accepts: the version bridge).
export function fetchUpstreamBrokers (server: HostPort, timeoutMs: number, dialer: UpstreamDialer = plainDialer, onApiVersions?: (ranges: readonly VersionRange[]) => void): Promise<UpstreamBroker[]> {
  const where = `${server.host}:${server.port}`
  return new Promise((resolve, reject) => {
    let done = false
    let answeredApiVersions = false
    let failure: UpstreamFailure | null = null
    const finish = (err: Error | null, brokers?: UpstreamBroker[]): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      conn.close()
      if (err !== null) reject(err)
      else resolve(brokers!)
    }
    const conn = new KafkaConnection({
      dialer,
      address: server,
      connectTimeoutMs: timeoutMs,
      maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
      correlation: 'client',
      listener: {
        upstreamReady () {},
        upstreamFull () {},
        upstreamClosed (_conn, why) { failure = why }
      }
    })
    const timer = setTimeout(() => finish(new KproxyError('KPROXY_ERR_UPSTREAM_CONNECT',
      `${where} did not answer a Metadata request within ${timeoutMs} ms; check that Kafka runs there.`)), timeoutMs)
    const failed = (): Error => {
      const f = failure
      if (f === null) return new KproxyError('KPROXY_ERR_UPSTREAM_CLOSED', `upstream ${where} closed the connection before answering Metadata.`)
      if (f.phase === 'connect') {
        return f.tls !== null
          ? new KproxyError('KPROXY_ERR_UPSTREAM_TLS', `TLS handshake with upstream ${where} failed (${f.message}); check brokerMode.upstreamTls.`)
          : new KproxyError('KPROXY_ERR_UPSTREAM_CONNECT', `cannot reach upstream ${where} (${f.message}); check that Kafka runs there and the upstream setting.`)
      }
      // A SASL listener answers ApiVersions before authentication but closes the connection on
      // Metadata: reachable, yet kproxy (which has no credentials) cannot ask it for brokers.
      if (answeredApiVersions) {
        return new KproxyError('KPROXY_ERR_UPSTREAM_AUTH_REQUIRED',
          `upstream ${where} answers but requires authentication (SASL) before Metadata; kproxy learns the brokers from its clients' authenticated Metadata responses instead.`)
      }
      if (f.code === 'KPROXY_ERR_UPSTREAM_CLOSED') return new KproxyError('KPROXY_ERR_UPSTREAM_CLOSED', `upstream ${where} closed the connection before answering Metadata.`)
      return new KproxyError(f.code, f.message)
    }
    conn.request(ApiKey.ApiVersions, 0, getApi(ApiKey.ApiVersions).request.create()).then(({ body }) => {
      answeredApiVersions = true
      if (body.errorCode === 0) onApiVersions?.(body.apiKeys)
    }, () => {})
    const body = getApi(ApiKey.Metadata).request.create()
    body.topics = []
    body.allowAutoTopicCreation = false
    conn.request(ApiKey.Metadata, METADATA_VERSION, body).then(({ body }) => {
      finish(null, body.brokers.map((b: UpstreamBroker) => ({ nodeId: b.nodeId, host: b.host, port: b.port })))
    }, (err: Error) => {
      // a decode failure of the answer is reported as it is; a closed connection by its cause
      finish(failure !== null || (err as { code?: string }).code === 'KPROXY_ERR_UPSTREAM_CLOSED' ? failed() : err)
    })
  })
}
