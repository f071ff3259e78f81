// The load loop of one generator thread: a set of lanes (one connection each, to one broker,
// with the partitions it writes or reads), driven either at maximum rate (a bounded window of
// requests in flight per connection, refilled on each response) or at a fixed rate (Pacer).
// Requests are templates: the body is encoded once and only a 12-byte head with a fresh
// correlation id is written per request (Fetch, whose offsets move, is encoded each time).
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, errorByCode } from '@kproxy/core/protocol/codec'
import { BenchConnection } from './connection.ts'
import type { ConnectionListener } from './connection.ts'
import { encodeHistogram, newHistogram, recordUs } from './histogram.ts'
import type { Histogram } from './histogram.ts'
import type { BenchOptions } from './options.ts'
import { nowUs, Pacer } from './pacer.ts'
import { encodeApiVersions, encodeFetch, encodeMetadata, encodeProduce, frameTemplate, lastProduceThrottleMs, makeRecordBatch, produceError, VERSIONS } from './requests.ts'
import { throttleTimeMs } from '@kproxy/core/protocol/throttle-time'

export interface Lane {
  host: string
  port: number
  partitions: number[]
  // fetch: where each partition starts (decimal strings: bigints do not cross postMessage as is)
  offsets?: string[]
}

// What a generator thread counts; its result and the merged load result both carry these.
export interface LoadCounters {
  requests: number
  records: number
  payloadBytes: number
  bytesOut: number
  bytesIn: number
  errors: Record<string, number>
  // fixed rate: requests that fell due but could not be sent before the end (counted in the
  // histogram with their wait so far, a lower bound)
  unsent: number
  // requests still unanswered when the drain timed out
  unanswered: number
  elapsedMs: number
  // responses whose throttle_time_ms was above 0 (a quota, KIP-219), and the sum of those times
  throttled?: number
  throttleMs?: number
}

export interface ThreadResult extends LoadCounters {
  histogram: string
  // fixed rate: actual minus intended send time of each request, µs
  sendLag: string
  failure: string | null
}

const HEAD = 12
const DRAIN_TIMEOUT_MS = 10_000

class LaneRunner implements ConnectionListener {
  readonly lane: Lane
  readonly run: LoadRun
  conn: BenchConnection | null = null
  readonly times: Float64Array
  seq = 0
  templates: Buffer[] = []
  next = 0
  offsets: bigint[]
  pacer: Pacer | null = null
  // when the in-flight window last got room (the latest response)
  windowFreeUs = 0
  sentLimit: number

  constructor (run: LoadRun, lane: Lane) {
    this.run = run
    this.lane = lane
    this.times = new Float64Array(run.options.inFlight)
    this.offsets = (lane.offsets ?? lane.partitions.map(() => '0')).map(o => BigInt(o))
    this.sentLimit = run.requestLimit
  }

  buildTemplates (): void {
    const o = this.run.options
    if (o.scenario === 'produce') {
      const batch = makeRecordBatch(o.recordsPerBatch, o.recordSize)
      this.templates = this.lane.partitions.map(p => frameTemplate(encodeProduce(0, o.topic, p, o.acks, batch)))
    } else if (o.scenario === 'roundtrip') {
      this.templates = [frameTemplate(o.request === 'metadata' ? encodeMetadata(0, []) : encodeApiVersions(0))]
    }
  }

  get expectResponse (): boolean {
    return this.run.options.scenario !== 'produce' || this.run.options.acks !== 0
  }

  canSend (): boolean {
    return this.run.running && this.conn !== null && this.conn.inFlight < this.times.length && this.seq < this.sentLimit
  }

  sendOne (startUs: number): boolean {
    const conn = this.conn!
    const id = conn.nextCorrelationId()
    const slot = this.seq % this.times.length
    this.seq++
    this.times[slot] = startUs
    let chunks: Buffer[]
    if (this.run.fetching) {
      chunks = encodeFetch(id, this.run.options.topic, this.lane.partitions, this.offsets, this.run.options.fetchMaxBytes)
    } else {
      const t = this.templates[this.next]
      this.next = this.next + 1 === this.templates.length ? 0 : this.next + 1
      const head = Buffer.allocUnsafe(HEAD)
      t.copy(head, 0, 0, HEAD)
      head.writeInt32BE(id, 8)
      chunks = [head, t.subarray(HEAD)]
    }
    const expect = this.expectResponse
    const ok = conn.send(chunks, id, slot, expect)
    if (!expect) this.run.countProduced()
    return ok
  }

  // Max rate: keep the window full. acks=0: write until the socket pushes back.
  pump (): void {
    if (this.pacer !== null) { this.pumpPaced(nowUs()); return }
    if (!this.expectResponse) {
      while (this.run.running && this.seq < this.sentLimit) {
        if (!this.sendOne(0)) { this.conn!.socket.once('drain', () => this.pump()); return }
      }
      this.run.laneIdle()
      return
    }
    while (this.canSend()) this.sendOne(nowUs())
  }

  pumpPaced (now: number): void {
    const p = this.pacer!
    while (p.due(now) && this.canSend()) {
      const intended = p.take()
      // How late the generator itself sends (timers, a busy thread), not counting time the
      // request waited for a full window (that is the target's slowness): part of the corrected
      // latency, reported apart so that readers can see the generator's share.
      recordUs(this.run.sendLag, now - Math.max(intended, this.windowFreeUs))
      this.sendOne(intended)
    }
  }

  onResponse (_conn: BenchConnection, slot: number, payload: Buffer): void {
    const run = this.run
    const now = nowUs()
    recordUs(run.histogram, now - this.times[slot])
    this.windowFreeUs = now
    run.requests++
    const o = run.options
    if (run.fetching) {
      this.onFetchResponse(payload)
    } else if (o.scenario === 'roundtrip') {
      // the correlation id matched; the body is not needed to measure the round trip, only the
      // throttle time, read in place
      const apiKey = o.request === 'metadata' ? ApiKey.Metadata : ApiKey.ApiVersions
      const version = o.request === 'metadata' ? VERSIONS.metadata : VERSIONS.apiVersions
      run.countThrottle(throttleTimeMs({ size: payload.length, chunks: [payload] }, apiKey, version))
    } else {
      const err = produceError(payload)
      run.countThrottle(lastProduceThrottleMs)
      if (err === 0) {
        run.records += o.recordsPerBatch
        run.payloadBytes += o.recordsPerBatch * o.recordSize
      } else {
        run.countError(errorByCode(err)?.name ?? `error ${err}`)
      }
    }
    if (run.running && this.seq < this.sentLimit) this.pump()
    else if (this.conn!.inFlight === 0) run.laneIdle()
  }

  // Record batch v2 layout: baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32
  // magic:int8 crc:uint32 attributes:int16 lastOffsetDelta:int32 ... ; batchLength counts the
  // bytes after itself. A trailing partial batch (cut by maxBytes) is skipped.
  onFetchResponse (payload: Buffer): void {
    const run = this.run
    const { body } = decodeResponse(payload, ApiKey.Fetch, VERSIONS.fetch)
    run.countThrottle(body.throttleTimeMs)
    for (const t of body.responses) {
      for (const p of t.partitions) {
        const i = this.lane.partitions.indexOf(p.partitionIndex)
        if (i < 0) continue
        if (p.errorCode !== 0) { run.countError(errorByCode(p.errorCode)?.name ?? `error ${p.errorCode}`); continue }
        const rec = p.records
        let pos = 0
        let next = this.offsets[i]
        while (rec !== null && pos + 27 <= rec.length) {
          const len = rec.readInt32BE(pos + 8)
          if (pos + 12 + len > rec.length) break
          const base = rec.readBigInt64BE(pos)
          const last = rec.readInt32BE(pos + 23)
          run.records += last + 1
          run.payloadBytes += 12 + len
          next = base + BigInt(last) + 1n
          pos += 12 + len
        }
        // at the end of the log: read it again from the start
        this.offsets[i] = next >= p.highWatermark ? p.logStartOffset : next
      }
    }
  }

  onFailure (_conn: BenchConnection, err: Error): void {
    this.run.fail(err)
  }
}

export class LoadRun {
  readonly options: BenchOptions
  readonly histogram: Histogram = newHistogram()
  readonly sendLag: Histogram = newHistogram()
  readonly lanes: LaneRunner[]
  readonly requestLimit: number
  readonly fetching: boolean
  running = false
  requests = 0
  records = 0
  payloadBytes = 0
  errors: Record<string, number> = {}
  throttled = 0
  throttleMs = 0
  #failure: Error | null = null
  #idle = 0
  #done: (() => void) | null = null

  // requestLimit: stop each lane after that many requests (pre-fill), else run for durationMs.
  constructor (options: BenchOptions, lanes: readonly Lane[], requestLimit = Infinity) {
    this.options = options
    this.requestLimit = requestLimit
    this.fetching = options.scenario === 'fetch' && requestLimit === Infinity
    this.lanes = lanes.map(l => new LaneRunner(this, l))
  }

  countProduced (): void {
    this.requests++
    this.records += this.options.recordsPerBatch
    this.payloadBytes += this.options.recordsPerBatch * this.options.recordSize
  }

  countThrottle (ms: number): void {
    if (ms > 0) {
      this.throttled++
      this.throttleMs += ms
    }
  }

  countError (name: string): void {
    this.errors[name] = (this.errors[name] ?? 0) + 1
  }

  fail (err: Error): void {
    if (this.#failure === null) this.#failure = err
    this.running = false
    this.#done?.()
  }

  laneIdle (): void {
    this.#idle++
    if (this.#idle >= this.lanes.length) this.#done?.()
  }

  async execute (): Promise<ThreadResult> {
    let started = Date.now()
    let unsent = 0
    try {
      for (const l of this.lanes) {
        l.buildTemplates()
        l.conn = await BenchConnection.open(l.lane.host, l.lane.port, l)
      }
      this.running = true
      started = Date.now()
      const finished = new Promise<void>(resolve => { this.#done = resolve })
      const t0 = nowUs()
      const totalLanes = Math.max(this.options.connections, this.lanes.length)
      let ticker: NodeJS.Timeout | null = null
      if (this.options.rate > 0) {
        const perLane = this.options.rate / totalLanes
        this.lanes.forEach((l, i) => { l.pacer = new Pacer(perLane, t0 + (i * 1e6) / this.options.rate) })
        const tick = (): void => {
          if (!this.running) return
          const now = nowUs()
          let soonest = Infinity
          for (const l of this.lanes) { l.pumpPaced(now); soonest = Math.min(soonest, l.pacer!.nextUs) }
          ticker = setTimeout(tick, Math.max(0, (soonest - nowUs()) / 1000))
        }
        tick()
      } else {
        for (const l of this.lanes) l.pump()
      }
      const stopTimer = this.requestLimit === Infinity
        ? setTimeout(() => this.stop(), this.options.durationMs)
        : null
      await finished
      if (this.requestLimit === Infinity && this.#failure === null) {
        // stopped by the timer; wait (bounded) for the answers still in flight
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, DRAIN_TIMEOUT_MS)
          const check = setInterval(() => {
            if (this.lanes.every(l => l.conn === null || l.conn.inFlight === 0)) { clearInterval(check); clearTimeout(timer); resolve() }
          }, 5)
          timer.unref()
        })
      }
      if (stopTimer !== null) clearTimeout(stopTimer)
      if (ticker !== null) clearTimeout(ticker)
      if (this.options.rate > 0) {
        // requests that fell due and never went out: their wait up to now is a lower bound
        const end = t0 + this.options.durationMs * 1000
        const now = nowUs()
        for (const l of this.lanes) {
          const p = l.pacer!
          while (p.nextUs < end) { recordUs(this.histogram, now - p.take()); unsent++ }
        }
      }
    } catch (err) {
      this.fail(err as Error)
    } finally {
      this.running = false
      for (const l of this.lanes) l.conn?.close()
    }
    let bytesOut = 0
    let bytesIn = 0
    let unanswered = 0
    for (const l of this.lanes) {
      bytesOut += l.conn?.bytesOut ?? 0
      bytesIn += l.conn?.bytesIn ?? 0
      unanswered += l.conn?.inFlight ?? 0
    }
    return {
      histogram: encodeHistogram(this.histogram),
      sendLag: encodeHistogram(this.sendLag),
      requests: this.requests,
      records: this.records,
      payloadBytes: this.payloadBytes,
      bytesOut,
      bytesIn,
      errors: this.errors,
      unsent,
      unanswered,
      elapsedMs: Date.now() - started,
      throttled: this.throttled,
      throttleMs: this.throttleMs,
      failure: this.#failure === null ? null : this.#failure.message
    }
  }

  // End of the measured duration: no new requests; execute() then waits for the answers in flight.
  stop (): void {
    this.running = false
    this.#done?.()
  }
}
