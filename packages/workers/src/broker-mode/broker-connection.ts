// One downstream client connection and its own upstream broker connection: the broker-mode
// pipeline. Requests go upstream as the bytes that arrived (size prefix + the frame's chunks);
// responses come back as they came unless they carry broker addresses (rewritten) or are
// ApiVersions (intersected). Responses reach the client strictly in request order, including
// the ones kproxy makes itself (denied requests), which wait their turn in the queue.
//
// Backpressure: a write that returns false pauses the socket feeding it until 'drain'; a client
// that does not read its responses is not read from either. A client that pipelines faster than
// the broker answers is paused once MAX_IN_FLIGHT requests wait for an answer.
//
// SASL: SaslHandshake v1 + SaslAuthenticate are ordinary requests. After a successful
// SaslHandshake v0 the client sends raw size-prefixed tokens without Kafka headers, so the
// connection switches to opaque passthrough for good (logged at warn: no more address
// rewriting, policy or metrics per request on that connection).
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { FrameReader, frameHead, framePrefix, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { peekRequestHeader } from '@kproxy/core/protocol/headers'
import type { PeekedRequestHeader } from '@kproxy/core/protocol/headers'
import { getApi, hasApi } from '@kproxy/core/protocol/codec'
import { isKproxyError, KproxyError } from '@kproxy/core/kproxy-error'
import type { HostPort } from '@kproxy/core/config/proxy-config'
import type { ProxyContext, ListenerTarget } from './proxy-context.ts'
import { RequestQueue } from './request-queue.ts'
import { frameNeedsRewrite, rewriteAddresses } from '../filters/builtin/address-rewrite.ts'
import type { RewriteTarget } from '../filters/builtin/address-rewrite.ts'
import { API_VERSIONS, knowsApiVersionsVersion, unsupportedApiVersionsReply } from '../filters/builtin/api-versions.ts'
import { ApiVersionsMemo } from '../filters/builtin/api-versions-memo.ts'
import { WriteBatch } from '../net/write-batch.ts'
import { deniedResponse } from '../filters/error-response.ts'
import type { AdvertisedBroker } from '../filters/error-response.ts'
import { NEED_MORE, produceAcks } from '../session/produce-acks.ts'
import { describeTlsFailure, looksLikeTlsClientHello } from '@kproxy/core/tls/handshake-failure'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'

const PRODUCE = 0
const SASL_HANDSHAKE = 17
// in-flight requests above which the client's socket is paused until answers catch up
export const MAX_IN_FLIGHT = 4096
const RESUME_IN_FLIGHT = MAX_IN_FLIGHT / 2
const ACKS_PEEK_BYTES = 512
// one per worker thread: every connection's ApiVersions answer is usually the same
const apiVersionsMemo = new ApiVersionsMemo()

// What a connection needs from its listeners (broker-mode-listeners.ts).
export interface ConnectionHost {
  readonly ctx: ProxyContext
  readonly rewriteTarget: RewriteTarget
  // allowed[apiKey] === 1 when the policy lets the key through
  readonly allowed: Uint8Array
  // plain TCP or TLS to the upstream
  readonly dialer: UpstreamDialer
  // the client side is TLS (a TLS ClientHello on a plaintext listener is refused by name)
  readonly downstreamTls: boolean
  // where the listener's target really is: all bootstrap servers in order, or one broker
  upstreamFor (target: ListenerTarget): readonly HostPort[] | null
  // reloads the broker directory from upstream (a listener added on another worker's word may
  // stand for a broker this worker has not seen yet), then calls back
  refreshDirectory (done: () => void): void
  advertisedBrokers (): AdvertisedBroker[]
  upstreamContact (ok: boolean): void
  // a broker listener's upstream broker could not be connected to (refused, or timed out)
  upstreamUnreachable (target: ListenerTarget): void
  connectionClosed (conn: BrokerConnection): void
}

export class BrokerConnection {
  readonly #host: ConnectionHost
  readonly #ctx: ProxyContext
  // made on first use: an idle connection logged at level warn never needs a child logger
  #log: Logger | null = null
  readonly #peer: string
  readonly #down: Socket
  #up: Socket | null = null
  readonly #target: ListenerTarget
  #candidates: readonly HostPort[] = []
  #candidate = 0
  #upstreamName = ''
  #connectTimer: NodeJS.Timeout | null = null
  readonly #downReader: FrameReader
  readonly #upReader: FrameReader
  readonly #queue = new RequestQueue()
  // what the current socket event sends each way, written once at its end
  readonly #upBatch = new WriteBatch()
  readonly #downBatch = new WriteBatch()
  readonly #peek: PeekedRequestHeader = { apiKey: 0, apiVersion: 0, correlationId: 0 }
  readonly #openedAt = Date.now()
  #bytesIn = 0
  #bytesOut = 0
  #connected = false
  #closed = false
  #draining = false
  // why the downstream socket is paused
  #upBlocked = false // upstream write buffer full
  #downBlocked = false // the client does not read its responses: read no more requests either
  #inFlightBlocked = false // too many requests unanswered
  #saslV0Pending = false
  #passthrough = false
  #firstChunk = true
  #tlsFailure: string | null = null
  // who the client is: from its verified certificate (TLS listeners), null on plaintext ones
  readonly principal: string | null

  get host (): ConnectionHost { return this.#host }

  constructor (host: ConnectionHost, down: Socket, target: ListenerTarget, principal: string | null = null) {
    this.#host = host
    this.#ctx = host.ctx
    this.#down = down
    this.#target = target
    this.principal = principal
    this.#peer = `${down.remoteAddress ?? '?'}:${down.remotePort ?? 0}`
    this.#downReader = new FrameReader({
      maxFrameSize: this.#ctx.config.maxFrameSize,
      onFrame: this.#onRequest.bind(this),
      onError: this.#onDownFrameError.bind(this)
    })
    this.#upReader = new FrameReader({
      maxFrameSize: this.#ctx.config.maxFrameSize,
      onFrame: this.#onResponse.bind(this),
      onError: this.#onUpFrameError.bind(this)
    })
    this.#ctx.metrics.connectionOpened()
    down.setNoDelay(true)
    // not read until the upstream is connected (a TLS socket arrives flowing; a plain one paused)
    down.pause()
    down.on('data', this.#onDownData.bind(this))
    down.on('drain', this.#onDownDrain.bind(this))
    down.on('end', this.#onDownEnd.bind(this))
    down.on('error', this.#onDownError.bind(this))
    down.on('close', this.#onDownClose.bind(this))
    const candidates = host.upstreamFor(target)
    if (candidates !== null && candidates.length > 0) {
      this.#candidates = candidates
      this.#connectUpstream()
    } else {
      host.refreshDirectory(this.#onDirectoryRefreshed.bind(this))
    }
  }

  #logger (): Logger {
    if (this.#log === null) {
      const peer = this.#peer
      const target = this.#target.kind === 'bootstrap' ? 'bootstrap' : `broker-${this.#target.nodeId}`
      const principal = this.principal
      this.#log = this.#ctx.logger.child(principal === null ? { peer, target } : { peer, target, principal })
    }
    return this.#log
  }

  #logs (level: 'debug' | 'info'): boolean {
    return this.#ctx.logger.isLevelEnabled(level)
  }

  #onDirectoryRefreshed (): void {
    if (this.#closed) return
    const candidates = this.#host.upstreamFor(this.#target)
    if (candidates === null || candidates.length === 0) {
      const name = this.#target.kind === 'broker' ? `broker ${this.#target.nodeId}` : 'the bootstrap servers'
      this.close('KPROXY_ERR_UNKNOWN_BROKER', `no upstream address is known for ${name}: the upstream cluster does not list it (it left the cluster, or the upstream is unreachable)`)
      return
    }
    this.#candidates = candidates
    this.#connectUpstream()
  }

  get inFlight (): number { return this.#queue.length }
  get closed (): boolean { return this.#closed }

  // Graceful shutdown: read no more requests, close once every in-flight one is answered.
  drain (): void {
    if (this.#closed) return
    this.#draining = true
    this.#down.pause()
    if (this.#queue.length === 0) this.close(null, 'drained')
  }

  // ---- upstream connect ------------------------------------------------------------------

  #connectUpstream (): void {
    const { host, port } = this.#candidates[this.#candidate]
    this.#upstreamName = `${host}:${port}`
    const dialer = this.#host.dialer
    const up = dialer.dial({ host, port })
    this.#up = up
    up.setNoDelay(true)
    this.#connectTimer = setTimeout(this.#onConnectTimeout.bind(this), this.#ctx.config.upstreamConnectTimeoutMs)
    up.once(dialer.readyEvent, this.#onUpConnect.bind(this))
    up.on('data', this.#onUpData.bind(this))
    up.on('drain', this.#onUpDrain.bind(this))
    up.on('error', this.#onUpError.bind(this))
    up.on('close', this.#onUpClose.bind(this))
  }

  #onConnectTimeout (): void {
    this.#connectTimer = null
    this.#tryNextUpstream(`connecting to ${this.#upstreamName} took longer than ${this.#ctx.config.upstreamConnectTimeoutMs} ms`)
  }

  // A failed connect attempt: the next bootstrap server, or give up and close the client.
  #tryNextUpstream (why: string): void {
    if (this.#closed || this.#connected) return
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    const failed = this.#up
    this.#up = null
    failed?.removeAllListeners()
    failed?.on('error', ignore)
    failed?.destroy()
    this.#host.upstreamContact(false)
    if (this.#logs('debug')) this.#logger().debug({ upstream: this.#upstreamName, reason: why }, 'upstream connect attempt failed')
    if (++this.#candidate < this.#candidates.length) {
      this.#connectUpstream()
      return
    }
    if (this.#tlsFailure !== null) {
      this.close('KPROXY_ERR_UPSTREAM_TLS', `the TLS handshake with the upstream failed (${why}); check brokerMode.upstreamTls (CA, client certificate, serverName) against the broker's certificate`)
      return
    }
    this.#host.upstreamUnreachable(this.#target)
    this.close('KPROXY_ERR_UPSTREAM_CONNECT', `cannot reach the upstream broker (${why}); check that Kafka runs and that kproxy's upstream setting points at it`)
  }

  #onUpConnect (): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    if (this.#closed) return
    this.#connected = true
    this.#host.upstreamContact(true)
    if (this.#logs('info')) this.#logger().info({ upstream: this.#upstreamName, upstreamTls: this.#host.dialer.secure }, 'connection open')
    this.#updateDownFlow()
  }

  // ---- downstream -> upstream ------------------------------------------------------------

  #onDownData (chunk: Buffer): void {
    if (this.#firstChunk) {
      this.#firstChunk = false
      if (!this.#host.downstreamTls && looksLikeTlsClientHello(chunk)) {
        this.#ctx.metrics.tlsHandshakeFailure('tls_on_plaintext_port')
        this.#logger().warn({ code: 'KPROXY_ERR_TLS_HANDSHAKE', reason: 'tls_on_plaintext_port' }, `TLS handshake refused (tls_on_plaintext_port): ${describeTlsFailure('tls_on_plaintext_port')}`)
        this.close(null, 'refused: a TLS handshake on a plaintext listener')
        return
      }
    }
    this.#bytesIn += chunk.length
    this.#ctx.metrics.bytesIn(chunk.length)
    const up = this.#up
    if (up === null || this.#closed) return // cannot happen while paused before connect; be safe
    if (!this.#passthrough) {
      try {
        this.#downReader.push(chunk)
      } catch (err) {
        this.#fail(err)
      }
    } else {
      this.#upBatch.add(chunk)
    }
    this.#flushUp()
    this.#flushDown() // answers kproxy made itself
  }

  #onRequest (frame: Frame): void {
    if (this.#closed) return
    if (frame.size < 8) {
      this.#ctx.metrics.decodeFailure()
      this.close('KPROXY_ERR_DECODE', `a request of ${frame.size} bytes is too short for a Kafka request header`)
      return
    }
    const h = peekRequestHeader(frameHead(frame, 8), this.#peek)
    const apiKey = h.apiKey
    const apiVersion = h.apiVersion
    const metrics = this.#ctx.metrics
    if (!hasApi(apiKey)) {
      metrics.unknownApi(apiKey)
      this.close('KPROXY_ERR_UNKNOWN_API', `the client sent API key ${apiKey}, which is not part of Apache Kafka's protocol as kproxy knows it`)
      return
    }
    const now = performance.now()
    if (!getApi(apiKey).supports(apiVersion)) {
      if (apiKey === API_VERSIONS && !knowsApiVersionsVersion(apiVersion)) {
        metrics.request(apiKey, apiVersion)
        this.#queue.push(h.correlationId, apiKey, apiVersion, now, unsupportedApiVersionsReply(h.correlationId))
        this.#flushSynthetic()
        return
      }
      metrics.unknownApi(apiKey)
      this.close('KPROXY_ERR_UNSUPPORTED_VERSION', `the client sent ${getApi(apiKey).name} (key ${apiKey}) version ${apiVersion}, which kproxy cannot decode; it only accepts versions it advertised in ApiVersions`)
      return
    }
    metrics.request(apiKey, apiVersion)
    let expectsResponse = true
    if (apiKey === PRODUCE) {
      let acks = produceAcks(frameHead(frame, ACKS_PEEK_BYTES), apiVersion)
      if (acks === NEED_MORE) acks = produceAcks(frameToBuffer(frame), apiVersion)
      if (acks === NEED_MORE) {
        metrics.decodeFailure()
        this.close('KPROXY_ERR_DECODE', 'a Produce request ends before its acks field')
        return
      }
      expectsResponse = acks !== 0
    }
    if (this.#host.allowed[apiKey] !== 1) {
      this.#deny(frame, apiKey, apiVersion, h.correlationId, now, expectsResponse)
      return
    }
    if (expectsResponse) this.#queue.push(h.correlationId, apiKey, apiVersion, now)
    if (apiKey === SASL_HANDSHAKE && apiVersion === 0) this.#saslV0Pending = true
    this.#writeFrameUp(frame)
    if (this.#queue.length >= MAX_IN_FLIGHT && !this.#inFlightBlocked) {
      this.#inFlightBlocked = true
      this.#updateDownFlow()
    }
  }

  #deny (frame: Frame, apiKey: number, apiVersion: number, correlationId: number, now: number, expectsResponse: boolean): void {
    const metrics = this.#ctx.metrics
    metrics.denied(apiKey)
    if (this.#logs('debug')) this.#logger().debug({ apiKey, apiVersion }, 'request denied by policy')
    if (!expectsResponse) return // Produce acks=0: the client expects nothing back
    let denied
    try {
      denied = deniedResponse(frameToBuffer(frame), this.#host.advertisedBrokers())
    } catch (err) {
      metrics.decodeFailure()
      this.#fail(err)
      return
    }
    if (denied === null) {
      this.close('KPROXY_ERR_DENIED_NO_RESPONSE', `${getApi(apiKey).name} (key ${apiKey}) is denied by the api key policy and its response has no error field to report that in, so the connection is closed`)
      return
    }
    metrics.responseError(apiKey, denied.errorCode)
    this.#queue.push(correlationId, apiKey, apiVersion, now, denied.frame)
    this.#flushSynthetic()
  }

  // The frame's bytes as they arrived (prefix and payload ranges of the input chunks).
  #writeFrameUp (frame: Frame): void {
    const batch = this.#upBatch
    batch.add(framePrefix(frame))
    const chunks = frame.chunks
    for (let i = 0; i < chunks.length; i++) batch.add(chunks[i])
  }

  #flushUp (): void {
    const batch = this.#upBatch
    if (batch.empty) return
    if (this.#closed || this.#up === null) {
      batch.clear()
      return
    }
    batch.flush(this.#up)
    if (batch.full && !this.#upBlocked) {
      this.#upBlocked = true
      this.#updateDownFlow()
    }
  }

  #onUpDrain (): void {
    if (!this.#upBlocked) return
    this.#upBlocked = false
    this.#updateDownFlow()
  }

  // The client's socket is read only when the upstream is connected and can take more.
  #updateDownFlow (): void {
    if (this.#closed) return
    if (this.#connected && !this.#upBlocked && !this.#downBlocked && !this.#inFlightBlocked && !this.#draining) {
      if (this.#down.isPaused()) this.#down.resume()
    } else if (!this.#down.isPaused()) {
      this.#down.pause()
    }
  }

  // ---- upstream -> downstream ------------------------------------------------------------

  #onUpData (chunk: Buffer): void {
    if (!this.#passthrough) {
      try {
        this.#upReader.push(chunk)
      } catch (err) {
        this.#fail(err)
      }
    } else {
      this.#writeDown(chunk)
    }
    this.#flushDown()
  }

  #onResponse (frame: Frame): void {
    if (this.#closed) return
    const queue = this.#queue
    if (frame.size < 4 || queue.length === 0) {
      this.#ctx.metrics.decodeFailure()
      this.close('KPROXY_ERR_UPSTREAM_PROTOCOL', queue.length === 0 ? 'the broker sent a response to no request' : 'the broker sent a frame too short for a response header')
      return
    }
    const correlationId = frameHead(frame, 4).readInt32BE(0)
    if (correlationId !== queue.headCorrelationId) {
      this.#ctx.metrics.decodeFailure()
      this.close('KPROXY_ERR_UPSTREAM_PROTOCOL', `the broker answered correlation id ${correlationId} while ${queue.headCorrelationId} was the oldest request in flight`)
      return
    }
    const apiKey = queue.headApiKey
    const apiVersion = queue.headApiVersion
    let rewritten: Buffer[] | null = null
    try {
      if (apiKey === API_VERSIONS) rewritten = apiVersionsMemo.intersect(frameToBuffer(frame), apiVersion)
      else if (frameNeedsRewrite(frame, apiKey, apiVersion)) rewritten = rewriteAddresses(frameToBuffer(frame), apiKey, apiVersion, this.#host.rewriteTarget)
    } catch (err) {
      this.#ctx.metrics.decodeFailure()
      this.#fail(err)
      return
    }
    if (rewritten === null) {
      this.#writeDown(framePrefix(frame))
      const chunks = frame.chunks
      for (let i = 0; i < chunks.length; i++) this.#writeDown(chunks[i])
    } else {
      for (let i = 0; i < rewritten.length; i++) this.#writeDown(rewritten[i])
    }
    this.#ctx.metrics.response(apiKey, apiVersion, Math.round((performance.now() - queue.headStartTime) * 1000))
    queue.shift()
    if (apiKey === SASL_HANDSHAKE && this.#saslV0Pending) this.#saslHandshakeAnswered(frame)
    this.#afterResponse()
  }

  // SaslHandshake v0 response: correlationId int32, errorCode int16, mechanisms. On success the
  // raw tokens that follow have no Kafka header: from here on bytes are relayed as they come.
  #saslHandshakeAnswered (frame: Frame): void {
    this.#saslV0Pending = false
    const head = frameHead(frame, 6)
    if (head.length < 6 || head.readInt16BE(4) !== 0) return
    this.#passthrough = true
    this.#logger().warn({ code: 'KPROXY_WARN_SASL_V0_PASSTHROUGH' }, 'SaslHandshake v0: the connection becomes an opaque byte relay; broker addresses, policy and per-request metrics no longer apply to it (use a client that sends SaslHandshake v1)')
  }

  #afterResponse (): void {
    this.#flushSynthetic()
    const queue = this.#queue
    if (this.#inFlightBlocked && queue.length <= RESUME_IN_FLIGHT) {
      this.#inFlightBlocked = false
      this.#updateDownFlow()
    }
    if (this.#draining && queue.length === 0) this.close(null, 'drained')
  }

  // Responses kproxy made itself go out once everything before them has been answered.
  #flushSynthetic (): void {
    const queue = this.#queue
    let wrote = false
    while (queue.length > 0) {
      const frame = queue.headSynthetic
      if (frame === undefined) break
      for (let i = 0; i < frame.length; i++) this.#writeDown(frame[i])
      this.#ctx.metrics.response(queue.headApiKey, queue.headApiVersion, Math.round((performance.now() - queue.headStartTime) * 1000))
      queue.shift()
      wrote = true
    }
    if (wrote && this.#draining && queue.length === 0) this.close(null, 'drained')
  }

  // A full client write buffer pauses the upstream (no more responses) and the client's own
  // requests (kproxy answers some itself; a broker, too, stops reading a connection whose
  // responses are not being read), until the client drains it.
  #writeDown (buf: Buffer): void {
    this.#downBatch.add(buf)
  }

  #flushDown (): void {
    const batch = this.#downBatch
    if (batch.empty) return
    if (this.#closed) {
      batch.clear()
      return
    }
    const bytes = batch.flush(this.#down)
    this.#bytesOut += bytes
    this.#ctx.metrics.bytesOut(bytes)
    if (batch.full && !this.#downBlocked) {
      this.#downBlocked = true
      if (this.#up !== null && !this.#up.isPaused()) this.#up.pause()
      this.#updateDownFlow()
    }
  }

  #onDownDrain (): void {
    if (!this.#downBlocked || this.#closed) return
    this.#downBlocked = false
    if (this.#up !== null && this.#up.isPaused()) this.#up.resume()
    this.#updateDownFlow()
  }

  // ---- errors and closing ----------------------------------------------------------------

  #onDownFrameError (err: KproxyError): void {
    this.#ctx.metrics.decodeFailure()
    this.close(err.code, `client: ${err.message}`)
  }

  #onUpFrameError (err: KproxyError): void {
    this.#ctx.metrics.decodeFailure()
    this.close(err.code, `upstream: ${err.message}`)
  }

  #onDownEnd (): void {
    if (!this.#passthrough && !this.#downReader.end()) return // a truncated frame closed it
    this.close(null, 'client closed the connection')
  }

  #onDownError (err: Error): void {
    this.close('KPROXY_ERR_CLIENT_SOCKET', `client socket error: ${err.message}`)
  }

  #onDownClose (): void {
    this.close(null, 'client closed the connection')
  }

  #onUpError (err: Error): void {
    const errno = (err as NodeJS.ErrnoException).code
    if (errno === 'EMFILE' || errno === 'ENFILE') {
      // kproxy's own limit, not the broker's health: no other bootstrap server, no unhealthy mark
      this.close('KPROXY_ERR_TOO_MANY_OPEN_FILES', `no file descriptor left for the upstream connection (${errno}): each client connection needs two, so raise kproxy's open-files limit (ulimit -n, systemd LimitNOFILE) or accept fewer clients`)
      return
    }
    if (!this.#connected) {
      const reason = this.#up !== null ? this.#host.dialer.handshakeFailed(this.#up, err) : null
      if (reason !== null) this.#tlsFailure = reason
      this.#tryNextUpstream(reason !== null ? `${reason}: ${err.message}` : err.message)
      return
    }
    this.close('KPROXY_ERR_UPSTREAM_SOCKET', `upstream ${this.#upstreamName} socket error: ${err.message}`)
  }

  #onUpClose (): void {
    if (!this.#connected) {
      this.#tryNextUpstream('the connection closed')
      return
    }
    this.close('KPROXY_ERR_UPSTREAM_CLOSED', `upstream ${this.#upstreamName} closed the connection with ${this.#queue.length} request(s) in flight`)
  }

  #fail (err: unknown): void {
    if (isKproxyError(err)) this.close(err.code, err.message)
    else this.close('KPROXY_ERR_INTERNAL', `unexpected error in the broker-mode pipeline: ${(err as Error)?.stack ?? String(err)}`)
  }

  // Closes both sides. `code` null: an ordinary close (logged at info); otherwise at warn with
  // the code. Requests still in flight fail by closure, as when a broker crashes.
  close (code: string | null, reason: string): void {
    if (this.#closed) return
    // a graceful close still sends the answers this event produced; any other drops them
    if (code === null && this.#draining) this.#flushDown()
    this.#closed = true
    this.#upBatch.clear()
    this.#downBatch.clear()
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    const fields = {
      upstream: this.#upstreamName,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      durationMs: Date.now() - this.#openedAt,
      inFlight: this.#queue.length,
      code: code ?? undefined,
      reason
    }
    if (code === null) {
      if (this.#logs('info')) this.#logger().info(fields, 'connection closed')
    } else {
      this.#logger().warn(fields, `connection closed: ${code}`)
    }
    this.#queue.clear()
    this.#down.on('error', ignore)
    if (code === null && this.#draining) {
      // let the answers already written reach the client, then give up on it after a second
      this.#down.end()
      setTimeout(destroySocket, 1000, this.#down).unref()
    } else {
      this.#down.destroy()
    }
    if (this.#up !== null) {
      this.#up.on('error', ignore)
      this.#up.destroy()
    }
    this.#ctx.metrics.connectionClosed()
    this.#host.connectionClosed(this)
  }
}

function ignore (): void {}

function destroySocket (socket: Socket): void {
  socket.destroy()
}
