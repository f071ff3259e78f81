// The buffers one socket event sends to one socket, gathered and written once at the end of the
// event. Buffers that follow each other in memory (a frame's size prefix and payload, consecutive
// frames of one input chunk) are merged into one view, so the bytes go out as the ranges of the
// chunks they arrived in: one write of one buffer in the common case, one corked writev of the
// original ranges otherwise. No copy: only views over the same memory are merged.
// What a batch writes to: a net.Socket, a tls.TLSSocket, or a scripted stand-in in tests.
export interface Writable {
  write (buf: Buffer): boolean
  cork (): void
  uncork (): void
}

export class WriteBatch {
  // finished ranges waiting behind the open one
  readonly #done: Buffer[] = []
  #doneCount = 0
  // the open range: the buffer it started with, and where it ends now (it grows by merges)
  #open: Buffer | null = null
  #openEnd = 0
  #bytes = 0

  get empty (): boolean { return this.#open === null }

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
    if (count === 0) {
      ok = socket.write(last)
    } else {
      const done = this.#done
      socket.cork()
      for (let i = 0; i < count; i++) {
        socket.write(done[i])
        done[i] = EMPTY
      }
      ok = socket.write(last)
      socket.uncork()
      this.#doneCount = 0
    }
    this.full = !ok
    return bytes
  }

  // set by flush(): the last write returned false
  full = false

  clear (): void {
    for (let i = 0; i < this.#doneCount; i++) this.#done[i] = EMPTY
    this.#doneCount = 0
    this.#open = null
    this.#bytes = 0
  }
}

const EMPTY = Buffer.alloc(0)
