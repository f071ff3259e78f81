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
// The new socket reads through a SlabReader (read-slabs.ts): small reads are copied out of the
// worker's shared read buffer, large ones lent as views of a slab of the socket's own. So a chunk
// is only valid during its 'data' event unless its reader holds the slab: the client session
// copies each chunk for a route that does not send requests at once (Route.borrowsRequests),
// holds the slabs of a partial frame, and copies a frame that a filter, the backlog or a failover
// list keeps (ownFrame).
//
// Off with KPROXY_STATIC_READ_BUFFERS=0, and wherever the socket is not what this expects (no
// handle, already reading): then the accepted socket is used as it is.
import { Socket } from 'node:net'
import { SlabReader, STATIC_READ_BUFFERS } from './read-slabs.ts'

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
  const reader = new SlabReader(chunk => socket!.emit('data', chunk))
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
