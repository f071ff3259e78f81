// One Kafka connection of the load generator: raw socket, frames split by core's FrameReader,
// responses matched to requests in order (a broker answers one connection's requests in the
// order it received them). The caller tags each request with a number (e.g. its slot in a ring
// of send times) and gets the tag back with the response: no closure per request.
import { readFileSync } from 'node:fs'
import { connect, isIP } from 'node:net'
import type { Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'
import type { ConnectionOptions } from 'node:tls'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { FrameReader, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'

export interface ConnectionListener {
  onResponse (conn: BenchConnection, tag: number, payload: Buffer): void
  onFailure (conn: BenchConnection, err: Error): void
}

export const CONNECT_TIMEOUT_MS = 5000

// --tls-ca / --tls-cert / --tls-key: every connection of this thread (setup and load) uses TLS
let tlsOptions: ConnectionOptions | null = null

export function useTls (tls: { ca: string, cert: string | null, key: string | null } | null): void {
  if (tls === null) {
    tlsOptions = null
    return
  }
  try {
    tlsOptions = { ca: readFileSync(tls.ca), ...(tls.cert !== null ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key!) } : {}) }
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_BENCH_USAGE', `Cannot read a TLS file: ${(err as Error).message}.`)
  }
}

export class BenchConnection {
  readonly host: string
  readonly port: number
  readonly socket: Socket
  listener: ConnectionListener
  // requests awaiting a response, oldest first: tags and correlation ids in two rings
  #tags: number[] = []
  #ids: number[] = []
  #head = 0
  #nextId = 1
  #failed = false
  bytesOut = 0
  bytesIn = 0

  private constructor (host: string, port: number, socket: Socket, listener: ConnectionListener) {
    this.host = host
    this.port = port
    this.socket = socket
    this.listener = listener
    const reader = new FrameReader({
      onFrame: (frame: Frame) => this.#onFrame(frame),
      onError: err => this.#fail(err)
    })
    socket.on('data', (chunk: Buffer) => { this.bytesIn += chunk.length; reader.push(chunk) })
    socket.on('error', err => this.#fail(new KproxyError('KPROXY_ERR_BENCH_CONNECTION', `connection to ${host}:${port} failed: ${err.message}`)))
    socket.on('close', () => this.#fail(new KproxyError('KPROXY_ERR_BENCH_CONNECTION', `${host}:${port} closed the connection`)))
  }

  static open (host: string, port: number, listener: ConnectionListener, timeoutMs = CONNECT_TIMEOUT_MS): Promise<BenchConnection> {
    return new Promise((resolve, reject) => {
      const socket = tlsOptions === null ? connect({ host, port }) : connectTls({ ...tlsOptions, host, port, ...(isIP(host) === 0 ? { servername: host } : {}) })
      const ready = tlsOptions === null ? 'connect' : 'secureConnect'
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new KproxyError('KPROXY_ERR_BENCH_CONNECT', `Cannot connect to ${host}:${port} within ${timeoutMs} ms; check that the target is running.`))
      }, timeoutMs)
      socket.once(ready, () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        socket.setNoDelay(true)
        resolve(new BenchConnection(host, port, socket, listener))
      })
      socket.once('error', err => {
        clearTimeout(timer)
        reject(new KproxyError('KPROXY_ERR_BENCH_CONNECT', `Cannot connect to ${host}:${port} (${(err as NodeJS.ErrnoException).code ?? err.message}); check that the target is running.`))
      })
    })
  }

  get inFlight (): number { return this.#tags.length - this.#head }

  // The next correlation id; the caller encodes the request with it, then calls send().
  nextCorrelationId (): number {
    const id = this.#nextId
    this.#nextId = id === 0x7fffffff ? 1 : id + 1
    return id
  }

  // Writes a request's chunks; expectResponse=false for Produce with acks=0. Returns whether the
  // socket's buffer is below its high-water mark.
  send (chunks: readonly Buffer[], correlationId: number, tag: number, expectResponse: boolean): boolean {
    if (expectResponse) {
      this.#tags.push(tag)
      this.#ids.push(correlationId)
    }
    let ok = true
    this.socket.cork()
    for (const c of chunks) {
      this.bytesOut += c.length
      ok = this.socket.write(c)
    }
    this.socket.uncork()
    return ok
  }

  // Flushes what was written (acks=0 requests may still be buffered), then closes.
  close (): void {
    this.#failed = true
    this.socket.end()
    setTimeout(() => this.socket.destroy(), 2000).unref()
  }

  #onFrame (frame: Frame): void {
    if (this.#head >= this.#tags.length) {
      this.#fail(new KproxyError('KPROXY_ERR_BENCH_PROTOCOL', `${this.host}:${this.port} sent a response to no request`))
      return
    }
    const payload = frameToBuffer(frame)
    const id = payload.length >= 4 ? payload.readInt32BE(0) : -1
    const want = this.#ids[this.#head]
    const tag = this.#tags[this.#head]
    this.#head++
    // compact the rings now and then instead of shifting on every response
    if (this.#head > 1024 && this.#head * 2 > this.#tags.length) {
      this.#tags = this.#tags.slice(this.#head)
      this.#ids = this.#ids.slice(this.#head)
      this.#head = 0
    }
    if (id !== want) {
      this.#fail(new KproxyError('KPROXY_ERR_BENCH_PROTOCOL', `${this.host}:${this.port} answered correlation id ${id}, expected ${want}`))
      return
    }
    this.listener.onResponse(this, tag, payload)
  }

  #fail (err: Error): void {
    if (this.#failed) return
    this.#failed = true
    this.socket.destroy()
    this.listener.onFailure(this, err)
  }
}

// Request/response for setup steps (Metadata, CreateTopics, ListOffsets): one at a time, with a
// timeout on every await.
export class SetupConnection implements ConnectionListener {
  #conn: BenchConnection | null = null
  #waiting: { resolve: (p: Buffer) => void, reject: (e: Error) => void } | null = null
  #failure: Error | null = null

  static async open (host: string, port: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<SetupConnection> {
    const s = new SetupConnection()
    s.#conn = await BenchConnection.open(host, port, s, timeoutMs)
    return s
  }

  get connection (): BenchConnection { return this.#conn! }

  onResponse (_conn: BenchConnection, _tag: number, payload: Buffer): void {
    const w = this.#waiting
    this.#waiting = null
    w?.resolve(payload)
  }

  onFailure (_conn: BenchConnection, err: Error): void {
    this.#failure = err
    const w = this.#waiting
    this.#waiting = null
    w?.reject(err)
  }

  // encode(correlationId) gives the frame; resolves with the response payload.
  request (encode: (correlationId: number) => Buffer[], what: string, timeoutMs = 15_000): Promise<Buffer> {
    if (this.#failure !== null) return Promise.reject(this.#failure)
    const conn = this.#conn!
    const id = conn.nextCorrelationId()
    const chunks = encode(id).map(c => Buffer.from(c))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = null
        conn.close()
        reject(new KproxyError('KPROXY_ERR_BENCH_TIMEOUT', `${conn.host}:${conn.port} did not answer ${what} within ${timeoutMs} ms.`))
      }, timeoutMs)
      this.#waiting = {
        resolve: p => { clearTimeout(timer); resolve(p) },
        reject: e => { clearTimeout(timer); reject(e) }
      }
      conn.send(chunks, id, 0, true)
    })
  }

  close (): void { this.#conn?.close() }
}
