// Quota state shared by every thread of one kproxy process: a SharedArrayBuffer that the
// supervisor creates and hands to each worker (a restarted worker gets the same one, so its
// clients' windows survive the crash). Nothing goes through messages: a worker records into a
// bucket with Atomics and reads back the rate all workers together produced.
//
// Layout (all little-endian typed-array views of one buffer):
//   header   Int32 x 8      magic, capacity, samples, used, full (refused new buckets), -, -, -
//            Float64 x 1    base time (Date.now() at creation): windows are numbered from it
//   meta     Int32 x 8 per bucket: state (0 free, 1 being claimed, 2 ready), key fingerprint
//            (2 words), lock, gauge (open connections), window length in ms, -, -
//   epochs   Int32 x samples per bucket: the window number each sample cell holds (-1: none)
//   values   Float64 x samples per bucket: the sum recorded in that window
//
// Buckets are found by a 64-bit fingerprint of their key in an open-addressing table: a thread
// claims a free cell with compare-and-swap, so two workers meeting a new client at once agree on
// one bucket. Buckets are never freed; when 90% are used, new keys are not enforced (counted in
// `full`) — size the table for the number of distinct users and client ids with limits
// (docs/policy.md). A bucket's samples are guarded by a tiny futex lock (a few dozen
// instructions held, never across an await).
//
// Rates follow Kafka's Rate/SampledStat: samples of windowMs each; the rate is the sum of the
// live samples over the elapsed time since the oldest one, counted as at least samples-1 full
// windows (so a new client is not judged on its first milliseconds); windows are aligned to the
// base time rather than started by the first event, which changes nothing measurable.

const MAGIC = 0x4b505154
const H_MAGIC = 0
const H_CAPACITY = 1
const H_SAMPLES = 2
const H_USED = 3
const H_FULL = 4
const HEADER_INTS = 8
const HEADER_BYTES = HEADER_INTS * 4 + 8

const META = 8
const M_STATE = 0
const M_FP_A = 1
const M_FP_B = 2
const M_LOCK = 3
const M_GAUGE = 4
const M_WINDOW = 5

const FREE = 0
const CLAIMING = 1
const READY = 2
const MAX_FILL = 0.9

export const NO_BUCKET = -1

function fingerprint (key: string): [number, number] {
  // Two FNV-1a variants over the UTF-16 code units: 64 bits between them.
  let a = 0x811c9dc5
  let b = 0x01000193 ^ key.length
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15)
  }
  // 0 marks nothing in particular, but keep both words non-zero for readability in dumps.
  return [(a | 1) >>> 0 | 0, (b | 1) >>> 0 | 0]
}

export interface QuotaTableStats {
  readonly capacity: number
  readonly used: number
  readonly full: number
}

export class QuotaTable {
  readonly buffer: SharedArrayBuffer
  readonly capacity: number
  readonly samples: number
  readonly #header: Int32Array
  readonly #base: number
  readonly #meta: Int32Array
  readonly #epochs: Int32Array
  readonly #values: Float64Array
  // this thread's share of every bucket's gauge (trackHolds): given back for it if it dies
  #holds: Int32Array | null = null

  static create (capacity: number, samples: number): QuotaTable {
    if (!Number.isInteger(capacity) || capacity < 16) throw new RangeError('a quota table needs at least 16 buckets')
    if (!Number.isInteger(samples) || samples < 2 || samples > 60) throw new RangeError('samples must be from 2 to 60')
    const bytes = HEADER_BYTES + capacity * (META * 4 + samples * 4) + capacity * samples * 8
    const buffer = new SharedArrayBuffer(bytes + 8)
    const header = new Int32Array(buffer, 0, HEADER_INTS)
    header[H_MAGIC] = MAGIC
    header[H_CAPACITY] = capacity
    header[H_SAMPLES] = samples
    new Float64Array(buffer, HEADER_INTS * 4, 1)[0] = Date.now()
    const table = new QuotaTable(buffer)
    table.#epochs.fill(-1)
    return table
  }

  // In another thread, from the buffer the supervisor sent.
  constructor (buffer: SharedArrayBuffer) {
    this.buffer = buffer
    this.#header = new Int32Array(buffer, 0, HEADER_INTS)
    if (this.#header[H_MAGIC] !== MAGIC) throw new TypeError('not a kproxy quota table')
    this.capacity = this.#header[H_CAPACITY]!
    this.samples = this.#header[H_SAMPLES]!
    this.#base = new Float64Array(buffer, HEADER_INTS * 4, 1)[0]!
    let offset = HEADER_BYTES
    this.#meta = new Int32Array(buffer, offset, this.capacity * META)
    offset += this.capacity * META * 4
    this.#epochs = new Int32Array(buffer, offset, this.capacity * this.samples)
    offset += this.capacity * this.samples * 4
    offset = Math.ceil(offset / 8) * 8
    this.#values = new Float64Array(buffer, offset, this.capacity * this.samples)
  }

  stats (): QuotaTableStats {
    return { capacity: this.capacity, used: Atomics.load(this.#header, H_USED), full: Atomics.load(this.#header, H_FULL) }
  }

  // The bucket of `key` (found or claimed), or NO_BUCKET when the table is too full. Costs a
  // string hash: call it once per connection and keep the number.
  bucket (key: string, windowMs: number): number {
    const [fa, fb] = fingerprint(key)
    const meta = this.#meta
    const start = (fa >>> 0) % this.capacity
    for (let i = 0; i < this.capacity; i++) {
      const s = (start + i) % this.capacity
      const at = s * META
      let state = Atomics.load(meta, at + M_STATE)
      if (state === FREE) {
        if (Atomics.load(this.#header, H_USED) >= this.capacity * MAX_FILL) {
          Atomics.add(this.#header, H_FULL, 1)
          return NO_BUCKET
        }
        if (Atomics.compareExchange(meta, at + M_STATE, FREE, CLAIMING) === FREE) {
          Atomics.store(meta, at + M_FP_A, fa)
          Atomics.store(meta, at + M_FP_B, fb)
          Atomics.store(meta, at + M_WINDOW, windowMs)
          Atomics.add(this.#header, H_USED, 1)
          Atomics.store(meta, at + M_STATE, READY)
          Atomics.notify(meta, at + M_STATE)
          return s
        }
        state = Atomics.load(meta, at + M_STATE)
      }
      // Another thread is writing this cell's key: wait for it (microseconds).
      while (state === CLAIMING) {
        Atomics.wait(meta, at + M_STATE, CLAIMING, 1)
        state = Atomics.load(meta, at + M_STATE)
      }
      if (Atomics.load(meta, at + M_FP_A) === fa && Atomics.load(meta, at + M_FP_B) === fb) return s
    }
    Atomics.add(this.#header, H_FULL, 1)
    return NO_BUCKET
  }

  // Drepper's futex mutex: 0 free, 1 held, 2 held with waiters.
  #lock (at: number): void {
    const meta = this.#meta
    let c = Atomics.compareExchange(meta, at, 0, 1)
    if (c === 0) return
    if (c !== 2) c = Atomics.exchange(meta, at, 2)
    while (c !== 0) {
      Atomics.wait(meta, at, 2, 5)
      c = Atomics.exchange(meta, at, 2)
    }
  }

  #unlock (at: number): void {
    if (Atomics.sub(this.#meta, at, 1) !== 1) {
      Atomics.store(this.#meta, at, 0)
      Atomics.notify(this.#meta, at, 1)
    }
  }

  // Adds `value` at `nowMs` (negative to take back, as Kafka's unrecord). `out` receives the
  // rate per second of the bucket after it, all threads together (out[0]), and the window it
  // was computed over (out[1], for the throttle time). Results go out through the array because
  // a double returned from a call that is not inlined is a heap allocation.
  record (bucket: number, value: number, nowMs: number, out: Float64Array): void {
    const meta = this.#meta
    const at = bucket * META
    const windowMs = Atomics.load(meta, at + M_WINDOW)
    const samples = this.samples
    // A wall clock stepped back before the base must not index outside the bucket.
    const rel = nowMs > this.#base ? nowMs - this.#base : 0
    const w = Math.floor(rel / windowMs)
    const first = bucket * samples
    const cell = first + (w % samples)
    this.#lock(at + M_LOCK)
    if (this.#epochs[cell] !== w) {
      this.#epochs[cell] = w
      this.#values[cell] = 0
    }
    this.#values[cell]! += value
    let sum = 0
    let oldest = w
    for (let i = first; i < first + samples; i++) {
      const e = this.#epochs[i]!
      if (e < 0 || w - e >= samples) continue
      sum += this.#values[i]!
      if (e < oldest) oldest = e
    }
    this.#unlock(at + M_LOCK)
    let elapsed = rel - oldest * windowMs
    const full = Math.floor(elapsed / windowMs)
    if (full < samples - 1) elapsed += (samples - 1 - full) * windowMs
    if (elapsed < 1) elapsed = 1
    out[0] = sum / (elapsed / 1000)
    out[1] = elapsed
  }

  // A worker thread's own counts of the places it holds, one Int32 per bucket in memory the
  // supervisor keeps (holdsBytes): when the thread dies with connections open, releaseHolds()
  // gives their places back, which the thread itself can no longer do.
  static holdsBytes (capacity: number): number {
    return capacity * 4
  }

  trackHolds (holds: Int32Array): void {
    if (holds.length < this.capacity) throw new RangeError('the holds array is smaller than the table')
    this.#holds = holds
  }

  // In the supervisor, after the thread that counted into `holds` is gone.
  releaseHolds (holds: Int32Array): number {
    let released = 0
    for (let b = 0; b < this.capacity && b < holds.length; b++) {
      const n = Atomics.exchange(holds, b, 0)
      if (n !== 0) {
        Atomics.sub(this.#meta, b * META + M_GAUGE, n)
        released += n
      }
    }
    return released
  }

  // Open connections of a bucket: +1 unless that would pass `limit`; true when counted.
  tryAcquire (bucket: number, limit: number): boolean {
    const at = bucket * META + M_GAUGE
    for (;;) {
      const v = Atomics.load(this.#meta, at)
      if (v >= limit) return false
      if (Atomics.compareExchange(this.#meta, at, v, v + 1) === v) {
        if (this.#holds !== null) Atomics.add(this.#holds, bucket, 1)
        return true
      }
    }
  }

  // Counted whatever the limit: a connection that was already open when the limits changed.
  forceAcquire (bucket: number): void {
    Atomics.add(this.#meta, bucket * META + M_GAUGE, 1)
    if (this.#holds !== null) Atomics.add(this.#holds, bucket, 1)
  }

  release (bucket: number): void {
    Atomics.sub(this.#meta, bucket * META + M_GAUGE, 1)
    if (this.#holds !== null) Atomics.sub(this.#holds, bucket, 1)
  }

  gauge (bucket: number): number {
    return Atomics.load(this.#meta, bucket * META + M_GAUGE)
  }
}

// KIP-219 / QuotaUtils.throttleTime: the delay X that brings observed rate O back to the bound T
// over window W, O*W/(W+X) = T, so X = (O-T)/T * W; capped at maxMs.
export function throttleTimeMs (rate: number, bound: number, windowMs: number, maxMs: number): number {
  if (rate <= bound) return 0
  const x = Math.round((rate - bound) / bound * windowMs)
  return x > maxMs ? maxMs : x
}
