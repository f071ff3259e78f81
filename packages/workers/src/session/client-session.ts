// One client connection: framing, the filter chain, strict response order, backpressure, drain
// and close. Where requests go is the route's business (broker mode: the client's own upstream
// connection; mesh mode: several clusters).
//
// A request's way: frame cut (no copy) -> header peeked (8 bytes) -> taps -> the filters that
// declared interest in its API key and version, if any (each may pass it on, change it, answer
// it, close the connection, or hold it with a promise) -> route. A frame no filter wants goes to
// the route as the bytes that arrived. Answers (from the upstream, from a filter, from kproxy)
// pass the response filters and are written strictly in request order.
//
// Ordering: requests reach the route in the order they arrived. While a filter holds a request
// (a quota delay, a lookup), the connection's later requests wait behind it in `#backlog`, and
// everything else goes on: earlier answers are written, the socket is still read (up to the
// in-flight limit), other connections are not affected. A held request has a deadline.
//
// Backpressure: a full upstream write buffer pauses reading from the client; a client that does
// not read its responses is not read from either, and its route stops reading answers for it.
// A client that pipelines faster than answers come is paused at MAX_IN_FLIGHT requests.
//
// SASL: with termination (policy.sasl) the SASL stage (policy/sasl-stage.ts) sees every frame
// first: kproxy answers SaslHandshake, SaslAuthenticate and v0 raw tokens itself, only ApiVersions
// passes before the client is authenticated, and the principal it authenticated as is the
// connection's. Without termination SaslHandshake v1 + SaslAuthenticate are ordinary requests
// for the broker; after a successful SaslHandshake v0 the client sends raw size-prefixed tokens
// without Kafka headers, so the connection becomes an opaque byte relay for good (logged at warn:
// no filters, no address rewriting, no per-request metrics on that connection).
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { FrameReader, frameHead, framePrefix, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { peekRequestHeader } from '@kproxy/core/protocol/headers'
import type { PeekedRequestHeader } from '@kproxy/core/protocol/headers'
import { encodeResponse, ErrorCode, errorByName, getApi, hasApi } from '@kproxy/core/protocol/codec'
import { ApiKey, FORWARDED_BELOW_CODEC } from '@kproxy/core/protocol/api-keys'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import type { KproxyError } from '@kproxy/core/kproxy-error'
import { describeTlsFailure, looksLikeTlsClientHello } from '@kproxy/core/tls/handshake-failure'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { WriteBatch } from '../net/write-batch.ts'
import { ownBuffer, ownFrame, SlabHolds } from '../net/read-slabs.ts'
import type { Writable } from '../net/write-batch.ts'
import type { ListenerInfo, RequestAction, ResponseAction } from '../filters/filter-api.ts'
import type { ChainMember, FilterChain, Interested } from '../filters/filter-chain.ts'
import { RequestView, ResponseView } from '../filters/request-view.ts'
import { errorResponse, failEverything } from '../filters/error-response.ts'
import { responseFramesProblem } from '../filters/response-frames.ts'
import type { AdvertisedBroker } from '../filters/error-response.ts'
import { knowsApiVersionsVersion, unsupportedApiVersionsReply } from '../filters/builtin/api-versions.ts'
import { InFlight, InFlightQueue } from './in-flight.ts'
import { NEED_MORE, produceAcks } from './produce-acks.ts'
import type { Route, RouteSink } from './route.ts'
import { SessionContext } from './session-context.ts'
import { FlowRecorder, recordThrottle } from './flow-recorder.ts'
import { SaslStage } from '../policy/sasl-stage.ts'
import type { SaslStageHost } from '../policy/sasl-stage.ts'
import type { SaslTermination } from '../policy/sasl-termination.ts'
import type { FlowRegistry } from '@kproxy/core/metrics/flow-registry'

// in-flight requests above which the client's socket is paused until answers catch up
export const MAX_IN_FLIGHT = 4096
const RESUME_IN_FLIGHT = MAX_IN_FLIGHT / 2
const ACKS_PEEK_BYTES = 512
// a filter that fails this many times on one connection gets the connection closed
export const FILTER_FAILURE_LIMIT = 3
export const DEFAULT_HOLD_TIMEOUT_MS = 30_000
const NO_FILTERS: readonly Interested[] = []

// Why the client's socket is not read (bits; 0 = read it).
const PAUSE_ROUTE = 1 // the route is not ready (upstream connecting)
const PAUSE_UPSTREAM_FULL = 2
const PAUSE_CLIENT_FULL = 4 // the client does not read its responses
const PAUSE_IN_FLIGHT = 8
const PAUSE_THROTTLED = 16 // a quota (KIP-219)
const PAUSE_DRAINING = 32
const PAUSE_SASL = 64 // a SASL token is being checked

export type SessionState = 'open' | 'draining' | 'passthrough' | 'closed'

// The socket as the session uses it: a net.Socket or tls.TLSSocket, or a scripted stand-in in
// tests.
export interface ClientSocket extends Writable {
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
  setNoDelay (noDelay?: boolean): unknown
  pause (): unknown
  resume (): unknown
  isPaused (): boolean
  end (): unknown
  destroy (): unknown
  on (event: 'data', listener: (chunk: Buffer) => void): unknown
  on (event: 'drain' | 'end' | 'close', listener: () => void): unknown
  on (event: 'error', listener: (err: Error) => void): unknown
}

export interface SessionSettings {
  readonly maxFrameSize: number
  readonly filterHoldTimeoutMs?: number
}

export interface SessionHost {
  readonly metrics: ProxyMetrics
  // per-flow counters (stats.flows), null when off
  readonly flows?: FlowRegistry | null
  readonly logger: Logger
  readonly workerId: number
  readonly settings: SessionSettings
  // the listener's chain now (a reload replaces it; requests already in it keep theirs)
  readonly chain: FilterChain
  readonly listener: ListenerInfo
  // a TLS ClientHello on a plaintext listener is refused by name
  readonly downstreamTls: boolean
  // for error responses that name brokers (a denied Metadata request still lists them)
  advertisedBrokers (): AdvertisedBroker[]
  sessionClosed (session: ClientSession): void
}

export interface SessionOptions {
  readonly principal: string | null
  // fields of the connection's log lines besides peer and principal (e.g. the broker target)
  readonly logFields: Readonly<Record<string, unknown>>
  // builds the route; called once, from the constructor
  readonly route: (sink: RouteSink) => Route
  // SASL termination on this listener (policy.sasl); absent or null: SASL goes to the broker
  readonly sasl?: SaslTermination | null
  // a plaintext connection on a permissive TLS listener: counted by peer and client id under
  // this listener name (once, at its first request or at its close)
  readonly plaintextOn?: string | null
  // the route's answers may be views of static read buffers (read-slabs.ts), which the session's
  // write batch then holds until they are written
  readonly slabViews?: boolean
}

export class ClientSession implements RouteSink {
  readonly context: SessionContext
  readonly #host: SessionHost
  readonly #metrics: ProxyMetrics
  readonly #socket: ClientSocket
  readonly #route: Route
  readonly #reader: FrameReader
  readonly #queue = new InFlightQueue()
  // requests waiting behind a held one (arrival order); only non-empty while `#holding` is set
  readonly #backlog: InFlight[] = []
  #holding: InFlight | null = null
  readonly #out: WriteBatch
  readonly #peek: PeekedRequestHeader = { apiKey: 0, apiVersion: 0, correlationId: 0 }
  readonly #logFields: Readonly<Record<string, unknown>>
  #log: Logger | null = null
  #state: SessionState = 'open'
  #paused = PAUSE_ROUTE
  #firstChunk = true
  #saslV0Pending = false
  // the client's chunks may be views of static read buffers (accepted-reads.ts): a route that
  // borrows requests gets them as they are, and the reader's partial frame holds its slabs;
  // any other route gets a copy of each chunk
  #copyChunks = true
  readonly #readerHolds = new SlabHolds()
  #throttleTimer: NodeJS.Timeout | null = null
  // failures per filter on this connection
  #failures: Map<ChainMember, number> | null = null
  readonly #flows: FlowRecorder | null
  readonly #openedAt = Date.now()
  #bytesIn = 0
  #bytesOut = 0
  readonly #sasl: SaslStage<InFlight> | null
  #plaintextOn: string | null

  constructor (host: SessionHost, socket: ClientSocket, options: SessionOptions) {
    this.#host = host
    this.#metrics = host.metrics
    this.#socket = socket
    this.#out = new WriteBatch({ slabViews: options.slabViews === true })
    this.#logFields = options.logFields
    this.context = new SessionContext(host.workerId, { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }, host.listener, options.principal, this.#throttle.bind(this))
    this.#sasl = options.sasl != null ? new SaslStage(options.sasl, this.#saslHost()) : null
    this.#plaintextOn = options.plaintextOn ?? null
    this.#reader = new FrameReader({
      maxFrameSize: host.settings.maxFrameSize,
      onFrame: this.#onRequest.bind(this),
      onError: this.#onFrameError.bind(this)
    })
    const flows = host.flows ?? null
    this.#flows = flows === null ? null : new FlowRecorder(flows, this.context, String(options.logFields.target ?? 'upstream'))
    this.#metrics.connectionOpened()
    socket.setNoDelay(true)
    // not read until the route is ready (a TLS socket arrives flowing; a plain one paused)
    socket.pause()
    socket.on('data', this.#onData.bind(this))
    socket.on('drain', this.#onDrain.bind(this))
    socket.on('end', this.#onEnd.bind(this))
    socket.on('error', this.#onError.bind(this))
    socket.on('close', this.#onClose.bind(this))
    for (const m of host.chain.members) {
      if (m.filter.onConnectionOpen === undefined) continue
      try { m.filter.onConnectionOpen(this.context) } catch (err) { this.#filterError(m, err, 'onConnectionOpen') }
    }
    this.#route = options.route(this)
    this.#copyChunks = this.#route.borrowsRequests !== true
    if (this.#route.ready) this.#unpause(PAUSE_ROUTE)
  }

  get state (): SessionState { return this.#state }
  get inFlight (): number { return this.#queue.length + this.#backlog.length }
  get closed (): boolean { return this.#state === 'closed' }

  logger (): Logger {
    if (this.#log === null) {
      const principal = this.context.verifiedPrincipal
      const peer = `${this.context.peer.address}:${this.context.peer.port}`
      this.#log = this.#host.logger.child(principal === null ? { peer, ...this.#logFields } : { peer, ...this.#logFields, principal })
    }
    return this.#log
  }

  #logs (level: 'debug' | 'info'): boolean {
    return this.#host.logger.isLevelEnabled(level)
  }

  // drain() was called: a SASL v0 relay ('passthrough') drains too, so the pause bit says it
  get #draining (): boolean { return (this.#paused & PAUSE_DRAINING) !== 0 }

  // Graceful shutdown: read no more requests, close once every in-flight one is answered.
  drain (): void {
    if (this.#state === 'closed') return
    if (this.#state === 'open') this.#state = 'draining'
    this.#pause(PAUSE_DRAINING)
    if (this.inFlight === 0) this.close(null, 'drained')
  }

  // ---- reading gate ----------------------------------------------------------------------

  #pause (reason: number): void {
    this.#paused |= reason
    if (this.#state !== 'closed' && !this.#socket.isPaused()) this.#socket.pause()
  }

  #unpause (reason: number): void {
    this.#paused &= ~reason
    if (this.#paused === 0 && this.#state !== 'closed' && this.#socket.isPaused()) this.#socket.resume()
  }

  #throttle (ms: number): void {
    if (this.#state === 'closed' || !(ms > 0)) return
    if (this.#throttleTimer !== null) clearTimeout(this.#throttleTimer)
    this.#pause(PAUSE_THROTTLED)
    this.#throttleTimer = setTimeout(this.#endThrottle.bind(this), Math.min(ms, 3_600_000))
  }

  #endThrottle (): void {
    this.#throttleTimer = null
    this.#unpause(PAUSE_THROTTLED)
  }

  // ---- SASL termination and plaintext accounting ------------------------------------------------

  #saslHost (): SaslStageHost<InFlight> {
    return {
      ticket: (apiKey, apiVersion, correlationId) => {
        const entry = this.#newEntry(correlationId, apiKey, apiVersion, performance.now(), true)
        entry.state = 'held'
        this.#queue.push(entry)
        this.#metrics.request(apiKey, apiVersion)
        return entry
      },
      answer: (entry, frames) => {
        if (this.#state === 'closed') return
        this.#answerWith(entry, frames)
        this.#flushOut()
      },
      answerAndClose: (entry, frames, code, reason) => {
        if (this.#state === 'closed') return
        this.#answerWith(entry, frames)
        this.close(code, reason, true)
      },
      close: (code, reason) => this.close(code, reason),
      authenticated: principal => {
        this.context.verifiedPrincipal = principal
        this.#log = null
        this.#route.identify?.(principal)
      },
      hold: on => {
        if (on) this.#pause(PAUSE_SASL)
        else this.#unpause(PAUSE_SASL)
      },
      logger: () => this.logger()
    }
  }

  #countPlaintext (clientId: string): void {
    const listener = this.#plaintextOn!
    this.#plaintextOn = null
    this.#metrics.plaintextConnection?.(listener, this.context.peer.address, clientId)
  }

  // ---- client -> route ---------------------------------------------------------------------

  #onData (chunk: Buffer): void {
    if (this.#copyChunks) chunk = ownBuffer(chunk)
    if (this.#firstChunk) {
      this.#firstChunk = false
      if (!this.#host.downstreamTls && looksLikeTlsClientHello(chunk)) {
        this.#metrics.tlsHandshakeFailure('tls_on_plaintext_port')
        this.logger().warn({ code: 'KPROXY_ERR_TLS_HANDSHAKE', reason: 'tls_on_plaintext_port' }, `TLS handshake refused (tls_on_plaintext_port): ${describeTlsFailure('tls_on_plaintext_port')}`)
        this.close(null, 'refused: a TLS handshake on a plaintext listener')
        return
      }
    }
    this.#bytesIn += chunk.length
    this.#metrics.bytesIn(chunk.length)
    if (this.#state === 'closed') return
    if (this.#state === 'passthrough') {
      this.#route.writeRaw(chunk)
    } else {
      const reader = this.#reader
      try {
        reader.push(chunk)
      } catch (err) {
        this.#fail(err)
      } finally {
        // before the socket may read into this chunk's slab again
        if (!this.#copyChunks && !this.closed) this.#readerHolds.hold(reader.pendingPrefix, reader.pendingChunks)
      }
    }
    this.#flush()
  }

  #flush (): void {
    if (this.#state === 'closed') return
    this.#route.flush()
    this.#flushOut()
  }

  #onRequest (frame: Frame): void {
    if (this.#state === 'closed') return
    if (this.#plaintextOn !== null) this.#countPlaintext(peekClientId(frame) ?? '')
    const sasl = this.#sasl
    if (sasl !== null && sasl.intercepts(frame)) {
      if (this.#holding !== null) {
        // a SASL request behind a held one would be answered before it: Kafka clients do not
        // pipeline during authentication, so this is a client out of turn
        this.close('KPROXY_ERR_SASL_AUTHENTICATION', 'a SASL request arrived while an earlier request was held by a filter')
        return
      }
      sasl.take(ownFrame(frame))
      return
    }
    if (frame.size < 8) {
      this.#metrics.decodeFailure()
      this.close('KPROXY_ERR_DECODE', `a request of ${frame.size} bytes is too short for a Kafka request header`)
      return
    }
    const h = peekRequestHeader(frameHead(frame, 8), this.#peek)
    const apiKey = h.apiKey
    const apiVersion = h.apiVersion
    if (!hasApi(apiKey)) {
      this.#metrics.unknownApi(apiKey)
      this.close('KPROXY_ERR_UNKNOWN_API', `the client sent API key ${apiKey}, which is not part of Apache Kafka's protocol as kproxy knows it`)
      return
    }
    const chain = this.#host.chain
    const now = performance.now()
    if (this.context.clientId === null) this.context.clientId = peekClientId(frame)
    const api = getApi(apiKey)
    if (!api.supports(apiVersion)) {
      if (apiKey === ApiKey.ApiVersions && !knowsApiVersionsVersion(apiVersion)) {
        // answered by kproxy, as a broker does (KIP-511): the client retries with a version it
        // was told
        this.#tapRequest(chain, apiKey, apiVersion, frame.size, frame)
        const entry = this.#newEntry(h.correlationId, apiKey, apiVersion, now, true)
        this.#queue.push(entry)
        this.#answerWith(entry, unsupportedApiVersionsReply(h.correlationId))
        return
      }
      // A version outside the pinned release's range goes on only when a filter wants it and
      // kproxy's codecs can read it (the version bridge), or when it is one kproxy advertises
      // without decoding (Produce below v3: the broker answers it, KAFKA-18659).
      const wanted = chain.requestFilters(apiKey, apiVersion) !== null || chain.responseFilters(apiKey, apiVersion) !== null
      const goesOn = wanted ? api.decodes(apiVersion) : FORWARDED_BELOW_CODEC.has(apiKey) && apiVersion < api.minVersion
      if (!goesOn) {
        this.#metrics.unknownApi(apiKey)
        this.close('KPROXY_ERR_UNSUPPORTED_VERSION', `the client sent ${api.name} (key ${apiKey}) version ${apiVersion}, which kproxy cannot decode; it only accepts versions it advertised in ApiVersions`)
        return
      }
    }
    this.#tapRequest(chain, apiKey, apiVersion, frame.size, frame)
    let expectsResponse = true
    if (apiKey === ApiKey.Produce) {
      let acks = produceAcks(frameHead(frame, ACKS_PEEK_BYTES), apiVersion)
      if (acks === NEED_MORE) acks = produceAcks(frameToBuffer(frame), apiVersion)
      if (acks === NEED_MORE) {
        this.#metrics.decodeFailure()
        this.close('KPROXY_ERR_DECODE', 'a Produce request ends before its acks field')
        return
      }
      expectsResponse = acks !== 0
    }
    const entry = this.#newEntry(h.correlationId, apiKey, apiVersion, now, expectsResponse)
    if (expectsResponse) this.#queue.push(entry)
    if (this.#holding !== null) {
      entry.frame = ownFrame(frame)
      this.#backlog.push(entry)
    } else {
      this.#admit(entry, frame, chain)
    }
    if (this.inFlight >= MAX_IN_FLIGHT) this.#pause(PAUSE_IN_FLIGHT)
  }

  #tapRequest (chain: FilterChain, apiKey: number, apiVersion: number, size: number, frame: Frame): void {
    const taps = chain.taps
    const context = this.context
    for (let i = 0; i < taps.length; i++) taps[i]!.request(apiKey, apiVersion, size, context)
    if (this.#flows !== null) this.#flows.request(apiKey, apiVersion, frame)
  }

  #newEntry (correlationId: number, apiKey: number, apiVersion: number, now: number, expectsResponse: boolean): InFlight {
    const entry = this.#queue.take()
    entry.state = 'chain'
    entry.correlationId = correlationId
    entry.apiKey = apiKey
    entry.apiVersion = apiVersion
    entry.startTime = now
    entry.expectsResponse = expectsResponse
    entry.gen++
    return entry
  }

  // The request enters the filters (or goes straight to the route when none wants it).
  #admit (entry: InFlight, frame: Frame, chain: FilterChain): void {
    entry.chain = chain
    const filters = chain.requestFilters(entry.apiKey, entry.apiVersion)
    if (filters === null) {
      this.#forward(entry, frame, null)
      return
    }
    // filters may keep the request (a hold, a view a response filter reads later): its own bytes
    frame = ownFrame(frame)
    entry.request = new RequestView(this.context, frame, entry.apiKey, entry.apiVersion, entry.correlationId, entry.expectsResponse)
    entry.frame = frame
    entry.filterIndex = 0
    this.#runRequestFilters(entry, filters)
  }

  #runRequestFilters (entry: InFlight, filters: readonly Interested[]): void {
    const view = entry.request!
    for (let i = entry.filterIndex; i < filters.length; i++) {
      const { member } = filters[i]!
      const onRequest = member.filter.onRequest
      if (onRequest === undefined) continue
      let verdict: unknown
      try {
        verdict = onRequest.call(member.filter, view)
      } catch (err) {
        this.#requestFilterFailed(entry, member, err)
        return
      }
      if (verdict === undefined) continue
      if (isThenable(verdict)) {
        entry.filterIndex = i + 1
        this.#hold(entry, member, verdict, filters)
        return
      }
      this.#applyRequestAction(entry, member, filters[i]!.index, verdict)
      return
    }
    // a client id a filter read (or changed) is the connection's latest; an unread header is not
    // decoded just for that (the frame's was peeked when the connection had none)
    if (view.headerRead && view.header.clientId !== null) this.context.clientId = view.header.clientId
    const frames = view.changed ? this.#encodeChanged(entry, view) : null
    if (view.changed && frames === null) return // failed and answered
    this.#forward(entry, frames === null ? entry.frame : null, frames)
  }

  #encodeChanged (entry: InFlight, view: RequestView): Buffer[] | null {
    try {
      return view.encode()
    } catch (err) {
      this.#answerWithError(entry, ErrorCode.UNKNOWN_SERVER_ERROR, `kproxy could not encode the request a filter changed: ${(err as Error).message}`)
      this.logger().warn({ code: 'KPROXY_ERR_FILTER_FAILED', apiKey: entry.apiKey, err: (err as Error).message }, 'a filter changed a request into one that cannot be encoded; answered with UNKNOWN_SERVER_ERROR')
      return null
    }
  }

  #hold (entry: InFlight, member: ChainMember, verdict: PromiseLike<unknown>, filters: readonly Interested[]): void {
    entry.state = 'held'
    this.#holding = entry
    const gen = entry.gen
    const timeout = this.#host.settings.filterHoldTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS
    entry.holdTimer = setTimeout(() => {
      if (entry.gen !== gen || entry.state !== 'held') return
      entry.holdTimer = null
      this.logger().warn({ code: 'KPROXY_ERR_FILTER_TIMEOUT', filter: member.label, apiKey: entry.apiKey }, `filter ${member.label} held a ${getApi(entry.apiKey).name} request for more than ${timeout} ms; answered with REQUEST_TIMED_OUT`)
      this.#countFailure(member)
      this.#released(entry)
      this.#answerWithError(entry, ErrorCode.REQUEST_TIMED_OUT, `kproxy filter ${member.label} did not finish in time`)
      this.#afterHold()
    }, timeout)
    verdict.then(result => {
      if (entry.gen !== gen || entry.state !== 'held' || this.#state === 'closed') return
      this.#released(entry)
      if (result === undefined) this.#runRequestFilters(entry, filters)
      else this.#applyRequestAction(entry, member, filters[entry.filterIndex - 1]!.index, result)
      this.#afterHold()
    }, (err: unknown) => {
      if (entry.gen !== gen || entry.state !== 'held' || this.#state === 'closed') return
      this.#released(entry)
      this.#requestFilterFailed(entry, member, err)
      this.#afterHold()
    })
  }

  #released (entry: InFlight): void {
    entry.state = 'chain'
    if (entry.holdTimer !== null) clearTimeout(entry.holdTimer)
    entry.holdTimer = null
    if (this.#holding === entry) this.#holding = null
  }

  // A hold ended: the requests that waited behind it go on, in order, until one is held again.
  #afterHold (): void {
    while (this.#holding === null && this.#backlog.length > 0 && this.#state !== 'closed') {
      const next = this.#backlog.shift()!
      const frame = next.frame!
      next.frame = null
      this.#admit(next, frame, this.#host.chain)
    }
    this.#flush()
    this.#checkInFlight()
  }

  #applyRequestAction (entry: InFlight, member: ChainMember, index: number, action: unknown): void {
    const a = action as RequestAction
    switch (a?.kind) {
      case 'respond': {
        let frames: Buffer[]
        try {
          // at the version current at this point of the chain (filters nearer the client may
          // have changed it: the version bridge)
          frames = encodeResponse(entry.apiKey, entry.request?.upstreamVersion ?? entry.apiVersion, { correlationId: entry.correlationId }, a.body, 'decodable')
        } catch (err) {
          this.#requestFilterFailed(entry, member, err)
          return
        }
        this.#answerFromFilter(entry, index, frames)
        return
      }
      case 'error': {
        const code = typeof a.errorCode === 'number' ? a.errorCode : errorByName(a.errorCode)?.code
        if (code === undefined) {
          this.#requestFilterFailed(entry, member, new Error(`respondWithError names ${JSON.stringify(a.errorCode)}, which is not a Kafka error`))
          return
        }
        this.#answerWithError(entry, code, a.message ?? null, index)
        return
      }
      case 'frames': {
        const problem = responseFramesProblem(a.frames, entry.correlationId)
        if (problem !== null) {
          this.#requestFilterFailed(entry, member, new Error(`returned response frames that ${problem}`))
          return
        }
        this.#answerFromFilter(entry, index, a.frames)
        return
      }
      case 'close':
        this.close('KPROXY_ERR_FILTER_CLOSED', `filter ${member.label} closed the connection: ${String(a.reason)}`)
        return
    }
    this.#requestFilterFailed(entry, member, new Error(`returned ${describe(action)}, which is not a request action (respond, error, frames, close) or undefined`))
  }

  // ---- to the route --------------------------------------------------------------------------

  #forward (entry: InFlight, frame: Frame | null, frames: readonly Buffer[] | null): void {
    entry.frame = null
    entry.request?.release()
    if (entry.apiKey === ApiKey.SaslHandshake && entry.apiVersion === 0) this.#saslV0Pending = true
    if (!entry.expectsResponse) {
      this.#route.forward(null, frame, frames)
      this.#queue.release(entry)
      return
    }
    entry.state = 'upstream'
    this.#route.forward(entry, frame, frames)
  }

  // ---- answers -------------------------------------------------------------------------------

  // RouteSink: the upstream's response to `entry`. Its bytes may be views of a static read buffer
  // (read-slabs.ts), valid during this call only: only the in-order answer without filters goes
  // out as it is (the WriteBatch holds those slabs); a response that waits for an earlier one or
  // passes filters (which may hold it, or keep parts of it) is copied first.
  answer (entry: InFlight, frame: Frame): void {
    if (this.#state === 'closed' || entry.state !== 'upstream') return
    // the frame is at the version it was sent upstream at (the bridge may have changed it)
    const upstreamVersion = entry.request !== null ? entry.request.upstreamVersion : entry.apiVersion
    if (this.#flows !== null) {
      const ms = this.#flows.response(entry.apiKey, upstreamVersion, frame)
      if (ms > 0) this.#metrics.throttled(entry.apiKey, ms)
    } else {
      recordThrottle(this.#metrics, entry.apiKey, upstreamVersion, frame)
    }
    const filters = entry.chain?.responseFilters(entry.apiKey, entry.apiVersion) ?? null
    if (filters === null) {
      if (entry.request !== null && entry.request.upstreamVersion !== entry.apiVersion) {
        // sent at another version than the client's: re-encoded at the client's
        this.#runResponseFilters(entry, new ResponseView(entry.request, ownFrame(frame), null), NO_FILTERS, -1)
        return
      }
      if (entry === this.#queue.head) {
        // the common case: no filter, in order: straight out
        this.#out.add(framePrefix(frame))
        const chunks = frame.chunks
        for (let i = 0; i < chunks.length; i++) this.#out.add(chunks[i]!)
        entry.responseFrame = frame
        this.#sent(entry)
        this.#writeReady()
        return
      }
      entry.responseFrame = ownFrame(frame)
      entry.state = 'answered'
      return
    }
    this.#runResponseFilters(entry, new ResponseView(this.#requestOf(entry), ownFrame(frame), null), filters, filters.length - 1)
  }

  // The request as response filters see it; for a request no filter looked at, made now (without
  // its bytes, which are gone upstream).
  #requestOf (entry: InFlight): RequestView {
    return (entry.request ??= new RequestView(this.context, null, entry.apiKey, entry.apiVersion, entry.correlationId, entry.expectsResponse))
  }

  answerFrames (entry: InFlight, frames: readonly Buffer[]): void {
    if (this.#state === 'closed' || entry.state !== 'upstream') return
    const filters = entry.chain?.responseFilters(entry.apiKey, entry.apiVersion) ?? null
    if (filters === null) {
      if (entry.request !== null && entry.request.upstreamVersion !== entry.apiVersion) this.#runResponseFilters(entry, new ResponseView(entry.request, null, frames), NO_FILTERS, -1)
      else this.#answerWith(entry, frames)
      return
    }
    this.#runResponseFilters(entry, new ResponseView(this.#requestOf(entry), null, frames), filters, filters.length - 1)
  }

  flushAnswers (): void {
    this.#flushOut()
  }

  // A filter's answer to a request passes back through the filters before it only.
  #answerFromFilter (entry: InFlight, index: number, frames: readonly Buffer[]): void {
    entry.frame = null
    if (!entry.expectsResponse) {
      this.#queue.release(entry)
      return
    }
    const filters = entry.chain?.responseFilters(entry.apiKey, entry.apiVersion) ?? null
    let last = -1
    if (filters !== null) for (let i = 0; i < filters.length; i++) if (filters[i]!.index < index) last = i
    if (last < 0) {
      const view = entry.request
      if (view !== null && view.upstreamVersion !== entry.apiVersion) this.#runResponseFilters(entry, new ResponseView(view, null, frames), NO_FILTERS, -1)
      else this.#answerWith(entry, frames)
      return
    }
    entry.state = 'upstream'
    this.#runResponseFilters(entry, new ResponseView(this.#requestOf(entry), null, frames), filters!, last)
  }

  #runResponseFilters (entry: InFlight, view: ResponseView, filters: readonly Interested[], from: number): void {
    for (let i = from; i >= 0; i--) {
      const { member } = filters[i]!
      const onResponse = member.filter.onResponse
      if (onResponse === undefined) continue
      let verdict: unknown
      try {
        verdict = onResponse.call(member.filter, view)
      } catch (err) {
        this.#responseFilterFailed(entry, view, member, err)
        return
      }
      if (verdict === undefined) continue
      if (isThenable(verdict)) {
        this.#holdResponse(entry, view, member, verdict, filters, i)
        return
      }
      if (!this.#applyResponseAction(entry, view, member, verdict)) return
    }
    let out: readonly Buffer[] | null
    try {
      out = view.output()
    } catch (err) {
      this.#responseFilterFailed(entry, view, filters[0]!.member, err)
      return
    }
    if (out === null) {
      entry.responseFrame = view.frame
      entry.state = 'answered'
      this.#writeReady()
    } else {
      this.#answerWith(entry, out)
    }
  }

  // true: go on with the next filter
  #applyResponseAction (entry: InFlight, view: ResponseView, member: ChainMember, action: unknown): boolean {
    const a = action as ResponseAction
    if (a?.kind === 'frames') {
      const problem = responseFramesProblem(a.frames, entry.correlationId)
      if (problem !== null) {
        this.#responseFilterFailed(entry, view, member, new Error(`returned response frames that ${problem}`))
        return false
      }
      view.replaceFrames(a.frames)
      return true
    }
    if (a?.kind === 'close') {
      this.close('KPROXY_ERR_FILTER_CLOSED', `filter ${member.label} closed the connection: ${String(a.reason)}`)
      return false
    }
    this.#responseFilterFailed(entry, view, member, new Error(`returned ${describe(action)}, which is not a response action (frames, close) or undefined`))
    return false
  }

  #holdResponse (entry: InFlight, view: ResponseView, member: ChainMember, verdict: PromiseLike<unknown>, filters: readonly Interested[], i: number): void {
    entry.state = 'held'
    const gen = entry.gen
    const timeout = this.#host.settings.filterHoldTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS
    const resume = (): boolean => {
      if (entry.gen !== gen || entry.state !== 'held' || this.#state === 'closed') return false
      if (entry.holdTimer !== null) clearTimeout(entry.holdTimer)
      entry.holdTimer = null
      entry.state = 'upstream'
      return true
    }
    entry.holdTimer = setTimeout(() => {
      if (!resume()) return
      this.logger().warn({ code: 'KPROXY_ERR_FILTER_TIMEOUT', filter: member.label, apiKey: entry.apiKey }, `filter ${member.label} held a ${getApi(entry.apiKey).name} response for more than ${timeout} ms; answered with REQUEST_TIMED_OUT`)
      this.#countFailure(member)
      this.#failResponse(entry, view, ErrorCode.REQUEST_TIMED_OUT)
      this.#flushOut()
    }, timeout)
    verdict.then(result => {
      if (!resume()) return
      if (result === undefined || this.#applyResponseAction(entry, view, member, result)) this.#runResponseFilters(entry, view, filters, i - 1)
      this.#flushOut()
    }, (err: unknown) => {
      if (!resume()) return
      this.#responseFilterFailed(entry, view, member, err)
      this.#flushOut()
    })
  }

  // Answers with frames kproxy made (or a filter made), in order.
  #answerWith (entry: InFlight, frames: readonly Buffer[]): void {
    entry.responseFrames = frames
    entry.state = 'answered'
    this.#writeReady()
  }

  // An error answer for the request (per entity where the API has room, as a broker's authorizer
  // does); an API without any error field gets the connection closed.
  #answerWithError (entry: InFlight, errorCode: number, message: string | null, filterIndex = -1): void {
    if (!entry.expectsResponse) {
      this.#queue.release(entry)
      return
    }
    let frames: readonly Buffer[] | null = null
    try {
      const view = entry.request
      const body = view !== null ? view.body : undefined
      // an answer that passes filters is made at the version current at that point of the chain;
      // one that goes straight out at the client's
      const version = filterIndex >= 0 && view !== null ? view.upstreamVersion : entry.apiVersion
      const made = errorResponse({ apiKey: entry.apiKey, apiVersion: version, correlationId: entry.correlationId, body }, errorCode, message, this.#host.advertisedBrokers())
      if (made !== null) {
        frames = made.frame
        this.#metrics.responseError(entry.apiKey, made.errorCode)
      }
    } catch (err) {
      this.#metrics.decodeFailure()
      this.#fail(err)
      return
    }
    if (frames === null) {
      this.close('KPROXY_ERR_DENIED_NO_RESPONSE', `${getApi(entry.apiKey).name} (key ${entry.apiKey}) is answered by kproxy with error ${errorCode} but its response has no error field to report that in, so the connection is closed`)
      return
    }
    if (filterIndex >= 0) this.#answerFromFilter(entry, filterIndex, frames)
    else this.#answerWith(entry, frames)
  }

  // Writes every answered entry at the head of the queue, in order.
  #writeReady (): void {
    const queue = this.#queue
    let entry = queue.head
    while (entry !== undefined && entry.state === 'answered') {
      const frame = entry.responseFrame
      if (frame !== null) {
        this.#out.add(framePrefix(frame))
        const chunks = frame.chunks
        for (let i = 0; i < chunks.length; i++) this.#out.add(chunks[i]!)
      } else {
        const frames = entry.responseFrames!
        for (let i = 0; i < frames.length; i++) this.#out.add(frames[i]!)
      }
      this.#sent(entry)
      entry = queue.head
    }
  }

  // The head entry's response is in the out batch: account for it and let it go.
  #sent (entry: InFlight): void {
    const taps = entry.chain?.taps ?? this.#host.chain.taps
    const latency = Math.round((performance.now() - entry.startTime) * 1000)
    for (let i = 0; i < taps.length; i++) taps[i]!.response(entry.apiKey, entry.apiVersion, latency)
    const sasl = entry.apiKey === ApiKey.SaslHandshake && this.#saslV0Pending
    const responseFrame = entry.responseFrame
    const responseFrames = entry.responseFrames
    this.#queue.shift()
    this.#queue.release(entry)
    if (sasl) this.#saslHandshakeAnswered(responseFrame, responseFrames)
    this.#checkInFlight()
  }

  // Fewer requests in flight (answered, or let go without an answer: Produce acks=0): reading
  // resumes at half the limit, and a draining session closes at zero — whichever way the last
  // one left (a request without answer leaving the backlog after a hold is one, found by the
  // session fuzz).
  #checkInFlight (): void {
    if ((this.#paused & PAUSE_IN_FLIGHT) !== 0 && this.inFlight <= RESUME_IN_FLIGHT) this.#unpause(PAUSE_IN_FLIGHT)
    if (this.#draining && this.inFlight === 0 && this.#state !== 'closed') this.close(null, 'drained')
  }

  // SaslHandshake v0 response: correlationId int32, errorCode int16, mechanisms. On success the
  // raw tokens that follow have no Kafka header: from here on bytes are relayed as they come.
  #saslHandshakeAnswered (frame: Frame | null, frames: readonly Buffer[] | null): void {
    this.#saslV0Pending = false
    const head = frame !== null ? frameHead(frame, 6) : Buffer.concat(frames as Buffer[]).subarray(4, 10)
    if (head.length < 6 || head.readInt16BE(4) !== 0) return
    if (this.#state === 'open') this.#state = 'passthrough'
    this.#route.passthrough()
    this.logger().warn({ code: 'KPROXY_WARN_SASL_V0_PASSTHROUGH' }, 'SaslHandshake v0: the connection becomes an opaque byte relay; broker addresses, policy and per-request metrics no longer apply to it (use a client that sends SaslHandshake v1)')
  }

  rawAnswer (chunk: Buffer): void {
    this.#out.add(chunk)
  }

  // ---- filter failures -----------------------------------------------------------------------

  #requestFilterFailed (entry: InFlight, member: ChainMember, err: unknown): void {
    if (this.#state === 'closed') return
    this.#filterError(member, err, 'onRequest')
    if (this.#countFailure(member)) return
    if (isKproxyError(err, 'KPROXY_ERR_DECODE')) this.#metrics.decodeFailure()
    this.#answerWithError(entry, ErrorCode.UNKNOWN_SERVER_ERROR, `kproxy filter ${member.label} failed`)
  }

  #responseFilterFailed (entry: InFlight, view: ResponseView, member: ChainMember, err: unknown): void {
    if (this.#state === 'closed') return
    if (member.builtin === true) {
      // kproxy's own response filters fail on broken upstream answers: as before the engine, the
      // connection closes with the error's code
      this.#metrics.decodeFailure()
      this.#fail(err)
      return
    }
    this.#filterError(member, err, 'onResponse')
    if (this.#countFailure(member)) return
    this.#failResponse(entry, view, ErrorCode.UNKNOWN_SERVER_ERROR)
  }

  // Answers with the upstream's (or kproxy's) response, every error code in it set to `code`.
  #failResponse (entry: InFlight, view: ResponseView, code: number): void {
    let frames: Buffer[]
    try {
      const body = view.body
      failEverything(body, code)
      frames = encodeResponse(entry.apiKey, entry.apiVersion, view.header, body, 'decodable')
    } catch (err) {
      this.#metrics.decodeFailure()
      this.#fail(err)
      return
    }
    this.#metrics.responseError(entry.apiKey, code)
    this.#answerWith(entry, frames)
  }

  #filterError (member: ChainMember, err: unknown, where: string): void {
    const message = err instanceof Error ? err.message : String(err)
    this.logger().warn({ code: 'KPROXY_ERR_FILTER_FAILED', filter: member.label, where, err: message }, `filter ${member.label} failed in ${where}: ${message}`)
  }

  // true when the filter has now failed too often on this connection (and it was closed)
  #countFailure (member: ChainMember): boolean {
    const failures = (this.#failures ??= new Map())
    const n = (failures.get(member) ?? 0) + 1
    failures.set(member, n)
    if (n < FILTER_FAILURE_LIMIT) return false
    this.close('KPROXY_ERR_FILTER_FAILING', `filter ${member.label} failed ${n} times on this connection`)
    return true
  }

  // ---- client -> writes ---------------------------------------------------------------------

  // A full client write buffer pauses the route's answers and the client's own requests (a broker,
  // too, stops reading a connection whose responses are not being read), until it drains.
  #flushOut (): void {
    const out = this.#out
    if (out.empty) return
    if (this.#state === 'closed') {
      out.clear()
      return
    }
    const bytes = out.flush(this.#socket)
    this.#bytesOut += bytes
    this.#metrics.bytesOut(bytes)
    if (out.full && (this.#paused & PAUSE_CLIENT_FULL) === 0) {
      this.#route.pauseAnswers()
      this.#pause(PAUSE_CLIENT_FULL)
    }
  }

  #onDrain (): void {
    if ((this.#paused & PAUSE_CLIENT_FULL) === 0 || this.#state === 'closed') return
    this.#route.resumeAnswers()
    this.#unpause(PAUSE_CLIENT_FULL)
  }

  // ---- RouteSink: route state ------------------------------------------------------------------

  routeReady (): void {
    if (this.#logs('info')) this.logger().info(this.#route.describe?.() ?? {}, 'connection open')
    this.#unpause(PAUSE_ROUTE)
  }

  routeFull (full: boolean): void {
    if (full) this.#pause(PAUSE_UPSTREAM_FULL)
    else this.#unpause(PAUSE_UPSTREAM_FULL)
  }

  routeFailed (code: string, reason: string): void {
    this.close(code, reason)
  }

  // ---- errors and closing ----------------------------------------------------------------------

  #onFrameError (err: KproxyError): void {
    this.#metrics.decodeFailure()
    this.close(err.code, `client: ${err.message}`)
  }

  #onEnd (): void {
    if (this.#state !== 'passthrough' && !this.#reader.end()) return // a truncated frame closed it
    this.close(null, 'client closed the connection')
  }

  #onError (err: Error): void {
    this.close('KPROXY_ERR_CLIENT_SOCKET', `client socket error: ${err.message}`)
  }

  #onClose (): void {
    this.close(null, 'client closed the connection')
  }

  #fail (err: unknown): void {
    if (isKproxyError(err)) this.close(err.code, err.message)
    else this.close('KPROXY_ERR_INTERNAL', `unexpected error in the request pipeline: ${(err as Error)?.stack ?? String(err)}`)
  }

  // Closes the connection and its route. `code` null: an ordinary close (logged at info);
  // otherwise at warn with the code. Requests still in flight fail by closure, as when a broker
  // crashes.
  // `flushFirst`: the answers already made go out before the close (a SASL failure is answered,
  // then the connection closed, as Kafka does).
  close (code: string | null, reason: string, flushFirst = false): void {
    if (this.#state === 'closed') return
    const draining = this.#draining || flushFirst
    if (this.#plaintextOn !== null) this.#countPlaintext(this.context.clientId ?? '')
    // a graceful close still sends the answers this event produced; any other drops them
    if ((code === null && draining) || flushFirst) {
      this.#writeReady()
      this.#flushOut()
    }
    this.#state = 'closed'
    this.#out.clear()
    this.#readerHolds.clear()
    if (this.#throttleTimer !== null) clearTimeout(this.#throttleTimer)
    this.#throttleTimer = null
    const fields = {
      ...this.#route.describe?.(),
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      durationMs: Date.now() - this.#openedAt,
      inFlight: this.inFlight,
      code: code ?? undefined,
      reason
    }
    if (code === null) {
      if (this.#logs('info')) this.logger().info(fields, 'connection closed')
    } else {
      this.logger().warn(fields, `connection closed: ${code}`)
    }
    this.#queue.clear()
    for (const e of this.#backlog) e.reset()
    this.#backlog.length = 0
    if (this.#holding !== null) this.#holding.reset()
    this.#holding = null
    this.#socket.on('error', ignore)
    if ((code === null && draining) || flushFirst) {
      // let the answers already written reach the client, then give up on it after a second
      this.#socket.end()
      setTimeout(destroySocket, 1000, this.#socket).unref()
    } else {
      this.#socket.destroy()
    }
    this.#route.close()
    for (const m of (this.#host.chain.members)) {
      if (m.filter.onConnectionClose === undefined) continue
      try { m.filter.onConnectionClose(this.context) } catch (err) { this.#filterError(m, err, 'onConnectionClose') }
    }
    this.#metrics.connectionClosed()
    this.#host.sessionClosed(this)
  }
}

function isThenable (v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (typeof v !== 'object') return `${typeof v} ${String(v)}`
  const kind = (v as { kind?: unknown }).kind
  return kind !== undefined ? `an object of kind ${JSON.stringify(kind)}` : 'an object without a kind'
}

// The client id of a request header v1+ (int16 length, then the bytes), without decoding the rest;
// null when absent or when the frame is too short to tell.
function peekClientId (frame: Frame): string | null {
  const head = frameHead(frame, 10)
  if (head.length < 10) return null
  const len = head.readInt16BE(8)
  if (len < 0) return null
  const bytes = frameHead(frame, 10 + len)
  return bytes.length < 10 + len ? null : bytes.toString('utf8', 10, 10 + len)
}

function ignore (): void {}

function destroySocket (socket: ClientSocket): void {
  socket.destroy()
}
