// Mesh mode's route: every request is decoded, handed to its API's handler (handlers/), split
// into parts for the brokers of the clusters it concerns, and answered once with the merge of
// their answers (mesh-call.ts). Parts travel on the worker's shared connections (cluster
// brokers, kproxy's own correlation ids), except requests a broker holds (Fetch, group
// membership, transactions), which go on this client's own connections so that one held request
// never holds another client's.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import { decodeResponse, encodeRequest } from '@kproxy/core/protocol/codec'
import { decodeRequest } from '@kproxy/core/protocol/codec'
import { peekRequestHeader } from '@kproxy/core/protocol/headers'
import { ApiKey, apiByKey } from '@kproxy/core/protocol/api-keys'
import { errorResponse } from '../filters/error-response.ts'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import type { Route, RouteSink } from '../session/route.ts'
import type { InFlight } from '../session/in-flight.ts'
import { KafkaConnection } from '../upstream/kafka-connection.ts'
import type { ConnectionListener, ResponseTarget, UpstreamFailure } from '../upstream/kafka-connection.ts'
import type { MeshCluster } from './mesh-cluster.ts'
import { MeshCall } from './mesh-call.ts'
import type { CallSink, Lane, PartAnswer } from './mesh-call.ts'
import type { MeshHost } from './mesh-host.ts'
import type { FlushQueue } from './flush-queue.ts'
import { handlerFor, unsupportedAnswer } from './mesh-apis.ts'

const UNSUPPORTED_VERSION = 35

interface Part {
  call: MeshCall
  done: PartAnswer
  apiKey: number
  apiVersion: number
  cluster: string
  sentAt: number
  // answered, lost or timed out: later news of it is dropped
  settled: boolean
  timer: NodeJS.Timeout | null
}

// A part not answered within its deadline fails (its partitions get retriable errors), so that a
// cluster that stopped answering (a frozen broker, a network partition) holds only its own
// partitions, never a client request's answer for the others, and the client hears of it before
// its own request timeout (30 s by default in Kafka's clients). Fetch: max wait plus a margin; requests
// with a timeout of their own: it plus a margin; JoinGroup/SyncGroup: the rebalance timeout;
// else PART_TIMEOUT_MS. Produce parts have one deadline per upstream request
// (produce-coalescer.ts).
const PART_MARGIN_MS = 5_000
const PART_TIMEOUT_MS = 20_000
// JoinGroup and SyncGroup are held by the coordinator up to the rebalance timeout
const HELD_BY_REBALANCE: ReadonlySet<number> = new Set([ApiKey.JoinGroup, ApiKey.SyncGroup])

function partDeadline (apiKey: number, body: any, connectTimeoutMs: number): number {
  switch (apiKey) {
    case ApiKey.Fetch: return (body.maxWaitMs ?? 0) + PART_MARGIN_MS
    case ApiKey.CreateTopics:
    case ApiKey.DeleteTopics:
    case ApiKey.CreatePartitions:
    case ApiKey.DeleteRecords: return (body.timeoutMs ?? 0) + PART_MARGIN_MS
  }
  if (HELD_BY_REBALANCE.has(apiKey)) return connectTimeoutMs + Math.max(body.rebalanceTimeoutMs ?? 0, body.sessionTimeoutMs ?? 0, PART_TIMEOUT_MS) + PART_MARGIN_MS
  return PART_TIMEOUT_MS
}

export class MeshRoute implements Route, CallSink, ResponseTarget, ConnectionListener {
  readonly #sink: RouteSink
  readonly #host: MeshHost
  readonly #flushes: FlushQueue
  readonly #own = new Map<string, KafkaConnection>()
  #closed = false
  #paused = false
  #answersDirty = false
  #clientId = 'kproxy'
  readonly #serialTasks: Array<(release: () => void) => void> = []
  // what serial tasks tell the ones queued behind them; forgotten once the queue is empty
  readonly #serialMarks = new Set<string>()
  readonly #flushAnswers = (): void => {
    this.#answersDirty = false
    if (!this.#closed) this.#sink.flushAnswers()
  }

  constructor (sink: RouteSink, host: MeshHost, flushes: FlushQueue) {
    this.#sink = sink
    this.#host = host
    this.#flushes = flushes
  }

  get ready (): boolean { return true }

  describe (): Record<string, unknown> {
    return { mode: 'mesh', ownUpstreams: this.#own.size }
  }

  // ---- Route -------------------------------------------------------------------------------------

  forward (entry: InFlight | null, frame: Frame | null, frames: readonly Buffer[] | null): void {
    if (this.#closed) return
    const payload = frame !== null ? frameToBuffer(frame) : Buffer.concat(frames as Buffer[]).subarray(4)
    let request
    try {
      request = decodeRequest(payload)
    } catch (err) {
      const head = payload.length >= 8 ? peekRequestHeader(payload) : null
      if (head !== null && entry !== null && head.apiKey === ApiKey.ApiVersions) {
        // a newer ApiVersions than kproxy knows: v0 with UNSUPPORTED_VERSION and the list, as a broker does
        this.#sink.answerFrames(entry, unsupportedAnswer(this.#host, head.correlationId))
        this.#dirtyAnswers()
        return
      }
      this.#sink.routeFailed(isKproxyError(err) ? err.code : 'KPROXY_ERR_DECODE', `mesh mode cannot read the request: ${(err as Error).message}`)
      return
    }
    if (request.header.clientId !== null && request.header.clientId !== undefined) this.#clientId = request.header.clientId
    const call = new MeshCall(this, entry, request.apiKey, request.apiVersion, request.header.correlationId, request.body, this.#clientId)
    const handler = handlerFor(request.apiKey)
    if (handler === null) {
      // not offered in ApiVersions; a client that sends it anyway gets UNSUPPORTED_VERSION with
      // a reason where the API has an error field, else the connection closes
      const message = request.apiKey === ApiKey.ConsumerGroupHeartbeat || request.apiKey === ApiKey.ConsumerGroupDescribe
        ? 'kproxy mesh mode does not offer the KIP-848 consumer group protocol (its coordinator can only assign topics of its own cluster); use group.protocol=classic'
        : `kproxy mesh mode does not handle ${apiByKey(request.apiKey)?.name ?? request.apiKey} requests`
      const made = entry === null ? null : errorResponse({ apiKey: request.apiKey, apiVersion: request.apiVersion, correlationId: request.header.correlationId, body: request.body }, UNSUPPORTED_VERSION, message, [{ nodeId: this.#host.nodeId, host: this.#host.advertisedHost, port: this.#host.advertisedPort }])
      if (made === null) {
        this.#sink.routeFailed('KPROXY_ERR_MESH_UNSUPPORTED_API', message)
        return
      }
      this.#host.logger.warn({ code: 'KPROXY_ERR_MESH_UNSUPPORTED_API', apiKey: request.apiKey }, message)
      this.#sink.answerFrames(entry!, made.frame)
      this.#dirtyAnswers()
      return
    }
    try {
      call.begin()
      handler(call, this.#host)
      call.end()
    } catch (err) {
      this.#host.logger.error({ code: 'KPROXY_ERR_INTERNAL', apiKey: request.apiKey, err: (err as Error).stack }, 'mesh handler failed')
      this.#sink.routeFailed('KPROXY_ERR_INTERNAL', `mesh mode failed on a request: ${(err as Error).message}`)
    }
  }

  flush (): void {}

  pauseAnswers (): void {
    this.#paused = true
    for (const c of this.#own.values()) c.pauseReading()
  }

  resumeAnswers (): void {
    this.#paused = false
    for (const c of this.#own.values()) c.resumeReading()
  }

  passthrough (): void {}
  writeRaw (): void {}

  close (): void {
    if (this.#closed) return
    this.#closed = true
    // parts still out keep their timers only until they fire (each bounded); nothing to cancel
    // one by one: a closed route drops their news
    for (const c of this.#own.values()) c.close()
    this.#own.clear()
  }

  // ---- CallSink ----------------------------------------------------------------------------------

  answered (call: MeshCall, frames: readonly Buffer[]): void {
    if (this.#closed || call.entry === null) return
    this.#sink.answerFrames(call.entry, frames)
    this.#dirtyAnswers()
  }

  #dirtyAnswers (): void {
    if (this.#answersDirty) return
    this.#answersDirty = true
    queueMicrotask(this.#flushAnswers)
  }

  serialIdle (): boolean {
    return this.#serialTasks.length === 0
  }

  serialMarks (): Set<string> {
    return this.#serialMarks
  }

  closed (): boolean {
    return this.#closed
  }

  failed (err: Error, apiKey: number): void {
    this.#host.logger.error({ code: 'KPROXY_ERR_INTERNAL', apiKey, err: err.stack }, 'mesh handler failed on an answer')
    this.#sink.routeFailed('KPROXY_ERR_INTERNAL', `mesh mode failed on an answer: ${err.message}`)
  }

  serial (task: (release: () => void) => void): void {
    this.#serialTasks.push(task)
    if (this.#serialTasks.length === 1) this.#runSerial()
  }

  #runSerial (): void {
    const task = this.#serialTasks[0]!
    let released = false
    task(() => {
      if (released) return
      released = true
      this.#serialTasks.shift()
      if (this.#serialTasks.length === 0) this.#serialMarks.clear()
      else if (!this.#closed) this.#runSerial()
    })
  }

  sendPart (call: MeshCall, cluster: MeshCluster, node: number, lane: Lane, apiKey: number, apiVersion: number, body: unknown, done: PartAnswer): boolean {
    if (this.#closed) return false
    const conn = lane === 'shared' ? cluster.shared(node) : this.#ownConnection(cluster, node, lane)
    if (conn === null) return false
    const frames = encodeRequest({ apiKey, apiVersion, correlationId: 0, clientId: this.#clientId }, body)
    let bytes = 0
    for (const f of frames) bytes += f.length
    this.#host.meshMetrics.sent(cluster.name, apiKey, bytes)
    const part = this.#part(call, done, apiKey, apiVersion, cluster, body)
    conn.send(this, part, null, frames)
    this.#flushes.add(conn)
    return true
  }

  #part (call: MeshCall, done: PartAnswer, apiKey: number, apiVersion: number, cluster: MeshCluster, body: unknown): Part {
    const part: Part = { call, done, apiKey, apiVersion, cluster: cluster.name, sentAt: performance.now(), settled: false, timer: null }
    part.timer = setTimeout(this.#onPartTimeout, partDeadline(apiKey, body, this.#host.config.upstreamConnectTimeoutMs), part)
    return part
  }

  readonly #onPartTimeout = (part: Part): void => {
    part.timer = null
    if (part.settled) return
    this.#host.meshMetrics.answered(part.cluster, part.apiKey, performance.now() - part.sentAt, true)
    this.#deliver(part, null, `cluster ${part.cluster} did not answer within the deadline`)
  }

  #ownConnection (cluster: MeshCluster, node: number, lane: Lane): KafkaConnection | null {
    const key = `${cluster.name}\u0000${node}\u0000${lane}`
    const existing = this.#own.get(key)
    if (existing !== undefined && existing.state !== 'closed') return existing
    const address = cluster.address(node)
    if (address === null) return null
    const conn = new KafkaConnection({
      dialer: cluster.dialer,
      address,
      connectTimeoutMs: this.#host.config.upstreamConnectTimeoutMs,
      maxFrameSize: this.#host.config.maxFrameSize,
      correlation: 'own',
      listener: this
    })
    if (this.#paused) conn.pauseReading()
    this.#own.set(key, conn)
    return conn
  }

  // ---- ResponseTarget ----------------------------------------------------------------------------

  upstreamResponse (tag: unknown, frame: Frame): void {
    const part = tag as Part
    if (part.settled) return
    this.#host.meshMetrics.answered(part.cluster, part.apiKey, performance.now() - part.sentAt, false)
    if (part.call.finished) {
      // answered already (a fetch answered early): still let the call count down
      this.#deliver(part, null, 'late')
      return
    }
    let body: any
    try {
      body = decodeResponse(frameToBuffer(frame), part.apiKey, part.apiVersion).body
    } catch (err) {
      this.#deliver(part, null, `cluster ${part.cluster} sent an answer kproxy cannot read: ${(err as Error).message}`)
      return
    }
    this.#deliver(part, body, null)
  }

  // A handler's failure fails this client only, never the shared connection it answered on.
  #deliver (part: Part, body: any | null, error: string | null): void {
    if (part.settled) return
    part.settled = true
    if (part.timer !== null) clearTimeout(part.timer)
    part.timer = null
    try {
      part.done(body, error)
    } catch (err) {
      this.failed(err as Error, part.apiKey)
    }
  }

  upstreamBatchEnd (): void {}

  upstreamLost (tag: unknown): void {
    const part = tag as Part
    if (part.settled) return
    this.#host.meshMetrics.answered(part.cluster, part.apiKey, performance.now() - part.sentAt, true)
    this.#deliver(part, null, `the connection to cluster ${part.cluster} closed before it answered`)
  }

  // ---- ConnectionListener (this client's own connections) ---------------------------------------

  upstreamReady (): void {}
  upstreamFull (): void {}

  upstreamClosed (conn: KafkaConnection, failure: UpstreamFailure | null): void {
    for (const [k, c] of this.#own) if (c === conn) this.#own.delete(k)
    if (failure !== null) this.#host.logger.debug({ code: failure.code, upstream: conn.name }, failure.message)
  }
}
