// Static read buffers: sockets read their large reads into reused 64 KiB slabs (Node's `onread`) instead of a
// new Buffer per read. A new Buffer per read is external memory, and V8 starts a full collection
// for about every 64 MB of it; at full produce or fetch rate that was ~19% of a worker's busy
// time (issue 12).
//
// The catch: kproxy forwards frames as views into the read chunks (zero copy), so a slab's bytes
// may still be needed after the read callback returned. A slab is therefore reference counted,
// and the kernel reads into it again only when nothing holds it any more. The holders:
// - the socket that reads into it (SlabReader), while it is the socket's current slab;
// - the FrameReader's partial frame (its size prefix and chunks): the owner re-holds them after
//   each read (SlabHolds.hold): KafkaConnection for answers, ClientSession for requests;
// - a WriteBatch made with slabViews that has a view of it (the client session's, for answers in
//   broker mode; KafkaConnection's, for requests), from add() until the write that carries it has
//   left (at once when socket.writableLength is 0 after the write, else the write's callback, else
//   the socket's 'close');
// Anything else that keeps a frame beyond the read callback (a request or response filter, a
// request behind a held one, an answer waiting for an earlier one, the failover list of a
// bootstrap connection, a shared upstream connection's users) copies it first (ownFrame).
// Upstream sockets and accepted plaintext ones read through a SlabReader: into a slab only while
// their reads are large (below; accepted-reads.ts for the accepted ones).
// A holder that forgets to release only costs memory: that slab is never read into again and
// the garbage collector takes it. Reuse of a held slab is the one thing that must never happen.
//
// KPROXY_STATIC_READ_BUFFERS=0 turns it off (read once, when the worker loads this module).
import type { Frame } from '@kproxy/core/protocol/frame-reader'

export const STATIC_READ_BUFFERS = process.env.KPROXY_STATIC_READ_BUFFERS !== '0'

// Node reads at most 64 KiB per read from a TCP socket; TLS records are at most 16 KiB.
export const SLAB_SIZE = 64 * 1024
// free slabs kept per worker (4 MiB); more are left to the garbage collector
const MAX_FREE = 64

export class ReadSlab {
  readonly buf: Buffer
  refs = 0
  constructor (buf: Buffer) { this.buf = buf }
}

const owners = new WeakMap<ArrayBufferLike, ReadSlab>()
const free: ReadSlab[] = []
// counters for tests and the micro-check; readsAfterClose counts buffers Node asked a closed
// SlabReader for (never expected: tests check it stays 0)
export const slabStats = { created: 0, reused: 0, readsAfterClose: 0 }

// A free slab, held once by the caller.
export function takeSlab (): ReadSlab {
  let slab = free.pop()
  if (slab === undefined) {
    // its own ArrayBuffer (allocUnsafe could hand out a view of Node's shared pool)
    slab = new ReadSlab(Buffer.allocUnsafeSlow(SLAB_SIZE))
    owners.set(slab.buf.buffer, slab)
    slabStats.created++
  } else {
    slabStats.reused++
  }
  slab.refs = 1
  return slab
}

export function retain (slab: ReadSlab): void {
  slab.refs++
}

export function release (slab: ReadSlab): void {
  if (--slab.refs === 0 && free.length < MAX_FREE) free.push(slab)
}

// The slab a buffer is a view of; undefined for ordinary (owned) memory.
export function slabOf (buf: Buffer): ReadSlab | undefined {
  return owners.get(buf.buffer)
}

export function isBorrowed (frame: Frame): boolean {
  const prefix = frame.prefix
  if (prefix !== undefined && owners.has(prefix.buffer)) return true
  const chunks = frame.chunks
  for (let i = 0; i < chunks.length; i++) if (owners.has(chunks[i]!.buffer)) return true
  return false
}

// The frame itself when none of its bytes are in a slab, else a copy in memory of its own (size
// prefix and payload adjacent, so that a WriteBatch still writes them as one range).
export function ownFrame (frame: Frame): Frame {
  if (!isBorrowed(frame)) return frame
  const out = Buffer.allocUnsafe(4 + frame.size)
  out.writeInt32BE(frame.size, 0)
  let at = 4
  const chunks = frame.chunks
  for (let i = 0; i < chunks.length; i++) at += chunks[i]!.copy(out, at)
  return { size: frame.size, chunks: frame.size === 0 ? [] : [out.subarray(4)], prefix: out.subarray(0, 4) }
}

// A buffer that outlives the read callback: a copy when it is a view of a slab.
export function ownBuffer (buf: Buffer): Buffer {
  return owners.has(buf.buffer) ? Buffer.from(buf) : buf
}

// The slabs one holder has: hold() takes the new set before it lets the old one go.
export class SlabHolds {
  #held: ReadSlab[] = []
  #spare: ReadSlab[] = []

  get count (): number { return this.#held.length }

  // Holds the slabs of `prefix` and `chunks` (either may be empty), instead of those held so far.
  hold (prefix: Buffer | null, chunks: readonly Buffer[]): void {
    const next = this.#spare
    let last: ReadSlab | undefined
    if (prefix !== null && prefix.length > 0) {
      last = owners.get(prefix.buffer)
      if (last !== undefined) {
        retain(last)
        next.push(last)
      }
    }
    for (let i = 0; i < chunks.length; i++) {
      const slab = owners.get(chunks[i]!.buffer)
      if (slab === undefined || slab === last) continue
      last = slab
      retain(slab)
      next.push(slab)
    }
    this.#spare = this.#held
    this.#held = next
    this.releaseAll(this.#spare)
  }

  clear (): void {
    this.releaseAll(this.#held)
  }

  releaseAll (list: ReadSlab[]): void {
    for (let i = 0; i < list.length; i++) release(list[i]!)
    list.length = 0
  }
}

// What a SlabReader gives net.connect / tls.connect.
export interface OnRead {
  buffer (): Uint8Array
  callback (nread: number, buf: Uint8Array): boolean
}

// a read this large says the peer streams: the socket's next reads go into a slab of its own
export const BIG_READ = 16 * 1024

// the worker's buffer for small reads, copied out in the callback that read them
let shared: Buffer | null = null
function sharedBuffer (): Buffer {
  if (shared === null) shared = Buffer.allocUnsafeSlow(SLAB_SIZE)
  return shared
}

// One socket's reads (upstream sockets and accepted plaintext ones). Small reads (requests and
// answers of a few hundred bytes, a connection that is mostly idle) go into one read buffer shared
// by all the worker's sockets and are copied out at once into a buffer of their own size, as Node
// itself does: a socket holds no slab between its reads, so idle connections cost no slab. A read
// of BIG_READ bytes or more (a producer streaming batches, a fetch answer, full TLS records) moves
// the socket to a slab of its own: its next reads are lent as views of it, with no copy and no
// allocation, until a read is small again and nothing holds the slab (then it goes back).
export class SlabReader {
  readonly #onChunk: (chunk: Buffer) => void
  // null: reading into the shared buffer
  #slab: ReadSlab | null = null
  #nextBig = false
  #closed = false
  readonly option: OnRead

  constructor (onChunk: (chunk: Buffer) => void) {
    this.#onChunk = onChunk
    this.option = { buffer: this.#next.bind(this), callback: this.#onRead.bind(this) }
  }

  // lending: reading into a slab of its own (tests)
  get lending (): boolean { return this.#slab !== null }

  // Node asks for the first buffer when the socket is made and for the next after each read.
  #next (): Uint8Array {
    let slab = this.#slab
    if (this.#closed) slabStats.readsAfterClose++
    if (!this.#nextBig || this.#closed) {
      if (slab !== null) release(slab)
      this.#slab = null
      return sharedBuffer()
    }
    if (slab !== null && slab.refs === 1) return slab.buf
    if (slab !== null) release(slab)
    slab = takeSlab()
    this.#slab = slab
    return slab.buf
  }

  // true: go on reading (pausing is the socket's pause())
  #onRead (nread: number, buf: Uint8Array): boolean {
    this.#nextBig = nread >= BIG_READ
    const slab = this.#slab
    if (slab !== null && buf === slab.buf) {
      this.#onChunk(slab.buf.subarray(0, nread))
      return true
    }
    const chunk = Buffer.allocUnsafe(nread)
    chunk.set(buf.subarray(0, nread))
    this.#onChunk(chunk)
    return true
  }

  // The socket closed: its slab goes back once nobody else holds it.
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#nextBig = false
    const slab = this.#slab
    this.#slab = null
    if (slab !== null) release(slab)
  }
}
