// The first bytes of a connection on a permissive (or disabled) TLS listener: a TLS record header
// of a handshake (0x16 0x03 0x00-0x04) is a ClientHello; anything else is a Kafka request, whose
// size prefix would have to be 0x16xxxxxx (over 369 MB) to look like one. What was read is put
// back (unshift) and the socket paused: the TLS socket that wraps it, or the session, reads it
// again (a TLSSocket feeds the wrapped socket's buffered bytes to OpenSSL first).
import type { Socket } from 'node:net'
import { looksLikeTlsClientHello } from '@kproxy/core/tls/handshake-failure'

export type Sniffed = 'tls' | 'plaintext' | 'gone'

const TLS_HANDSHAKE_RECORD = 0x16

export function sniffTls (socket: Socket, timeoutMs: number, done: (kind: Sniffed) => void): void {
  let seen: Buffer | null = null
  let finished = false
  const finish = (kind: Sniffed): void => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    socket.off('data', onData)
    socket.off('end', onGone)
    socket.off('close', onGone)
    socket.off('error', onGone)
    if (kind === 'gone') {
      socket.destroy()
    } else {
      socket.pause()
      if (seen !== null) socket.unshift(seen)
    }
    done(kind)
  }
  const onData = (chunk: Buffer): void => {
    seen = seen === null ? chunk : Buffer.concat([seen, chunk])
    if (seen[0] !== TLS_HANDSHAKE_RECORD) finish('plaintext')
    else if (seen.length >= 3) finish(looksLikeTlsClientHello(seen) ? 'tls' : 'plaintext')
  }
  const onGone = (): void => finish('gone')
  // a client that says nothing is not kept forever (Kafka and TLS clients both speak first)
  const timer = setTimeout(onGone, timeoutMs)
  socket.on('data', onData)
  socket.once('end', onGone)
  socket.once('close', onGone)
  socket.once('error', onGone)
  socket.resume()
}
