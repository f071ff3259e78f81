// The listening sockets of one worker: a port per key (the bootstrap port, one per broker in broker
// mode), plain or TLS, all with SO_REUSEPORT so that every worker thread listens on the same ports
// and the kernel spreads connections between them. TLS listeners verify the client certificate
// and hand the principal along; with SNI, the server name picks what the connection stands for.
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Logger } from 'pino'
import type { DownstreamTls } from './downstream-tls.ts'

export interface Accepted<K> {
  readonly socket: Socket
  readonly key: K
  // from the verified client certificate; null on a plaintext listener
  readonly principal: string | null
}

export interface ListenerSetOptions<K> {
  readonly host: string
  readonly reusePort: boolean
  readonly tls: DownstreamTls | null
  readonly logger: Logger
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
    const server: Server = o.tls !== null
      ? o.tls.createServer(socket => this.#acceptTls(socket, key))
      : createServer({ pauseOnConnect: true, noDelay: true }, socket => this.#accept(socket, key, null))
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

  #accept (socket: Socket, key: K, principal: string | null): void {
    if (this.#closed) {
      socket.destroy()
      return
    }
    this.#options.accept({ socket, key, principal })
  }

  #acceptTls (socket: TLSSocket, key: K): void {
    const tls = this.#options.tls!
    const principal = tls.verify(socket)
    if (principal === null) return // refused, logged and counted
    const routed = this.#options.route !== undefined ? this.#options.route(socket, key) : key
    if (routed === null) return
    this.#accept(socket, routed, principal)
  }
}
