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
// Each read is copied at once into a buffer of its own size (as Node itself does after reading
// into its 64 KiB buffer), so every chunk belongs to whoever receives it and the one read buffer
// is shared by all the worker's sockets: a callback runs to its end before the next read. The
// copy goes out as a 'data' event, so the socket looks like any other to its session.
//
// Off with KPROXY_STATIC_READ_BUFFERS=0, and wherever the socket is not what this expects (no
// handle, already reading): then the accepted socket is used as it is.
import { Socket } from 'node:net'
import { STATIC_READ_BUFFERS } from './read-slabs.ts'

// Node reads at most 64 KiB from a TCP socket at a time
const READ_BUFFER_SIZE = 64 * 1024
let shared: Buffer | null = null

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
  if (shared === null) shared = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE)
  const buffer = shared
  let socket: Socket
  try {
    socket = new Socket({
      handle,
      readable: true,
      writable: true,
      pauseOnCreate: true,
      onread: {
        buffer,
        callback (nread: number): boolean {
          const chunk = Buffer.allocUnsafe(nread)
          buffer.copy(chunk, 0, 0, nread)
          socket.emit('data', chunk)
          return true
        }
      }
    } as unknown as ConstructorParameters<typeof Socket>[0])
  } catch {
    return accepted
  }
  // the old socket never reads or closes: the handle is the new one's. The server counts the
  // connection until the socket that owns it now is destroyed.
  old._handle = null
  const now = socket as unknown as HandleHolder
  now.server = old.server
  now._server = old._server
  return socket
}
