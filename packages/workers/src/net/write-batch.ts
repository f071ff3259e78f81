// The buffers one socket event sends to one socket, gathered and written once at the end of the
// event. Buffers that follow each other in memory (a frame's size prefix and payload, consecutive
// frames of one input chunk) are merged into one view, so the bytes go out as the ranges of the
// chunks they arrived in: one write of one buffer in the common case, one corked writev of the
// original ranges otherwise. No copy: only views over the same memory are merged.
//
// A batch made with `{ slabViews: true }` holds the views of static read buffers (read-slabs.ts)
// it is given from add() until their bytes have left:
// at once when the socket has nothing left to write after the flush (socket.writableLength 0:
// the kernel, or the TLS engine, has taken them), else when the callback of the flush's last
// write says it (writes finish in order), else at the socket's 'close' (after an error or a
// destroy the callbacks do not come in order, so they are not counted; no byte is written
// after the handle closed). A batch whose source never reads into slabs (`slabViews: false`: the
// requests of client sockets, the answers of mesh mode) skips the lookup of each added view.
import { release, retain, slabOf } from './read-slabs.ts'
import type { ReadSlab } from './read-slabs.ts'

// What a batch writes to: a net.Socket, a tls.TLSSocket, or a scripted stand-in in tests.
export interface Writable {
  write (buf: Buffer, cb?: (err?: Error | null) => void): boolean
  cork (): void
  uncork (): void
  // unknown (a stand-in without it): held slabs wait for the write callback
  readonly writableLength?: number
  readonly destroyed?: boolean
  once? (event: 'close', listener: () => void): unknown
}

export interface WriteBatchOptions {
  // the buffers added may be views of static read buffers
  readonly slabViews: boolean
}

export class WriteBatch {
  // finished ranges waiting behind the open one
  readonly #done: Buffer[] = []
  #doneCount = 0
  // the open range: the buffer it started with, and where it ends now (it grows by merges)
  #open: Buffer | null = null
  #openEnd = 0
  #bytes = 0
  // slabs of the ranges added since the last flush
  #holds: ReadSlab[] = []
  // flushes whose writes had not finished, oldest first: their slabs, and the number of counted
  // writes that must have finished before those slabs go back
  readonly #waiting: Array<{ seq: number, slabs: ReadSlab[] }> = []
  #issued = 0
  #finished = 0
  #socket: Writable | null = null
  readonly #onWritten = this.#written.bind(this)
  readonly #onClose = this.#closed.bind(this)
  readonly #slabViews: boolean

  constructor (options: WriteBatchOptions) {
    this.#slabViews = options.slabViews
  }

  get empty (): boolean { return this.#open === null }
  // slabs held for ranges added or written and not yet gone (tests)
  get heldSlabs (): number {
    let n = this.#holds.length
    for (const w of this.#waiting) n += w.slabs.length
    return n
  }

  add (buf: Buffer): void {
    const n = buf.length
    if (n === 0) return
    this.#bytes += n
    const open = this.#open
    if (open !== null) {
      if (open.buffer === buf.buffer && this.#openEnd === buf.byteOffset) {
        this.#openEnd += n
        return
      }
      this.#done[this.#doneCount++] = this.#closeOpen(open)
    }
    const slab = this.#slabViews ? slabOf(buf) : undefined
    if (slab !== undefined) {
      const holds = this.#holds
      if (holds.length === 0 || holds[holds.length - 1] !== slab) {
        retain(slab)
        holds.push(slab)
      }
    }
    this.#open = buf
    this.#openEnd = buf.byteOffset + n
  }

  #closeOpen (open: Buffer): Buffer {
    const end = this.#openEnd
    if (end === open.byteOffset + open.length) return open
    return Buffer.from(open.buffer, open.byteOffset, end - open.byteOffset)
  }

  // Writes everything to `socket` and empties the batch. Returns the bytes written and sets
  // `full` when the socket's write buffer is over its high-water mark (the caller pauses its
  // source until 'drain').
  flush (socket: Writable): number {
    const open = this.#open
    if (open === null) return 0
    const last = this.#closeOpen(open)
    const bytes = this.#bytes
    this.#open = null
    this.#bytes = 0
    let ok: boolean
    const count = this.#doneCount
    const holds = this.#holds
    const cb = holds.length > 0 ? this.#onWritten : undefined
    if (cb !== undefined) {
      this.#issued++
      if (this.#socket !== socket) this.#watch(socket)
    }
    if (count === 0) {
      ok = socket.write(last, cb)
    } else {
      const done = this.#done
      socket.cork()
      for (let i = 0; i < count; i++) {
        socket.write(done[i])
        done[i] = EMPTY
      }
      ok = socket.write(last, cb)
      socket.uncork()
      this.#doneCount = 0
    }
    this.full = !ok
    if (cb !== undefined) {
      if (socket.writableLength === 0) {
        releaseAll(holds)
      } else {
        this.#waiting.push({ seq: this.#issued, slabs: holds })
        this.#holds = []
      }
    }
    return bytes
  }

  #watch (socket: Writable): void {
    // the counting of callbacks is per socket
    if (this.#socket !== null) throw new Error('a WriteBatch that held read slabs writes to one socket only')
    this.#socket = socket
    socket.once?.('close', this.#onClose)
  }

  // a counted write finished; writes finish in order while the socket is up
  #written (err?: Error | null): void {
    if (err != null || this.#socket?.destroyed === true) return
    this.#finished++
    const waiting = this.#waiting
    while (waiting.length > 0 && waiting[0]!.seq <= this.#finished) releaseAll(waiting.shift()!.slabs)
  }

  #closed (): void {
    const waiting = this.#waiting
    while (waiting.length > 0) releaseAll(waiting.shift()!.slabs)
  }

  // set by flush(): the last write returned false
  full = false

  clear (): void {
    for (let i = 0; i < this.#doneCount; i++) this.#done[i] = EMPTY
    this.#doneCount = 0
    this.#open = null
    this.#bytes = 0
    releaseAll(this.#holds)
  }
}

function releaseAll (slabs: ReadSlab[]): void {
  for (let i = 0; i < slabs.length; i++) release(slabs[i]!)
  slabs.length = 0
}

const EMPTY = Buffer.alloc(0)
