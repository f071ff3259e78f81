// Loads the broker directory at start: a Metadata request (no topics) to the first reachable
// bootstrap server. Not on the data path, so plain promises.
import type { HostPort } from '@kproxy/core/config/proxy-config'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { FrameReader, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import { plainDialer } from '../net/upstream-dialer.ts'

const METADATA = 3
const API_VERSIONS = 18
// Every Kafka 4 broker answers Metadata v12 (v13 only adds a top-level error code).
const METADATA_VERSION = 12

export interface UpstreamBroker { nodeId: number, host: string, port: number }

export function fetchUpstreamBrokers (server: HostPort, timeoutMs: number, dialer: UpstreamDialer = plainDialer): Promise<UpstreamBroker[]> {
  return new Promise((resolve, reject) => {
    const socket = dialer.dial(server)
    let ready = false
    let done = false
    let answeredApiVersions = false
    const finish = (err: Error | null, brokers?: UpstreamBroker[]): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      if (err !== null) reject(err)
      else resolve(brokers!)
    }
    const timer = setTimeout(() => finish(new KproxyError('KPROXY_ERR_UPSTREAM_CONNECT',
      `${server.host}:${server.port} did not answer a Metadata request within ${timeoutMs} ms; check that Kafka runs there.`)), timeoutMs)
    const reader = new FrameReader({
      onFrame: frame => {
        // correlation id 0: the ApiVersions probe, 1: Metadata
        const payload = frameToBuffer(frame)
        if (payload.length >= 4 && payload.readInt32BE(0) === 0) {
          answeredApiVersions = true
          return
        }
        try {
          const { body } = decodeResponse(payload, METADATA, METADATA_VERSION)
          finish(null, body.brokers.map(b => ({ nodeId: b.nodeId, host: b.host, port: b.port })))
        } catch (err) {
          finish(err as Error)
        }
      },
      onError: err => finish(err)
    })
    socket.on('data', chunk => reader.push(chunk))
    socket.on('error', err => {
      const tlsReason = ready ? null : dialer.handshakeFailed(socket, err)
      finish(tlsReason !== null
        ? new KproxyError('KPROXY_ERR_UPSTREAM_TLS', `TLS handshake with upstream ${server.host}:${server.port} failed (${tlsReason}: ${err.message}); check brokerMode.upstreamTls.`)
        : new KproxyError('KPROXY_ERR_UPSTREAM_CONNECT', `cannot reach upstream ${server.host}:${server.port} (${err.message}); check that Kafka runs there and the upstream setting.`))
    })
    // A SASL listener answers ApiVersions before authentication but closes the connection on
    // Metadata: reachable, yet kproxy (which has no credentials) cannot ask it for brokers.
    socket.on('close', () => finish(answeredApiVersions
      ? new KproxyError('KPROXY_ERR_UPSTREAM_AUTH_REQUIRED',
        `upstream ${server.host}:${server.port} answers but requires authentication (SASL) before Metadata; kproxy learns the brokers from its clients' authenticated Metadata responses instead.`)
      : new KproxyError('KPROXY_ERR_UPSTREAM_CLOSED',
        `upstream ${server.host}:${server.port} closed the connection before answering Metadata.`)))
    socket.once(dialer.readyEvent, () => {
      ready = true
      for (const c of encodeRequest({ apiKey: API_VERSIONS, apiVersion: 0, correlationId: 0, clientId: 'kproxy' }, getApi(API_VERSIONS).request.create())) socket.write(c)
      const body = getApi(METADATA).request.create()
      body.topics = []
      body.allowAutoTopicCreation = false
      for (const c of encodeRequest({ apiKey: METADATA, apiVersion: METADATA_VERSION, correlationId: 1, clientId: 'kproxy' }, body)) socket.write(c)
    })
  })
}
