// The Node floor: the smallest layer-4 proxy Node can be, for the bench targets node-pipe*
// (targets-node-floor.ts). Every accepted connection gets one upstream connection and bytes are
// written on as they arrive, both ways, with no parsing. What kproxy costs above this is kproxy's
// own code; what this costs above Envoy is Node's (its event loop, streams and TLS binding).
//
//   node bench/src/node-floor.ts --listen PORT --upstream HOST:PORT [--onread]
//       [--tls-in CERT,KEY,CA]   accept mTLS (a client certificate signed by CA is required)
//       [--tls-out CERT,KEY,CA]  connect upstream with mTLS
//
// --onread: both sockets read through Node's `onread` option (a reused buffer, no 'data' events):
// public for sockets Node connects; for accepted plain sockets the socket is rebuilt around the
// server's handle (the lead of issue 12 that this measures). Each read is copied out of the reused
// buffer into one of its own size, as Node does after a read into its own 64 KiB buffer, so no
// write ever sees its bytes change; what is saved is the Readable stream's work per read. Accepted TLS sockets keep 'data' events (onread is not offered there).
import { createServer, connect as netConnect, Socket } from 'node:net'
import type { Server } from 'node:net'
import { connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const READ_SIZE = 64 * 1024

interface TlsFiles { cert: Buffer, key: Buffer, ca: Buffer }

function tlsFiles (value: string | undefined): TlsFiles | null {
  if (value === undefined) return null
  const [cert, key, ca] = value.split(',')
  if (cert === undefined || key === undefined || ca === undefined) throw new Error('--tls-in / --tls-out take CERT,KEY,CA')
  return { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca) }
}

function onread (onChunk: (chunk: Buffer) => void): { buffer: Buffer, callback: (n: number) => boolean } {
  const buf = Buffer.allocUnsafeSlow(READ_SIZE)
  return {
    buffer: buf,
    callback: (n: number) => {
      const chunk = Buffer.allocUnsafe(n)
      buf.copy(chunk, 0, 0, n)
      onChunk(chunk)
      return true
    }
  }
}

// Each side ends or fails the other; a full write buffer pauses the side that fills it.
function relay (from: Socket, to: Socket): (chunk: Buffer) => void {
  to.on('drain', () => from.resume())
  return chunk => { if (!to.write(chunk)) from.pause() }
}

function join (client: Socket, upstream: Socket): void {
  client.setNoDelay(true)
  upstream.setNoDelay(true)
  for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
    a.on('error', () => b.destroy())
    a.on('close', () => b.destroy())
    a.on('end', () => b.end())
  }
}

function main (): void {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, upstream: { type: 'string' }, onread: { type: 'boolean', default: false }, 'tls-in': { type: 'string' }, 'tls-out': { type: 'string' } } })
  const listen = Number(values.listen)
  const [upHost, upPortText] = (values.upstream ?? '').split(':')
  const upPort = Number(upPortText)
  if (!Number.isInteger(listen) || upHost === undefined || upHost === '' || !Number.isInteger(upPort)) throw new Error('usage: node-floor.ts --listen PORT --upstream HOST:PORT [--onread] [--tls-in CERT,KEY,CA] [--tls-out CERT,KEY,CA]')
  const tlsIn = tlsFiles(values['tls-in'])
  const tlsOut = tlsFiles(values['tls-out'])
  const useOnread = values.onread === true

  const dial = (onChunk: ((chunk: Buffer) => void) | null): Socket => {
    const read = onChunk === null ? undefined : onread(onChunk)
    if (tlsOut === null) return netConnect({ host: upHost, port: upPort, onread: read })
    // the broker side's certificate names 127.0.0.1; the chain is what is checked
    return tlsConnect({ host: upHost, port: upPort, cert: tlsOut.cert, key: tlsOut.key, ca: tlsOut.ca, checkServerIdentity: () => undefined, ...(read !== undefined ? { onread: read } : {}) })
  }

  const accept = (accepted: Socket): void => {
    if (!useOnread) {
      const upstream = dial(null)
      accepted.on('data', relay(accepted, upstream))
      upstream.on('data', relay(upstream, accepted))
      join(accepted, upstream)
      return
    }
    let client: Socket = accepted
    let upstream: Socket | null = null
    const toUpstream = (chunk: Buffer): void => { if (upstream !== null && !upstream.write(chunk)) client.pause() }
    if (tlsIn === null) {
      // the accepted socket, paused and never read, gives its handle to one that reads with onread
      const handle = (accepted as unknown as { _handle: unknown })._handle
      ;(accepted as unknown as { _handle: unknown })._handle = null
      client = new Socket({ handle, readable: true, writable: true, onread: onread(toUpstream) } as ConstructorParameters<typeof Socket>[0])
    } else {
      client.on('data', toUpstream)
    }
    const up = dial(chunk => { if (!client.write(chunk)) up.pause() })
    upstream = up
    up.on('drain', () => client.resume())
    client.on('drain', () => up.resume())
    join(client, up)
    client.resume()
  }

  const server: Server = tlsIn === null
    ? createServer({ pauseOnConnect: useOnread }, accept)
    : tlsCreateServer({ cert: tlsIn.cert, key: tlsIn.key, ca: tlsIn.ca, requestCert: true, rejectUnauthorized: true }, accept)
  server.listen(listen, '127.0.0.1')
  process.on('SIGTERM', () => process.exit(0))
}

main()
