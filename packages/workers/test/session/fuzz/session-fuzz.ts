// `pnpm test:fuzz`: random and mutated frames through client sessions with the full filter chain
// (fuzz-chain.ts), driven without sockets by the scripted client socket and route of
// session-harness.ts. The route answers with generated responses, some of them mutated, in random
// order; clients pause reading, routes start late, sessions end with the client closing.
//
//   node --expose-gc packages/workers/test/session/fuzz/session-fuzz.ts [--frames N] [--seed S] [--json]
//
// Default 1,000,000 request frames; session-fuzz.test.ts runs 100,000 as part of `pnpm test`.
// A failure reproduces from its seed. It checks, and exits 1 on any breach:
// - no exception escapes a session (out of a socket event or a route callback), none is
//   uncaught and no promise rejection unhandled, and no close is KPROXY_ERR_INTERNAL (an error
//   without a code, caught by the session's last line of defence);
// - no hangs: once the route has answered everything it was sent (and hold deadlines, delays and
//   throttles have passed) every session has answered every request or is closed, reads from its
//   client again, and closes when its client does;
// - what a session writes is whole frames; in a session whose requests were all valid, the
//   responses carry the requests' correlation ids in request order (all of them, or a prefix when
//   the session was closed); a closed session has closed its route and its client socket;
// - what a session forwards in a session whose requests were all valid is the client's requests:
//   a request no filter changed goes upstream as the bytes the client sent (a request no filter
//   wants at all, too), and nothing else goes upstream. Half the sessions get their reads lent
//   the way accepted-reads.ts lends large ones (views of pooled slabs, to a route that borrows
//   requests); a slab nobody holds after the read is poisoned at once and read into again, so a
//   holder the session forgot (a partial frame, a held or queued request) shows as other bytes;
// - memory is bounded: heap and arrayBuffers after the last frame, after a GC, stay within
//   MEMORY_GROWTH_BOUND of what they were after the first 10% of the frames (and the heap under
//   HEAP_BOUND).
import { parseArgs } from 'node:util'
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeRequest, decodeResponse, encodeResponse } from '@kproxy/core/protocol/codec'
import { readMessageSet, recordsMagic } from '@kproxy/core/protocol/message-set'
import { messageFormatOf } from '@kproxy/core/protocol/record-format-convert'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { rng } from '../../../../core/test/protocol/fuzz-inputs.ts'
import { harness } from '../session-harness.ts'
import type { Forwarded, Harness, ScriptedSocket } from '../session-harness.ts'
import { release, SLAB_SIZE, takeSlab } from '../../../src/net/read-slabs.ts'
import { buildCorpus, responseKey } from './fuzz-corpus.ts'
import type { Corpus, CorpusRequest } from './fuzz-corpus.ts'
import { buildFuzzChain, QUOTA_USERS } from './fuzz-chain.ts'
import type { HostileCounts } from './fuzz-chain.ts'
import { cutIntoReads, mutateRequest, mutateResponse, pick } from './fuzz-mutations.ts'
import type { Random, RequestMutation } from './fuzz-mutations.ts'
import type { FilterChain } from '../../../src/filters/filter-chain.ts'

export const DEFAULT_FRAMES = 1_000_000
export const MEMORY_GROWTH_BOUND = 48 * 1024 * 1024
export const HEAP_BOUND = 384 * 1024 * 1024
const MAX_FRAME_SIZE = 1 << 20
const HOLD_TIMEOUT_MS = 20
const MAX_FRAMES_PER_SESSION = 48
// how long a session may take to settle after everything was answered: hold deadlines, 1 ms
// delays and throttles are far shorter
const SETTLE_MS = HOLD_TIMEOUT_MS * 5 + 2000
const EXAMPLES = 10

export interface MemorySample {
  frames: number
  heapUsed: number
  arrayBuffers: number
  rss: number
}

export interface FuzzReport {
  seed: number
  frames: number
  sessions: number
  durationMs: number
  framesPerSecond: number
  mutations: Record<string, number>
  responses: { answered: number, mutated: number, madeByRoute: number, bridged: number }
  // requests of all-valid sessions forwarded as the client's bytes, and encoded again (a filter
  // changed them, or the version bridge sent them at another version)
  forwarded: { asBytes: number, encoded: number }
  // sessions whose reads were lent (views of pooled slabs)
  lentSessions: number
  // records the version bridge converted, seen on the wire: partitions of old Produce requests
  // that went upstream as v2 batches, and of old Fetch answers that reached the client as
  // message sets
  converted: { produce: number, fetch: number }
  // how sessions ended before their client closed them: code -> count (null: not closed)
  closedBy: Record<string, number>
  passthrough: number
  drained: number
  logCodes: Record<string, number>
  hostile: HostileCounts
  metrics: { requests: number, responses: number, decodeFailures: number, unknownApis: number, denied: number, filterEvents: number }
  // the version bridge: requests converted, by 'apiKey vFrom->vTo'
  bridged: Record<string, number>
  // the quota filter: by quota, responses throttled and connections or requests refused
  quotas: Record<string, { throttled: number, refused: number }>
  // failures: each a list of examples (at most EXAMPLES) and a count
  failures: Record<string, { count: number, examples: string[] }>
  memory: { gc: boolean, baseline: MemorySample | null, final: MemorySample, peakHeapUsed: number, growthBound: number, heapBound: number, samples: MemorySample[] }
  ok: boolean
}

export interface FuzzOptions {
  frames?: number
  seed?: number
  progress?: (message: string) => void
}

interface Run {
  readonly next: Random
  readonly corpus: Corpus
  readonly supported: readonly CorpusRequest[]
  readonly bridged: readonly CorpusRequest[]
  readonly everyday: readonly CorpusRequest[]
  readonly chain: FilterChain
  readonly logger: pino.Logger
  readonly metrics: MetricsRegistry
  readonly report: FuzzReport
  // the code of the last coded close the log saw (null: none since the session began)
  readonly closes: { last: string | null }
  correlationId: number
}

function fail (report: FuzzReport, kind: string, example: string): void {
  const f = (report.failures[kind] ??= { count: 0, examples: [] })
  f.count++
  if (f.examples.length < EXAMPLES) f.examples.push(example)
}

function describeError (err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 4).join(' | ') : String(err)
}

function withSize (payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 4)
  out.writeInt32BE(payload.length, 0)
  payload.copy(out, 4)
  return out
}

// ---- the route's side ------------------------------------------------------------------------------

// The upstream answers one forwarded request: a generated response for its key and the version it
// was sent at (the version bridge sends old requests at a newer one), sometimes mutated, sometimes
// as a frame the route made, split over one or two chunks.
function answer (run: Run, h: Harness, f: Forwarded): void {
  const entry = f.entry
  if (entry === null || h.session.closed) return
  const { next, report } = run
  const version = entry.request?.upstreamVersion ?? entry.apiVersion
  const bodies = run.corpus.responses.get(responseKey(entry.apiKey, version))
  let payload: Buffer
  if (bodies === undefined) {
    // no sample for it: a correlation id and some bytes
    payload = Buffer.alloc(4 + next() % 16)
    payload.writeInt32BE(entry.correlationId, 0)
  } else {
    let body = pick(next, bodies) as Record<string, unknown>
    // a successful SaslHandshake v0 turns the connection into a byte relay
    if (entry.apiKey === ApiKey.SaslHandshake && next() % 2 === 0) body = { ...body, errorCode: 0 }
    const frames = encodeResponse(entry.apiKey, version, { correlationId: entry.correlationId }, body, 'decodable')
    payload = Buffer.concat(frames).subarray(4)
  }
  const m = mutateResponse(next, payload)
  report.responses.answered++
  if (version !== entry.apiVersion) report.responses.bridged++
  if (m.mutation !== 'valid') report.responses.mutated++
  try {
    if (next() % 8 === 0) {
      report.responses.madeByRoute++
      h.route.sink.answerFrames(entry, [withSize(m.payload)])
    } else {
      const p = m.payload
      const cut = p.length > 8 && next() % 3 === 0 ? 1 + next() % (p.length - 1) : p.length
      const chunks = cut === p.length ? [p] : [p.subarray(0, cut), p.subarray(cut)]
      const prefix = Buffer.allocUnsafe(4)
      prefix.writeInt32BE(p.length, 0)
      h.route.sink.answer(entry, { size: p.length, chunks, prefix })
    }
    h.route.sink.flushAnswers()
  } catch (err) {
    fail(report, 'escaped: route answer', describeError(err))
  }
}

// Answers the forwarded requests not answered yet (all, or some), in random order.
function answerPending (run: Run, h: Harness, answered: Set<Forwarded>, all: boolean): void {
  const pending = h.route.forwarded.filter(f => f.entry !== null && !answered.has(f))
  for (let i = pending.length - 1; i > 0; i--) {
    const j = run.next() % (i + 1)
    const tmp = pending[i]!
    pending[i] = pending[j]!
    pending[j] = tmp
  }
  for (const f of pending) {
    if (!all && run.next() % 2 === 0) continue
    answered.add(f)
    answer(run, h, f)
  }
}

// ---- the client's side -----------------------------------------------------------------------------

// Everything a client and a route can do to make a paused session read again; false when it
// stays paused (a hang).
async function unpause (run: Run, h: Harness, answered: Set<Forwarded>): Promise<boolean> {
  const deadline = performance.now() + SETTLE_MS
  for (let turn = 0; ; turn++) {
    if (h.session.closed || !h.socket.paused) return true
    if (!h.route.ready) {
      h.route.ready = true
      try { h.route.sink.routeReady() } catch (err) { fail(run.report, 'escaped: routeReady', describeError(err)) }
    }
    if (h.socket.full) {
      h.socket.full = false
      try { h.socket.emit('drain') } catch (err) { fail(run.report, 'escaped: client drain', describeError(err)) }
    }
    answerPending(run, h, answered, true)
    if (h.session.closed || !h.socket.paused) return true
    if (performance.now() > deadline) return false
    await (turn < 3 ? immediate() : sleep(1))
  }
}

// After the last read: answer everything, let holds, delays and throttles run out; true when the
// session then has nothing in flight (or is closed) and reads again.
async function settle (run: Run, h: Harness, answered: Set<Forwarded>): Promise<boolean> {
  const deadline = performance.now() + SETTLE_MS
  for (let turn = 0; ; turn++) {
    if (h.socket.full) {
      h.socket.full = false
      try { h.socket.emit('drain') } catch (err) { fail(run.report, 'escaped: client drain', describeError(err)) }
    }
    answerPending(run, h, answered, true)
    if (h.session.closed) return true
    if (h.session.inFlight === 0 && !h.socket.paused) return true
    if (performance.now() > deadline) return false
    await (turn < 3 ? immediate() : sleep(1))
  }
}

// The correlation ids of the whole frames a session wrote, or null when the bytes are not whole
// frames.
function writtenCorrelationIds (h: Harness): number[] | null {
  const out = Buffer.concat(h.socket.written)
  const ids: number[] = []
  let at = 0
  while (at < out.length) {
    if (out.length - at < 8) return null
    const size = out.readInt32BE(at)
    if (size < 4 || at + 4 + size > out.length) return null
    ids.push(out.readInt32BE(at + 4))
    at += 4 + size
  }
  return ids
}

// What an all-valid session sent upstream: only the client's requests, each as the client's bytes
// unless a filter changed it (re-encoded: the forward carries frames instead of the frame).
function checkForwarded (run: Run, h: Harness, sent: ReadonlyMap<number, Buffer>): void {
  const { report } = run
  for (const f of h.route.forwarded) {
    const original = f.payload.length >= 8 ? sent.get(f.payload.readInt32BE(4)) : undefined
    if (original === undefined) {
      fail(report, 'forward: a request upstream the client did not send', `session ${report.sessions}: ${f.payload.subarray(0, 32).toString('hex')}`)
      continue
    }
    if (f.frame === null) {
      report.forwarded.encoded++
      const apiKey = original.readInt16BE(0)
      const apiVersion = original.readInt16BE(2)
      if (run.chain.requestFilters(apiKey, apiVersion) === null) fail(report, 'forward: a request no filter wants was encoded again', `session ${report.sessions}: API ${apiKey} v${apiVersion}`)
      if (apiKey === ApiKey.Produce && f.payload.readInt16BE(2) !== apiVersion) {
        try {
          const body = decodeRequest(f.payload, 'decodable').body as { topicData: Array<{ partitionData: Array<{ records: Buffer | null }> }> }
          for (const t of body.topicData) for (const p of t.partitionData) if (recordsMagic(p.records) === 2) report.converted.produce++
        } catch (err) {
          fail(report, 'forward: a Produce request the bridge converted does not decode', `session ${report.sessions}: ${describeError(err)}`)
        }
      }
    } else {
      report.forwarded.asBytes++
      if (!f.payload.equals(original)) {
        let at = 0
        while (at < original.length && original[at] === f.payload[at]) at++
        fail(report, 'forward: a request no filter changed went upstream with other bytes', `session ${report.sessions}: API ${original.readInt16BE(0)} v${original.readInt16BE(2)}, ${original.length} bytes sent, ${f.payload.length} forwarded, first difference at byte ${at}`)
      }
    }
  }
}

// Old Fetch answers that reached the client with message sets (magic v0/v1) the bridge made.
function countOldFetchRecords (run: Run, h: Harness, sent: ReadonlyMap<number, Buffer>): void {
  for (const payload of h.socket.responses()) {
    const original = sent.get(payload.readInt32BE(0))
    if (original === undefined || original.readInt16BE(0) !== ApiKey.Fetch) continue
    const version = original.readInt16BE(2)
    if (version >= 4) continue
    let body: { responses: Array<{ partitions: Array<{ records: Buffer | null }> }> }
    try {
      body = decodeResponse(payload, ApiKey.Fetch, version, 'decodable').body
    } catch {
      continue // an answer the route mutated, and no filter decoded
    }
    // whole messages of the client's format, each with a valid CRC (the sample answers' bytes
    // are no message set)
    const magic = messageFormatOf(ApiKey.Fetch, version)
    for (const t of body.responses) {
      for (const p of t.partitions) {
        if (p.records === null || p.records.length === 0) continue
        try {
          const set = readMessageSet(p.records)
          if (set.messages.length > 0 && set.messages.every(m => m.magic === magic)) run.report.converted.fetch++
        } catch {}
      }
    }
  }
}

// The APIs clients use all the time get half of the traffic; every API and version has its turn.
const EVERYDAY: ReadonlySet<number> = new Set([ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.Metadata, ApiKey.OffsetCommit, ApiKey.OffsetFetch,
  ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.Heartbeat, ApiKey.SyncGroup, ApiKey.ApiVersions, ApiKey.InitProducerId, ApiKey.CreateTopics])

function pickRequest (run: Run): CorpusRequest {
  const r = run.next() % 16
  if (r < 2) return pick(run.next, run.bridged) // old clients
  if (r < 10) return pick(run.next, run.everyday)
  return pick(run.next, run.supported)
}

// How much of a session's traffic is spoiled: most sessions are valid throughout (they get far
// enough to be held, answered out of order, rewritten, throttled and closed in every way); the
// others meet garbage early or late.
const SESSION_MUTATION_RATES: readonly number[] = [0, 0, 0.02, 0.1, 0.4]

// One client connection: frames sent in socket reads (a frame now and then cut across two),
// answered as they go, then settled, checked and closed by the client. Returns how many request
// frames reached the session while it was open.
// bytes no frame is made of: what a read slab holds once its read is over and nobody holds it
const POISON = 0xee

// A read lent as accepted-reads.ts lends it: the bytes in a pooled slab, handed on as a view;
// after the read, a slab only the reader holds is poisoned and goes back to the pool (where the
// next read takes it).
function emitLent (socket: ScriptedSocket, chunk: Buffer): void {
  for (let at = 0; at < chunk.length; at += SLAB_SIZE) {
    const part = chunk.subarray(at, at + SLAB_SIZE)
    const slab = takeSlab()
    part.copy(slab.buf)
    try {
      socket.emit('data', slab.buf.subarray(0, part.length))
    } finally {
      if (slab.refs === 1) slab.buf.fill(POISON)
      release(slab)
    }
  }
}

async function fuzzSession (run: Run): Promise<number> {
  const { next, report } = run
  // now and then a connection of a user with low quotas (fuzz-chain.ts)
  const login = next() % 32
  const principal = login === 0 ? `User:${QUOTA_USERS.throttled}` : login === 1 ? `User:${QUOTA_USERS.refused}` : null
  const lent = next() % 2 === 0
  if (lent) report.lentSessions++
  const h = harness({ chain: run.chain, logger: run.logger, metrics: run.metrics, holdTimeoutMs: HOLD_TIMEOUT_MS, routeReady: next() % 8 !== 0, maxFrameSize: MAX_FRAME_SIZE, principal, borrowsRequests: lent })
  const rate = pick(next, SESSION_MUTATION_RATES)
  const count = 1 + next() % MAX_FRAMES_PER_SESSION
  const expected: number[] = []
  let clean = true
  // correlation id -> the payload the client sent, of the valid requests
  const sent = new Map<number, Buffer>()
  let oldFetch = false
  let delivered = 0
  const answered = new Set<Forwarded>()
  // frames gathered for the next socket read; `carry`: the tail of a frame cut across reads
  let read: Buffer[] = []
  let inRead = 0
  for (let i = 0; i < count && !h.session.closed; i++) {
    const request = pickRequest(run)
    const correlationId = run.correlationId = (run.correlationId + 1) & 0x7fffffff
    const frame = Buffer.from(request.frame)
    frame.writeInt32BE(correlationId, 8)
    const { bytes, mutation } = mutateRequest(next, frame, MAX_FRAME_SIZE, rate)
    report.mutations[mutation] = (report.mutations[mutation] ?? 0) + 1
    if (mutation !== 'valid') clean = false
    else {
      sent.set(correlationId, frame.subarray(4))
      if (request.apiKey === ApiKey.Fetch && !request.supported) oldFetch = true
      if (request.expectsResponse) expected.push(correlationId)
    }
    read.push(bytes)
    inRead++
    // a socket read of 1..4 frames, sometimes ending inside the next frame
    if (i < count - 1 && next() % 3 !== 0) continue
    const pieces = cutIntoReads(next, Buffer.concat(read))
    read = []
    for (const chunk of pieces) {
      if (!(await unpause(run, h, answered))) {
        fail(report, 'hang: the session stopped reading its client for good', `session ${report.sessions}: inFlight ${h.session.inFlight}, state ${h.session.state}`)
        break
      }
      if (h.session.closed) break
      try {
        if (lent) emitLent(h.socket, chunk)
        else h.socket.emit('data', chunk)
      } catch (err) { fail(report, 'escaped: client data', describeError(err)) }
      answerPending(run, h, answered, false)
      // the client stops reading its responses for a while
      if (next() % 10 === 0) h.socket.full = true
      // holds that settle on a later turn
      if (next() % 4 === 0) await immediate()
    }
    delivered += inRead
    inRead = 0
  }
  // graceful shutdown now and then: no more reading, close once everything is answered
  const draining = !h.session.closed && next() % 16 === 0
  if (draining) {
    try { h.session.drain() } catch (err) { fail(report, 'escaped: drain', describeError(err)) }
  }
  if (!(await settle(run, h, answered))) {
    fail(report, 'hang: requests never answered', `session ${report.sessions}: inFlight ${h.session.inFlight}, state ${h.session.state}, paused ${String(h.socket.paused)}`)
  }
  const ids = writtenCorrelationIds(h)
  if (ids === null) {
    fail(report, 'output: not whole frames', `session ${report.sessions}: ${Buffer.concat(h.socket.written).subarray(0, 64).toString('hex')}`)
  } else if (oldFetch) {
    countOldFetchRecords(run, h, sent)
  }
  if (ids !== null && clean && h.session.state !== 'passthrough') {
    const inOrder = ids.length <= expected.length && ids.every((id, i) => id === expected[i])
    const complete = h.session.closed || ids.length === expected.length
    if (!inOrder || !complete) fail(report, 'output: responses out of request order or missing', `session ${report.sessions}: sent ${expected.join(',')} got ${ids.join(',')} (closed ${String(h.session.closed)})`)
  }
  if (clean && h.session.state !== 'passthrough') checkForwarded(run, h, sent)
  if (draining && !h.session.closed) fail(report, 'hang: a draining session did not close once its requests were answered', `session ${report.sessions}: inFlight ${h.session.inFlight}`)
  if (draining) report.drained++
  if (h.session.state === 'passthrough') report.passthrough++
  const closedBy = h.session.closed ? (run.closes.last ?? 'ordinary') : 'open'
  report.closedBy[closedBy] = (report.closedBy[closedBy] ?? 0) + 1
  // the client goes away
  try {
    h.socket.emit('end')
    h.socket.emit('close')
  } catch (err) { fail(report, 'escaped: client close', describeError(err)) }
  if (!h.session.closed) fail(report, 'hang: the session did not close when its client did', `session ${report.sessions}: state ${h.session.state}`)
  if (h.closedSessions !== 1) fail(report, 'close: sessionClosed not called exactly once', `session ${report.sessions}: ${h.closedSessions} times`)
  if (!h.route.closed) fail(report, 'close: the route (upstream connection) was left open', `session ${report.sessions}`)
  if (!h.socket.destroyed && !h.socket.ended) fail(report, 'close: the client socket was neither ended nor destroyed', `session ${report.sessions}`)
  return delivered
}

// ---- the run ----------------------------------------------------------------------------------------

function memorySample (frames: number, gc: boolean): MemorySample {
  if (gc) {
    globalThis.gc?.()
    globalThis.gc?.()
  }
  const m = process.memoryUsage()
  return { frames, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss }
}

export async function runSessionFuzz (options: FuzzOptions = {}): Promise<FuzzReport> {
  const frames = options.frames ?? DEFAULT_FRAMES
  const seed = options.seed ?? 1
  const gc = typeof globalThis.gc === 'function'
  const report: FuzzReport = {
    seed,
    frames: 0,
    sessions: 0,
    durationMs: 0,
    framesPerSecond: 0,
    mutations: {},
    responses: { answered: 0, mutated: 0, madeByRoute: 0, bridged: 0 },
    forwarded: { asBytes: 0, encoded: 0 },
    lentSessions: 0,
    converted: { produce: 0, fetch: 0 },
    closedBy: {},
    passthrough: 0,
    drained: 0,
    logCodes: {},
    hostile: { thrown: 0, nonsense: 0, neverSettled: 0, held: 0, rejected: 0, closed: 0, throttled: 0, changed: 0, responded: 0 },
    metrics: { requests: 0, responses: 0, decodeFailures: 0, unknownApis: 0, denied: 0, filterEvents: 0 },
    bridged: {},
    quotas: {},
    failures: {},
    memory: { gc, baseline: null, final: { frames: 0, heapUsed: 0, arrayBuffers: 0, rss: 0 }, peakHeapUsed: 0, growthBound: MEMORY_GROWTH_BOUND, heapBound: HEAP_BOUND, samples: [] },
    ok: false
  }
  const onUncaught = (err: unknown): void => fail(report, 'uncaught exception', describeError(err))
  const onUnhandled = (err: unknown): void => fail(report, 'unhandled rejection', describeError(err))
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUnhandled)
  const corpus = buildCorpus()
  const metrics = new MetricsRegistry()
  const closes = { last: null as string | null }
  // warn and above: coded closes, filter failures and timeouts; counted by code, never kept
  const logger = pino({ level: 'warn', base: null, timestamp: false }, {
    write (line: string): void {
      const code = /"code":"([A-Z0-9_]+)"/.exec(line)?.[1] ?? 'uncoded'
      report.logCodes[code] = (report.logCodes[code] ?? 0) + 1
      if (line.includes('"msg":"connection closed')) closes.last = code
      if (code === 'KPROXY_ERR_INTERNAL') fail(report, 'KPROXY_ERR_INTERNAL: an error without a code in the pipeline', line.slice(0, 600))
    }
  })
  const { chain, hostile } = await buildFuzzChain({ next: rng(seed ^ 0x5bd1e995), corpus, metrics, logger })
  report.hostile = hostile
  const run: Run = {
    next: rng(seed),
    corpus,
    supported: corpus.requests.filter(r => r.supported),
    bridged: corpus.requests.filter(r => !r.supported),
    everyday: corpus.requests.filter(r => r.supported && EVERYDAY.has(r.apiKey)),
    chain,
    logger,
    metrics,
    report,
    closes,
    correlationId: 0
  }
  const started = performance.now()
  const baselineAt = Math.floor(frames / 10)
  let nextSample = 0
  try {
    while (report.frames < frames) {
      closes.last = null
      report.frames += await fuzzSession(run)
      report.sessions++
      if (report.memory.baseline === null && report.frames >= baselineAt) report.memory.baseline = memorySample(report.frames, gc)
      if (report.frames >= nextSample) {
        const s = memorySample(report.frames, false)
        report.memory.samples.push(s)
        report.memory.peakHeapUsed = Math.max(report.memory.peakHeapUsed, s.heapUsed)
        nextSample += Math.max(1, Math.floor(frames / 10))
        options.progress?.(`${report.frames} frames, ${report.sessions} sessions, heap ${(s.heapUsed / 1048576).toFixed(1)} MiB, ${Object.values(report.failures).reduce((n, f) => n + f.count, 0)} failures`)
      }
    }
    // what is still pending (hold deadlines of the last sessions) runs out
    await sleep(HOLD_TIMEOUT_MS * 3)
  } finally {
    process.off('uncaughtException', onUncaught)
    process.off('unhandledRejection', onUnhandled)
  }
  report.durationMs = Math.round(performance.now() - started)
  report.framesPerSecond = Math.round(report.frames / Math.max(report.durationMs, 1) * 1000)
  const snap = metrics.snapshot()
  report.metrics = {
    requests: snap.requests.reduce((n, [, , c]) => n + c, 0),
    responses: snap.responses.reduce((n, [, , c]) => n + c, 0),
    decodeFailures: snap.decodeFailures,
    unknownApis: snap.unknownApis,
    denied: snap.denied.reduce((n, [, c]) => n + c, 0),
    filterEvents: (snap.filterEvents ?? []).reduce((n, [, , c]) => n + c, 0)
  }
  for (const [apiKey, from, to, n] of snap.bridged ?? []) report.bridged[`${apiKey} v${from}->v${to}`] = n
  for (const [, quota, throttled, , refused] of snap.quotas ?? []) {
    const q = (report.quotas[quota] ??= { throttled: 0, refused: 0 })
    q.throttled += throttled
    q.refused += refused
  }
  const final = memorySample(report.frames, gc)
  report.memory.final = final
  report.memory.peakHeapUsed = Math.max(report.memory.peakHeapUsed, final.heapUsed)
  const base = report.memory.baseline ?? final
  if (final.heapUsed - base.heapUsed > MEMORY_GROWTH_BOUND) fail(report, 'memory: heap grew', `${base.heapUsed} -> ${final.heapUsed} bytes`)
  if (final.arrayBuffers - base.arrayBuffers > MEMORY_GROWTH_BOUND) fail(report, 'memory: arrayBuffers grew', `${base.arrayBuffers} -> ${final.arrayBuffers} bytes`)
  if (final.heapUsed > HEAP_BOUND) fail(report, 'memory: heap above its bound', `${final.heapUsed} bytes`)
  report.ok = Object.keys(report.failures).length === 0
  return report
}

function mib (n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`
}

export function summarize (r: FuzzReport): string {
  const lines = [
    `session fuzz, seed ${r.seed}: ${r.frames} request frames in ${r.sessions} sessions, ${(r.durationMs / 1000).toFixed(1)} s (${r.framesPerSecond} frames/s)`,
    `  mutations: ${Object.entries(r.mutations).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  forwarded requests of all-valid sessions: ${r.forwarded.asBytes} as the client's bytes, ${r.forwarded.encoded} encoded again`,
    `  sessions with lent reads (pooled slabs, poisoned once free): ${r.lentSessions}`,
    `  records converted by the version bridge: ${r.converted.produce} Produce partitions sent as v2 batches, ${r.converted.fetch} Fetch partitions answered as message sets`,
    `  route answers: ${r.responses.answered} (${r.responses.mutated} mutated, ${r.responses.madeByRoute} as made frames, ${r.responses.bridged} at a version the bridge sent)`,
    `  sessions closed by kproxy: ${Object.entries(r.closedBy).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}; passthrough ${r.passthrough}; drained ${r.drained}`,
    `  hostile filter: ${Object.entries(r.hostile).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  metrics: ${Object.entries(r.metrics).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  version bridge: ${Object.entries(r.bridged).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  quotas: ${Object.entries(r.quotas).map(([k, v]) => `${k} ${v.throttled} throttled ${v.refused} refused`).join(', ')}`,
    `  logged codes: ${Object.entries(r.logCodes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  memory (${r.memory.gc ? 'after GC' : 'no --expose-gc'}): heap ${mib(r.memory.baseline?.heapUsed ?? 0)} at 10% -> ${mib(r.memory.final.heapUsed)} at the end (bound: +${mib(r.memory.growthBound)}, under ${mib(r.memory.heapBound)}), arrayBuffers ${mib(r.memory.baseline?.arrayBuffers ?? 0)} -> ${mib(r.memory.final.arrayBuffers)}, peak heap ${mib(r.memory.peakHeapUsed)}, rss ${mib(r.memory.final.rss)}`
  ]
  const failures = Object.entries(r.failures)
  if (failures.length === 0) lines.push('  no failures: no escaped or uncaught exceptions, no hangs, whole frames in request order, memory within its bounds')
  for (const [kind, f] of failures) {
    lines.push(`  FAILED ${kind}: ${f.count}`)
    for (const e of f.examples) lines.push(`    ${e}`)
  }
  return lines.join('\n')
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { frames: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } }, strict: true })
  const frames = values.frames === undefined ? DEFAULT_FRAMES : Number(values.frames.replaceAll('_', ''))
  const seed = values.seed === undefined ? 1 : Number(values.seed)
  if (!Number.isInteger(frames) || frames < 1 || !Number.isInteger(seed)) {
    process.stderr.write('usage: session-fuzz.ts [--frames N] [--seed S] [--json]\n')
    process.exit(2)
  }
  const report = await runSessionFuzz({ frames, seed, progress: m => process.stderr.write(`${m}\n`) })
  process.stdout.write(values.json === true ? JSON.stringify(report) + '\n' : summarize(report) + '\n')
  process.exitCode = report.ok ? 0 : 1
}
