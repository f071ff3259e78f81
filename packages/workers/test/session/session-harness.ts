// A client session driven without sockets: a scripted client socket (what the session writes is
// kept; its flow state is visible) and a scripted route (what the session forwards is kept; the
// test answers it, in any order). Real codecs make every frame.
import { EventEmitter } from 'node:events'
import pino from 'pino'
import type { Logger } from 'pino'
import { decodeResponse, encodeRequest, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { FrameReader } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { ClientSession } from '../../src/session/client-session.ts'
import type { ClientSocket, SessionHost } from '../../src/session/client-session.ts'
import type { Route, RouteSink } from '../../src/session/route.ts'
import type { InFlight } from '../../src/session/in-flight.ts'
import { FilterChain } from '../../src/filters/filter-chain.ts'
import type { ChainMember, Tap } from '../../src/filters/filter-chain.ts'
import type { Filter } from '../../src/filters/filter-api.ts'
import type { SaslTermination } from '../../src/policy/sasl-termination.ts'

export class ScriptedSocket extends EventEmitter implements ClientSocket {
  readonly remoteAddress = '10.0.0.7'
  readonly remotePort = 40000
  readonly written: Buffer[] = []
  // write() returns false while set (the kernel buffer is "full")
  full = false
  paused = false
  corked = 0
  ended = false
  destroyed = false

  setNoDelay (): this { return this }
  pause (): this { this.paused = true; return this }
  resume (): this { this.paused = false; return this }
  isPaused (): boolean { return this.paused }
  cork (): void { this.corked++ }
  uncork (): void {}
  write (buf: Buffer): boolean {
    this.written.push(Buffer.from(buf))
    return !this.full
  }

  end (): this { this.ended = true; return this }
  destroy (): this { this.destroyed = true; return this }

  // The client sends bytes (one socket read).
  send (...frames: Buffer[][]): void {
    this.emit('data', Buffer.concat(frames.flat()))
  }

  // The client sends bytes in reads of at most `size` bytes, so that frames span several chunks.
  sendInPieces (size: number, ...frames: Buffer[][]): void {
    const all = Buffer.concat(frames.flat())
    for (let at = 0; at < all.length; at += size) this.emit('data', all.subarray(at, at + size))
  }

  // Every complete frame the session wrote (payloads, no size prefix).
  responses (): Buffer[] {
    const out: Buffer[] = []
    const reader = new FrameReader({ onFrame: f => out.push(Buffer.concat(f.chunks)), onError: e => { throw e } })
    reader.push(Buffer.concat(this.written))
    return out
  }
}

export interface Forwarded {
  entry: InFlight | null
  frame: Frame | null
  frames: readonly Buffer[] | null
  // the request's bytes as sent (payload only)
  payload: Buffer
}

export class ScriptedRoute implements Route {
  readonly sink: RouteSink
  ready = true
  // like broker mode's route: takes what forward() and writeRaw() get before the read ends
  borrowsRequests = false
  readonly forwarded: Forwarded[] = []
  flushes = 0
  answersPaused = false
  closed = false
  passthroughOn = false
  raw: Buffer[] = []

  constructor (sink: RouteSink) {
    this.sink = sink
  }

  forward (entry: InFlight | null, frame: Frame | null, frames: readonly Buffer[] | null): void {
    const payload = frame !== null ? Buffer.concat(frame.chunks) : Buffer.concat(frames as Buffer[]).subarray(4)
    this.forwarded.push({ entry, frame, frames, payload })
  }

  flush (): void { this.flushes++ }
  pauseAnswers (): void { this.answersPaused = true }
  resumeAnswers (): void { this.answersPaused = false }
  passthrough (): void { this.passthroughOn = true }
  writeRaw (chunk: Buffer): void { this.raw.push(Buffer.from(chunk)) }
  close (): void { this.closed = true }

  // The upstream answers forwarded request `i` with this response body, at the version the
  // request was sent at (a filter may have changed it).
  answer (i: number, body: unknown): void {
    const f = this.forwarded[i]!
    const entry = f.entry!
    const version = entry.request?.upstreamVersion ?? entry.apiVersion
    const frames = encodeResponse(entry.apiKey, version, { correlationId: entry.correlationId }, body, 'decodable')
    const all = Buffer.concat(frames)
    this.sink.answer(entry, { size: all.length - 4, chunks: [all.subarray(4)], prefix: all.subarray(0, 4) })
    this.sink.flushAnswers()
  }
}

export interface Harness {
  socket: ScriptedSocket
  route: ScriptedRoute
  session: ClientSession
  logs: Array<Record<string, any>>
  closedSessions: number
}

export interface HarnessOptions {
  filters?: ReadonlyArray<Filter | ChainMember>
  taps?: Tap[]
  // a chain built elsewhere (replaces filters and taps), shared by many sessions as in a worker
  chain?: FilterChain
  // logs go here instead of into `logs` (a long run must not keep them)
  logger?: Logger
  maxFrameSize?: number
  metrics?: ProxyMetrics
  holdTimeoutMs?: number
  principal?: string | null
  routeReady?: boolean
  // the route borrows requests (Route.borrowsRequests): chunks fed as lent reads reach it uncopied
  borrowsRequests?: boolean
  // SASL termination (policy.sasl) on the connection
  sasl?: SaslTermination
  plaintextOn?: string
}

export function harness (options: HarnessOptions = {}): Harness {
  const logs: Array<Record<string, any>> = []
  const logger: Logger = options.logger ?? pino({ level: 'debug' }, { write (s: string) { logs.push(JSON.parse(s)) } })
  const members: ChainMember[] = (options.filters ?? []).map((f, i) => 'filter' in f && 'label' in f ? f as ChainMember : { label: `f${i}`, filter: f as Filter })
  const chain = options.chain ?? new FilterChain(members, options.taps ?? [])
  const h = { closedSessions: 0 } as Harness
  const host: SessionHost = {
    metrics: options.metrics ?? noopProxyMetrics,
    logger,
    workerId: 1,
    settings: { maxFrameSize: options.maxFrameSize ?? 1 << 20, filterHoldTimeoutMs: options.holdTimeoutMs ?? 30_000 },
    chain,
    listener: { name: 'test', port: 19092, tls: false },
    downstreamTls: false,
    advertisedBrokers: () => [{ nodeId: 1, host: 'kproxy', port: 19093 }],
    sessionClosed: () => { h.closedSessions++ }
  }
  const socket = new ScriptedSocket()
  let route!: ScriptedRoute
  const session = new ClientSession(host, socket, {
    principal: options.principal ?? null,
    logFields: { target: 'bootstrap' },
    sasl: options.sasl ?? null,
    plaintextOn: options.plaintextOn ?? null,
    route: sink => {
      route = new ScriptedRoute(sink)
      route.ready = options.routeReady ?? true
      route.borrowsRequests = options.borrowsRequests ?? false
      return route
    }
  })
  h.socket = socket
  h.route = route
  h.session = session
  h.logs = logs
  return h
}

export function request (apiKey: number, apiVersion: number, correlationId: number, body: unknown = getApi(apiKey).request.create(), clientId = 'test-client'): Buffer[] {
  return encodeRequest({ apiKey, apiVersion, correlationId, clientId }, body, 'decodable')
}

export function decoded (payload: Buffer, apiKey: number, apiVersion: number): { header: any, body: any } {
  return decodeResponse(payload, apiKey, apiVersion, 'decodable')
}

export function produceBody (topics: string[], acks = 1): any {
  const api = getApi(0)
  const body = api.request.create()
  body.acks = acks
  body.timeoutMs = 1000
  body.topicData = topics.map(name => ({ ...api.request.structs.TopicProduceData!(), name, partitionData: [{ ...api.request.structs.PartitionProduceData!(), index: 0, records: null }] }))
  return body
}

export const tick = (): Promise<void> => new Promise(resolve => setImmediate(resolve))
