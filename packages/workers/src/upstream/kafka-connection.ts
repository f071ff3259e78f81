// One connection from kproxy to a Kafka broker (or to the broker side of a double proxy): dialing
// (plain or TLS, with a connect timeout), pipelined requests, responses matched to their requests
// in order, backpressure, and a plain-promise request() for kproxy's own lookups (start-up probe,
// metadata refresh). Used by the routes for client traffic and by the cluster view.
//
// Correlation ids: a connection dedicated to one client ('client' ids, broker mode) sends the
// client's ids unchanged and checks that the broker answers them in order. A connection shared by
// several clients ('own' ids, mesh mode) numbers requests itself: the id in a forwarded frame is
// overwritten in place (the frame's bytes are kproxy's own read buffer) and the client's id is put
// back into the response the same way. No copy either way.
//
// Hot path: the response reader and the socket listeners are bound once; pending requests live in
// parallel arrays of a ring; responses go to their target's upstreamResponse(), and once per socket
// read every target that got one is told upstreamBatchEnd() so that it writes them in one go.
//
// Static read buffers (option staticReads, read-slabs.ts): the socket's large reads go into
// reused slabs (small ones are copied out of a shared buffer). The reader's partial frame holds its slabs (#readerHolds, re-taken after every read); a frame
// goes as it is only to a target that says it borrows frames (borrowsFrames), every other target
// (kproxy's own requests, the SASL login, a SASL v0 relay) gets a copy.
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { HostPort } from '@kproxy/core/config/proxy-config'
import { FrameReader, framePrefix, frameToBuffer, frameHead } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { decodeResponse, encodeRequest } from '@kproxy/core/protocol/codec'
import type { ResponseHeader } from '@kproxy/core/protocol/headers'
import { isKproxyError, KproxyError } from '@kproxy/core/kproxy-error'
import type { KproxyCode } from '@kproxy/core/kproxy-error'
import type { TlsFailureReason } from '@kproxy/core/tls/handshake-failure'
import type { ClientIdentity, UpstreamDialer } from '../net/upstream-dialer.ts'
import { WriteBatch } from '../net/write-batch.ts'
import { ownBuffer, ownFrame, SlabHolds, SlabReader, STATIC_READ_BUFFERS } from '../net/read-slabs.ts'
import { UpstreamSaslExchange } from './upstream-sasl-login.ts'

// Who gets a response.
export interface ResponseTarget {
  upstreamResponse (tag: unknown, frame: Frame): void
  // every response of one socket read has been delivered
  upstreamBatchEnd (): void
  // the connection closed before this request was answered (a shared connection's users answer
  // the request themselves; a dedicated one's owner closes the client instead)
  upstreamLost? (tag: unknown): void
  // true: the target takes frames whose bytes may be views of a static read buffer: they are
  // valid until its upstreamBatchEnd() returns, and it keeps nothing of them beyond that except
  // through a WriteBatch (which holds the slabs) or a copy (ownFrame). Otherwise the connection
  // hands it a copy.
  readonly borrowsFrames?: boolean
}

export interface ConnectionListener {
  // connected (and TLS-handshaken): requests may be sent
  upstreamReady (conn: KafkaConnection): void
  // the write buffer went over its high-water mark (true), or drained (false)
  upstreamFull (conn: KafkaConnection, full: boolean): void
  // kproxy's SASL login was renewed on the open connection (KIP-368)
  upstreamReauthenticated? (conn: KafkaConnection): void
  // closed; `failure` says why when it was not asked for (see UpstreamFailure)
  upstreamClosed (conn: KafkaConnection, failure: UpstreamFailure | null): void
}

// Why a connection ended. `phase` tells a failed dial from a broken connection.
export interface UpstreamFailure {
  readonly phase: 'connect' | 'open'
  readonly code: KproxyCode
  readonly message: string
  // the TLS handshake failed (phase 'connect')
  readonly tls: TlsFailureReason | null
  // kproxy's own descriptor limit, not the broker's health
  readonly ownLimit: boolean
}

export type CorrelationMode = 'client' | 'own'

// 'authenticating': connected, kproxy's own SASL login (dialer.login) runs; requests queue
// 'reauthenticating': the login again before the broker's session ends (KIP-368); requests sent
// before it are still answered, new ones queue until it succeeded
export type ConnectionState = 'connecting' | 'authenticating' | 'ready' | 'reauthenticating' | 'passthrough' | 'closed'

export interface KafkaConnectionOptions {
  readonly dialer: UpstreamDialer
  readonly address: HostPort
  readonly connectTimeoutMs: number
  readonly maxFrameSize: number
  readonly correlation: CorrelationMode
  readonly listener: ConnectionListener
  // upstreamIdentity: certificate: the client's own certificate (then kproxy's SASL login, which
  // would replace that identity on the broker, is not done)
  readonly identity?: ClientIdentity | null
  // read into reused slabs (read-slabs.ts); for connections whose targets borrow frames (a broker
  // route's); default false
  readonly staticReads?: boolean
}

const INITIAL_PENDING = 8
// setTimeout's largest delay (a longer one fires at once)
const MAX_TIMER_MS = 2_147_483_647

interface OwnRequest {
  apiKey: number
  apiVersion: number
  resolve (r: { header: ResponseHeader, body: any }): void
  reject (err: Error): void
}

export class KafkaConnection implements ResponseTarget {
  readonly address: HostPort
  readonly name: string
  readonly #options: KafkaConnectionOptions
  readonly #listener: ConnectionListener
  readonly #socket: Socket
  readonly #reader: FrameReader
  // requests: in broker mode views of the client socket's static read buffers (accepted-reads.ts),
  // held until written
  readonly #out = new WriteBatch({ slabViews: STATIC_READ_BUFFERS })
  readonly #slabs: SlabReader | null
  // the slabs of the reader's partial frame
  readonly #readerHolds = new SlabHolds()
  #state: ConnectionState = 'connecting'
  #connectTimer: NodeJS.Timeout | null
  #full = false
  #onRaw: ((chunk: Buffer) => void) | null = null
  // pending requests (ring of parallel arrays)
  #cap = INITIAL_PENDING
  #head = 0
  #length = 0
  #targets: Array<ResponseTarget | undefined> = new Array(INITIAL_PENDING)
  #tags: unknown[] = new Array(INITIAL_PENDING)
  #ids = new Int32Array(INITIAL_PENDING)
  #clientIds = new Int32Array(INITIAL_PENDING)
  #nextId = 1
  // targets that got a response during the current socket read
  readonly #touched: ResponseTarget[] = []
  // responses seen: a connection that answered once is known to work
  answered = 0
  #login: UpstreamSaslExchange | null = null
  #reauthTimer: NodeJS.Timeout | null = null
  // during a re-authentication: answers still due to requests written before its handshake
  #beforeLogin = 0

  constructor (options: KafkaConnectionOptions) {
    this.#options = options
    this.#listener = options.listener
    this.address = options.address
    this.name = `${options.address.host}:${options.address.port}`
    this.#reader = new FrameReader({
      maxFrameSize: options.maxFrameSize,
      onFrame: this.#onResponse.bind(this),
      onError: this.#onFrameError.bind(this)
    })
    const onData = this.#onData.bind(this)
    this.#slabs = options.staticReads === true ? new SlabReader(onData) : null
    const socket = options.dialer.dial(options.address, options.identity ?? null, this.#slabs?.option ?? null)
    this.#socket = socket
    socket.setNoDelay(true)
    this.#connectTimer = setTimeout(this.#onConnectTimeout.bind(this), options.connectTimeoutMs)
    socket.once(options.dialer.readyEvent, this.#onConnect.bind(this))
    // with static reads Node calls the onread callback instead of emitting 'data' (a dialer that
    // ignored the option: 'data', with ordinary buffers)
    socket.on('data', onData)
    socket.on('drain', this.#onDrain.bind(this))
    socket.on('error', this.#onError.bind(this))
    socket.on('close', this.#onClose.bind(this))
  }

  get state (): ConnectionState { return this.#state }
  // requests may be sent (a re-authentication holds them back a moment, it does not refuse them)
  get ready (): boolean { return this.#state === 'ready' || this.#state === 'reauthenticating' }
  // requests sent and not answered yet
  get pending (): number { return this.#length }
  get secure (): boolean { return this.#options.dialer.secure }

  // ---- sending ---------------------------------------------------------------------------------

  // Queues a request for the next flush(). `target` null: no response is expected (acks=0).
  // `frame`: forwarded as it arrived; `frames`: encoded, size prefix included.
  send (target: ResponseTarget | null, tag: unknown, frame: Frame | null, frames: readonly Buffer[] | null): void {
    let clientId = 0
    let id = 0
    if (this.#options.correlation === 'own') {
      id = this.#nextId
      this.#nextId = (this.#nextId + 1) & 0x7fffffff
      clientId = frame !== null ? setFrameInt32(frame, 4, id) : setFramesInt32(frames!, 8, id)
    } else if (target !== null) {
      id = frame !== null ? frameHead(frame, 8).readInt32BE(4) : readFramesInt32(frames!, 8)
    }
    if (target !== null) this.#push(target, tag, id, clientId)
    const out = this.#out
    if (frame !== null) {
      out.add(framePrefix(frame))
      const chunks = frame.chunks
      for (let i = 0; i < chunks.length; i++) out.add(chunks[i]!)
    } else {
      for (let i = 0; i < frames!.length; i++) out.add(frames![i]!)
    }
  }

  flush (): void {
    const out = this.#out
    if (out.empty) return
    if (this.#state !== 'ready' && this.#state !== 'passthrough') {
      if (this.#state === 'closed') out.clear()
      return
    }
    out.flush(this.#socket)
    if (out.full && !this.#full) {
      this.#full = true
      this.#listener.upstreamFull(this, true)
    }
  }

  // kproxy's own request (probe, metadata): decoded response, or an error. Not for the data path.
  request (apiKey: number, apiVersion: number, body: unknown, clientId = 'kproxy'): Promise<{ header: ResponseHeader, body: any }> {
    return new Promise((resolve, reject) => {
      if (this.#state === 'closed') {
        reject(new KproxyError('KPROXY_ERR_UPSTREAM_CLOSED', `upstream ${this.name} is closed`))
        return
      }
      // 'own' mode numbers it in send(); a connection of kproxy's own has no client ids to clash with
      const id = this.#nextId++
      const frames = encodeRequest({ apiKey, apiVersion, correlationId: id, clientId }, body)
      const tag: OwnRequest = { apiKey, apiVersion, resolve, reject }
      this.send(this, tag, null, frames)
      this.flush()
    })
  }

  upstreamResponse (tag: unknown, frame: Frame): void {
    const own = tag as OwnRequest
    try {
      own.resolve(decodeResponse(frameToBuffer(frame), own.apiKey, own.apiVersion))
    } catch (err) {
      own.reject(err as Error)
    }
  }

  upstreamBatchEnd (): void {}

  // ---- flow control ------------------------------------------------------------------------------

  pauseReading (): void {
    if (this.#state !== 'closed' && !this.#socket.isPaused()) this.#socket.pause()
  }

  resumeReading (): void {
    if (this.#state !== 'closed' && this.#socket.isPaused()) this.#socket.resume()
  }

  // From now on every byte from the broker goes to onRaw, and writeRaw() sends bytes as they are.
  passthrough (onRaw: (chunk: Buffer) => void): void {
    if (this.#state !== 'ready') return
    this.#state = 'passthrough'
    // the raw relay (SASL v0, rare) gets copies: its owner may keep them
    this.#onRaw = this.#slabs === null ? onRaw : (chunk: Buffer) => onRaw(ownBuffer(chunk))
  }

  writeRaw (chunk: Buffer): void {
    this.#out.add(chunk)
  }

  // ---- socket events -----------------------------------------------------------------------------

  #onConnect (): void {
    if (this.#state !== 'connecting') return
    const login = this.#options.identity != null ? null : this.#options.dialer.login ?? null
    if (login !== null) {
      // the connect timeout covers the login too
      this.#state = 'authenticating'
      this.#login = new UpstreamSaslExchange(login, this.name, this.#writeLogin.bind(this), this.#loggedIn.bind(this))
      this.#login.start()
      return
    }
    this.#opened()
  }

  #opened (): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    this.#state = 'ready'
    this.#listener.upstreamReady(this)
    this.flush()
  }

  #writeLogin (frames: readonly Buffer[]): void {
    if (this.#state !== 'authenticating' && this.#state !== 'reauthenticating') return
    for (const f of frames) this.#socket.write(f)
  }

  #loggedIn (err: KproxyError | null, sessionLifetimeMs: number): void {
    this.#login = null
    const again = this.#state === 'reauthenticating'
    if (this.#state !== 'authenticating' && !again) return
    if (err !== null) {
      this.#failed({ phase: 'open', code: err.code, message: again ? `re-authentication: ${err.message}` : err.message, tls: null, ownLimit: false })
      return
    }
    this.#scheduleReauth(sessionLifetimeMs)
    if (!again) {
      this.#opened()
      return
    }
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    this.#state = 'ready'
    this.#listener.upstreamReauthenticated?.(this)
    this.flush()
  }

  // As Kafka's Java client: at a random point between 85 % and 95 % of the session's lifetime, so
  // that the connections of one kproxy do not all log in again at once.
  #scheduleReauth (sessionLifetimeMs: number): void {
    if (!(sessionLifetimeMs > 0)) return
    const delay = Math.max(1, Math.floor(sessionLifetimeMs * (0.85 + Math.random() * 0.1)))
    this.#reauthTimer = setTimeout(this.#reauthenticate.bind(this), Math.min(delay, MAX_TIMER_MS))
    this.#reauthTimer.unref()
  }

  // KIP-368: SaslHandshake and SaslAuthenticate again on the same socket. Everything queued so far
  // is written first; the broker answers those before the handshake, and later requests wait.
  #reauthenticate (): void {
    this.#reauthTimer = null
    if (this.#state !== 'ready') return
    const login = this.#options.identity != null ? null : this.#options.dialer.login ?? null
    if (login === null) return
    this.flush()
    this.#beforeLogin = this.#length
    this.#state = 'reauthenticating'
    this.#connectTimer = setTimeout(this.#onConnectTimeout.bind(this), this.#options.connectTimeoutMs)
    this.#login = new UpstreamSaslExchange(login, this.name, this.#writeLogin.bind(this), this.#loggedIn.bind(this))
    this.#login.start()
  }

  #onConnectTimeout (): void {
    this.#connectTimer = null
    if (this.#state === 'authenticating' || this.#state === 'reauthenticating') {
      this.#failed({ phase: 'open', code: 'KPROXY_ERR_UPSTREAM_SASL', message: `kproxy's SASL ${this.#state === 'authenticating' ? 'login' : 're-authentication'} to ${this.name} did not finish within ${this.#options.connectTimeoutMs} ms`, tls: null, ownLimit: false })
      return
    }
    this.#failed({ phase: 'connect', code: 'KPROXY_ERR_UPSTREAM_CONNECT', message: `connecting to ${this.name} took longer than ${this.#options.connectTimeoutMs} ms`, tls: null, ownLimit: false })
  }

  #onData (chunk: Buffer): void {
    if (this.#onRaw !== null) {
      this.#onRaw(chunk)
      return
    }
    const reader = this.#reader
    try {
      reader.push(chunk)
    } catch (err) {
      this.#failed({ phase: 'open', code: isKproxyError(err) ? err.code : 'KPROXY_ERR_INTERNAL', message: `while handling a response from ${this.name}: ${(err as Error).message}`, tls: null, ownLimit: false })
      return
    } finally {
      // before the socket may read into this chunk's slab again
      if (this.#slabs !== null) this.#readerHolds.hold(reader.pendingPrefix, reader.pendingChunks)
    }
    const touched = this.#touched
    for (let i = 0; i < touched.length; i++) touched[i]!.upstreamBatchEnd()
    touched.length = 0
  }

  #onResponse (frame: Frame): void {
    if (this.#state === 'closed') return
    if (this.#state === 'authenticating' || (this.#state === 'reauthenticating' && this.#beforeLogin === 0)) {
      this.#login?.response(frameToBuffer(this.#slabs === null ? frame : ownFrame(frame)))
      return
    }
    if (this.#state === 'reauthenticating') this.#beforeLogin--
    if (frame.size < 4 || this.#length === 0) {
      this.#failed({ phase: 'open', code: 'KPROXY_ERR_UPSTREAM_PROTOCOL', message: this.#length === 0 ? 'the broker sent a response to no request' : 'the broker sent a frame too short for a response header', tls: null, ownLimit: false })
      return
    }
    const h = this.#head
    const id = frameHead(frame, 4).readInt32BE(0)
    if (id !== this.#ids[h]) {
      this.#failed({ phase: 'open', code: 'KPROXY_ERR_UPSTREAM_PROTOCOL', message: `the broker answered correlation id ${id} while ${this.#ids[h]} was the oldest request in flight`, tls: null, ownLimit: false })
      return
    }
    const target = this.#targets[h]!
    const tag = this.#tags[h]
    if (this.#options.correlation === 'own' && target !== this) setFrameInt32(frame, 0, this.#clientIds[h]!)
    this.#targets[h] = undefined
    this.#tags[h] = undefined
    this.#head = (h + 1) & (this.#cap - 1)
    this.#length--
    this.answered++
    const touched = this.#touched
    if (touched.length === 0 || touched[touched.length - 1] !== target) {
      if (!touched.includes(target)) touched.push(target)
    }
    target.upstreamResponse(tag, this.#slabs === null || target.borrowsFrames === true ? frame : ownFrame(frame))
  }

  #onDrain (): void {
    if (!this.#full) return
    this.#full = false
    this.#listener.upstreamFull(this, false)
  }

  #onFrameError (err: KproxyError): void {
    this.#failed({ phase: 'open', code: err.code, message: `upstream ${this.name}: ${err.message}`, tls: null, ownLimit: false })
  }

  #onError (err: Error): void {
    const errno = (err as NodeJS.ErrnoException).code
    if (errno === 'EMFILE' || errno === 'ENFILE') {
      this.#failed({ phase: this.#state === 'connecting' ? 'connect' : 'open', code: 'KPROXY_ERR_TOO_MANY_OPEN_FILES', message: `no file descriptor left for the upstream connection (${errno}): each client connection needs two, so raise kproxy's open-files limit (ulimit -n, systemd LimitNOFILE) or accept fewer clients`, tls: null, ownLimit: true })
      return
    }
    if (this.#state === 'connecting') {
      const tls = this.#options.dialer.handshakeFailed(this.#socket, err)
      this.#failed({ phase: 'connect', code: tls !== null ? 'KPROXY_ERR_UPSTREAM_TLS' : 'KPROXY_ERR_UPSTREAM_CONNECT', message: tls !== null ? `${tls}: ${err.message}` : err.message, tls, ownLimit: false })
      return
    }
    this.#failed({ phase: 'open', code: 'KPROXY_ERR_UPSTREAM_SOCKET', message: `upstream ${this.name} socket error: ${err.message}`, tls: null, ownLimit: false })
  }

  #onClose (): void {
    if (this.#state === 'connecting') {
      this.#failed({ phase: 'connect', code: 'KPROXY_ERR_UPSTREAM_CONNECT', message: 'the connection closed', tls: null, ownLimit: false })
      return
    }
    this.#failed({ phase: 'open', code: 'KPROXY_ERR_UPSTREAM_CLOSED', message: `upstream ${this.name} closed the connection with ${this.#length} request(s) in flight`, tls: null, ownLimit: false })
  }

  // ---- closing -----------------------------------------------------------------------------------

  #failed (failure: UpstreamFailure): void {
    if (this.#state === 'closed') return
    this.#shut()
    this.#rejectOwn(new KproxyError(failure.code, failure.message))
    this.#listener.upstreamClosed(this, failure)
  }

  // Closes without telling the listener (its owner asked).
  close (): void {
    if (this.#state === 'closed') return
    this.#shut()
    this.#rejectOwn(new KproxyError('KPROXY_ERR_UPSTREAM_CLOSED', `the connection to ${this.name} was closed by kproxy`))
  }

  #shut (): void {
    this.#state = 'closed'
    this.#login?.abandon()
    this.#login = null
    if (this.#reauthTimer !== null) clearTimeout(this.#reauthTimer)
    this.#reauthTimer = null
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
    this.#out.clear()
    this.#socket.removeAllListeners('data')
    this.#socket.on('error', ignore)
    this.#socket.destroy()
    this.#readerHolds.clear()
    if (this.#slabs !== null) {
      // the handle reads no more once it has closed
      const slabs = this.#slabs
      if (this.#socket.closed) slabs.close()
      else this.#socket.once('close', () => slabs.close())
    }
  }

  #rejectOwn (err: Error): void {
    const lost: Array<[ResponseTarget, unknown]> = []
    for (let k = 0; k < this.#length; k++) {
      const i = (this.#head + k) & (this.#cap - 1)
      const target = this.#targets[i]
      if (target === this) (this.#tags[i] as OwnRequest).reject(err)
      else if (target?.upstreamLost !== undefined) lost.push([target, this.#tags[i]])
      this.#targets[i] = undefined
      this.#tags[i] = undefined
    }
    this.#length = 0
    for (const [target, tag] of lost) target.upstreamLost!(tag)
  }

  #push (target: ResponseTarget, tag: unknown, id: number, clientId: number): void {
    if (this.#length === this.#cap) this.#grow()
    const i = (this.#head + this.#length) & (this.#cap - 1)
    this.#targets[i] = target
    this.#tags[i] = tag
    this.#ids[i] = id
    this.#clientIds[i] = clientId
    this.#length++
  }

  #grow (): void {
    const cap = this.#cap * 2
    const targets: Array<ResponseTarget | undefined> = new Array(cap)
    const tags: unknown[] = new Array(cap)
    const ids = new Int32Array(cap)
    const clientIds = new Int32Array(cap)
    for (let k = 0; k < this.#length; k++) {
      const i = (this.#head + k) & (this.#cap - 1)
      targets[k] = this.#targets[i]
      tags[k] = this.#tags[i]
      ids[k] = this.#ids[i]!
      clientIds[k] = this.#clientIds[i]!
    }
    this.#targets = targets
    this.#tags = tags
    this.#ids = ids
    this.#clientIds = clientIds
    this.#cap = cap
    this.#head = 0
  }
}

function ignore (): void {}

// Writes a big-endian int32 at `offset` of a frame's payload (across chunk boundaries); returns
// the value that was there.
export function setFrameInt32 (frame: Frame, offset: number, value: number): number {
  return setInt32InChunks(frame.chunks, offset, value)
}

// The same for encoded frames (size prefix included: the payload starts at byte 4).
function setFramesInt32 (frames: readonly Buffer[], offset: number, value: number): number {
  return setInt32InChunks(frames, offset, value)
}

function readFramesInt32 (frames: readonly Buffer[], offset: number): number {
  let v = 0
  for (let k = 0; k < 4; k++) v = (v << 8) | byteAt(frames, offset + k)
  return v
}

function byteAt (chunks: readonly Buffer[], at: number): number {
  for (const c of chunks) {
    if (at < c.length) return c[at]!
    at -= c.length
  }
  throw new KproxyError('KPROXY_ERR_DECODE', 'a frame too short for its header')
}

function setInt32InChunks (chunks: readonly Buffer[], offset: number, value: number): number {
  let old = 0
  let pos = offset
  let k = 0
  for (const c of chunks) {
    if (pos >= c.length) {
      pos -= c.length
      continue
    }
    while (k < 4 && pos < c.length) {
      old = (old << 8) | c[pos]!
      c[pos] = (value >>> (24 - 8 * k)) & 0xff
      k++
      pos++
    }
    if (k === 4) return old
    pos = 0
  }
  throw new KproxyError('KPROXY_ERR_DECODE', 'a frame too short for its header')
}
