// Reads of accepted plaintext sockets without the Readable stream. A socket Node accepts reads
// each chunk into a new buffer and hands it through the stream machinery (push, buffer state,
// a nextTick to read more) before 'data' fires; per request that was about a tenth of a worker's
// CPU in the round-trip benchmark (docs/performance.md, the Node floor). Node's `onread` option
// (one buffer the kernel reads into, and a callback) skips that, but it is public only for sockets
// Node connects. For an accepted socket, paused before anything was read (pauseOnConnect), the
// connection's handle is given to a new net.Socket made with `onread`: the constructor takes a
// `handle` (net.Server makes its sockets that way), and Node's pause() and resume() stop and start
// reading on the handle of such a socket.
//
// Where a read goes depends on its size. Small reads (requests of a few hundred bytes, a client
// that is mostly idle) go into one read buffer shared by all the worker's sockets and are copied
// out at once into a buffer of their own size, as Node itself does: a socket holds no read buffer
// between its reads, so idle connections cost nothing here. A read of BIG_READ bytes or more
// (a producer streaming batches) switches the socket to a static read buffer of its own
// (read-slabs.ts): its later reads are handed on as views of that slab, with no copy and no
// allocation, until a read is small again and nothing holds the slab any more.
// So a chunk is only valid during its 'data' event unless its reader holds the slab: the client
// session copies each chunk for a route that does not send requests at once
// (Route.borrowsRequests), holds the slabs of a partial frame, and copies a frame that a filter,
// the backlog or a failover list keeps (ownFrame).
//
// Off with KPROXY_STATIC_READ_BUFFERS=0, and wherever the socket is not what this expects (no
// handle, already reading): then the accepted socket is used as it is.
import { Socket } from 'node:net'
import { release, SLAB_SIZE, STATIC_READ_BUFFERS, takeSlab } from './read-slabs.ts'
import type { OnRead, ReadSlab } from './read-slabs.ts'

// a read this large says the peer streams: the socket's next reads go into a slab of its own
export const BIG_READ = 16 * 1024

// the worker's buffer for small reads, copied out in the callback that read them
let shared: Buffer | null = null
function sharedBuffer (): Buffer {
  if (shared === null) shared = Buffer.allocUnsafeSlow(SLAB_SIZE)
  return shared
}

// One accepted socket's reads: into the shared buffer (copied out), or into a slab of its own
// (lent) while the peer sends large reads.
export class AcceptedReader {
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

  // slab mode (tests)
  get lending (): boolean { return this.#slab !== null }

  // Node asks for the first buffer when the socket is made and for the next after each read.
  #next (): Uint8Array {
    let slab = this.#slab
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

// what net.Socket keeps of the connection (not in Node's public types)
interface HandleHolder {
  _handle: { reading?: boolean } | null
  server?: unknown
  _server?: unknown
}

// The socket to use for a connection `accepted` paused by a net.Server with pauseOnConnect.
export function readWithoutStream (accepted: Socket): Socket {
  if (!STATIC_READ_BUFFERS) return accepted
  const old = accepted as unknown as HandleHolder
  const handle = old._handle
  if (handle == null || handle.reading === true || accepted.destroyed) return accepted
  let socket: Socket | null = null
  const reader = new AcceptedReader(chunk => socket!.emit('data', chunk))
  try {
    socket = new Socket({
      handle,
      readable: true,
      writable: true,
      pauseOnCreate: true,
      onread: reader.option
    } as unknown as ConstructorParameters<typeof Socket>[0])
  } catch {
    reader.close()
    return accepted
  }
  // its slab goes back to the pool once nothing else holds it
  socket.once('close', () => reader.close())
  // the old socket never reads or closes: the handle is the new one's. The server counts the
  // connection until the socket that owns it now is destroyed.
  old._handle = null
  const now = socket as unknown as HandleHolder
  now.server = old.server
  now._server = old._server
  return socket
}
