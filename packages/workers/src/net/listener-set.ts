// The listening sockets of one worker: a port per key (the bootstrap port, one per broker in broker
// mode), plain or TLS, all with SO_REUSEPORT so that every worker thread listens on the same ports
// and the kernel spreads connections between them. TLS listeners verify the client certificate
// and hand the principal along; with SNI, the server name picks what the connection stands for.
//
// A TLS listener is a plain TCP server in front of a TLS server that never listens itself: in
// mode strict every connection goes straight to the TLS server (nothing is read first); in
// permissive and disabled the first bytes are read (tls-sniff.ts), a TLS ClientHello goes to the
// TLS server (disabled: refused) and anything else is a plaintext connection. The mode is read
// at each connection, so a reload switches it without rebinding.
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Logger } from 'pino'
import type { TlsMode } from '@kproxy/core/config/proxy-config'
import type { DownstreamTls } from './downstream-tls.ts'
import { sniffTls } from './tls-sniff.ts'
import { readWithoutStream } from './accepted-reads.ts'

export interface Accepted<K> {
  readonly socket: Socket
  readonly key: K
  // from the verified client certificate; null on a plaintext listener or for a plaintext
  // connection on a permissive one
  readonly principal: string | null
  // a plaintext connection on a TLS listener (mode permissive or disabled)
  readonly plaintext: boolean
}

export interface ListenerSetOptions<K> {
  readonly host: string
  readonly reusePort: boolean
  readonly tls: DownstreamTls | null
  readonly logger: Logger
  // the TLS listeners' mode now (a reload may change it); default strict
  tlsMode? (): TlsMode
  // a TLS connection may stand for another key than its port's (SNI); null refuses it (the
  // callback has refused and logged it)
  route? (socket: TLSSocket, key: K): K | null
  accept (connection: Accepted<K>): void
}

export class ListenerSet<K> {
  readonly #options: ListenerSetOptions<K>
  readonly #servers = new Map<K, Server>()
  #closed = false

  constructor (options: ListenerSetOptions<K>) {
    this.#options = options
  }

  has (key: K): boolean { return this.#servers.has(key) }
  get closed (): boolean { return this.#closed }

  // Listens on `port` for `key`; resolves once bound, rejects (logged) when it cannot be.
  listen (key: K, port: number): Promise<void> {
    const o = this.#options
    let server: Server
    if (o.tls !== null) {
      const tlsServer = o.tls.createServer(socket => this.#acceptTls(socket, key))
      server = createServer({ pauseOnConnect: true, noDelay: true }, socket => this.#sniff(socket, key, tlsServer))
      server.on('close', () => tlsServer.close(ignore))
    } else {
      // a plaintext listener's sockets read without the Readable stream (accepted-reads.ts)
      server = createServer({ pauseOnConnect: true, noDelay: true }, socket => this.#accept(readWithoutStream(socket), key, null, false))
    }
    this.#servers.set(key, server)
    const host = o.host
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        o.logger.error({ code: 'KPROXY_ERR_LISTEN', host, port, err: err.message }, `cannot listen on ${host}:${port}: ${err.message}`)
        if (this.#servers.get(key) === server) this.#servers.delete(key)
        reject(err)
      }
      server.once('error', onError)
      server.listen({ host, port, reusePort: o.reusePort }, () => {
        server.off('error', onError)
        server.on('error', err => o.logger.error({ code: 'KPROXY_ERR_LISTEN', host, port, err: err.message }, 'listener error'))
        o.logger.debug({ host, port, target: key }, 'listening')
        resolve()
      })
    })
  }

  // Stops listening on one key's port (connections already open carry on).
  stop (key: K): boolean {
    const server = this.#servers.get(key)
    if (server === undefined) return false
    this.#servers.delete(key)
    server.close()
    return true
  }

  // Stops listening everywhere; close() stops at once (its callback would wait for every
  // connection to end).
  close (): void {
    this.#closed = true
    for (const server of this.#servers.values()) server.close()
    this.#servers.clear()
    this.#options.tls?.close()
  }

  #accept (socket: Socket, key: K, principal: string | null, plaintext: boolean): void {
    if (this.#closed) {
      socket.destroy()
      return
    }
    this.#options.accept({ socket, key, principal, plaintext })
  }

  #sniff (socket: Socket, key: K, tlsServer: Server): void {
    const tls = this.#options.tls!
    const mode = this.#options.tlsMode?.() ?? 'strict'
    if (mode === 'strict') {
      tlsServer.emit('connection', socket)
      return
    }
    sniffTls(socket, tls.config.handshakeTimeoutMs, kind => {
      if (kind === 'gone') return
      if (kind === 'tls') {
        // the mode may have changed while the first bytes were on their way
        if ((this.#options.tlsMode?.() ?? 'strict') === 'disabled') {
          tls.refuse(socket as TLSSocket, 'tls_on_plaintext_port', 'a TLS ClientHello on a listener whose brokerMode.tls.mode is disabled')
          return
        }
        tlsServer.emit('connection', socket)
        return
      }
      if ((this.#options.tlsMode?.() ?? 'strict') === 'strict') {
        tls.refuse(socket as TLSSocket, 'not_tls', 'a plaintext connection on a listener whose brokerMode.tls.mode is strict')
        return
      }
      this.#accept(socket, key, null, true)
    })
  }

  #acceptTls (socket: TLSSocket, key: K): void {
    const tls = this.#options.tls!
    const principal = tls.verify(socket)
    if (principal === null) return // refused, logged and counted
    const routed = this.#options.route !== undefined ? this.#options.route(socket, key) : key
    if (routed === null) return
    this.#accept(socket, routed, principal, false)
  }
}

function ignore (): void {}
