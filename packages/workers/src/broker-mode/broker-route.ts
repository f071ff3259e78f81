// Broker mode's route: each client connection gets its own upstream connection to the broker its
// listener stands for (or to a bootstrap server), and every request goes over it as the bytes
// that arrived, with the client's own correlation ids. One upstream per client is what SASL
// passthrough needs: the broker authenticates the connection, not a request.
//
// Bootstrap connections are spread over the bootstrap servers (ServerHealth). A bootstrap server
// that accepts the connection but does not answer (a stopped or stuck JVM) is given
// `bootstrapAnswerTimeoutMs` to answer the first request; if it does not, and every request sent
// so far is one that may be sent twice (ApiVersions, Metadata, ...), the route drops that
// connection, marks the server and sends the same requests to the next server. The client sees
// only a slower first answer.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { HostPort } from '@kproxy/core/config/proxy-config'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { Route, RouteSink } from '../session/route.ts'
import type { InFlight } from '../session/in-flight.ts'
import { KafkaConnection } from '../upstream/kafka-connection.ts'
import { ownFrame, STATIC_READ_BUFFERS } from '../net/read-slabs.ts'
import type { ConnectionListener, ResponseTarget, UpstreamFailure } from '../upstream/kafka-connection.ts'
import type { ServerHealth } from '../upstream/server-health.ts'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import type { ListenerTarget } from './proxy-context.ts'
import type { UpstreamIdentity } from '../policy/upstream-identity.ts'
import type { PrincipalCertificate } from '@kproxy/core/policy/principal-certificates'

// Requests that change nothing on the broker: sending one again elsewhere is harmless.
const REPLAYABLE: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.Metadata, ApiKey.DescribeCluster, ApiKey.FindCoordinator, ApiKey.SaslHandshake])
export const DEFAULT_BOOTSTRAP_ANSWER_TIMEOUT_MS = 1000

// What the route needs from its listeners and the cluster view.
export interface BrokerRouteHost {
  readonly dialer: UpstreamDialer
  readonly health: ServerHealth
  readonly connectTimeoutMs: number
  readonly maxFrameSize: number
  readonly bootstrapAnswerTimeoutMs: number
  // where the listener's target really is: the bootstrap servers, or one broker; null: unknown
  upstreamFor (target: ListenerTarget): readonly HostPort[] | null
  // reloads the broker directory from upstream, then calls back
  refreshDirectory (done: () => void): void
  upstreamContact (ok: boolean): void
  // a broker listener's broker could not be connected to (refused, or timed out)
  upstreamUnreachable (target: ListenerTarget): void
  // upstreamIdentity: certificate: each connection presents its principal's certificate
  readonly identity: UpstreamIdentity | null
}

// A request sent on a bootstrap connection that has not answered yet, kept to be sent again.
interface Sent {
  entry: InFlight | null
  frame: Frame | null
  frames: readonly Buffer[] | null
}

export class BrokerRoute implements Route, ConnectionListener, ResponseTarget {
  readonly #sink: RouteSink
  readonly #host: BrokerRouteHost
  readonly #target: ListenerTarget
  #candidates: readonly HostPort[] = []
  #candidate = 0
  #conn: KafkaConnection | null = null
  #ready = false
  #closed = false
  #tlsFailure: string | null = null
  // bootstrap only, until the first answer: what was sent (to send again) and the answer deadline
  #unproven: Sent[] | null = null
  #answerTimer: NodeJS.Timeout | null = null
  #answersPaused = false
  // the principal the upstream connection is (to be) opened as (upstreamIdentity: certificate)
  #principal: string
  // bumped per dial: a certificate that arrives for an older dial is dropped
  #dialGen = 0
  // reconnecting as a newly authenticated principal: the client is not read until it is done
  #reidentifying = false

  constructor (sink: RouteSink, host: BrokerRouteHost, target: ListenerTarget, principal = 'ANONYMOUS') {
    this.#sink = sink
    this.#host = host
    this.#target = target
    this.#principal = principal
    const candidates = host.upstreamFor(target)
    if (candidates !== null && candidates.length > 0) {
      this.#start(candidates)
    } else {
      host.refreshDirectory(this.#onDirectoryRefreshed.bind(this))
    }
  }

  get ready (): boolean { return this.#ready }

  describe (): Record<string, unknown> {
    const d: Record<string, unknown> = { upstream: this.#conn?.name ?? '', upstreamTls: this.#host.dialer.secure }
    if (this.#host.identity !== null) d.upstreamPrincipal = this.#principal
    return d
  }

  #start (candidates: readonly HostPort[]): void {
    const bootstrap = this.#target.kind === 'bootstrap'
    this.#candidates = bootstrap ? this.#host.health.order(candidates) : candidates
    if (bootstrap && this.#host.bootstrapAnswerTimeoutMs > 0) this.#unproven = []
    this.#dial()
  }

  #onDirectoryRefreshed (): void {
    if (this.#closed) return
    const candidates = this.#host.upstreamFor(this.#target)
    if (candidates === null || candidates.length === 0) {
      const name = this.#target.kind === 'broker' ? `broker ${this.#target.nodeId}` : 'the bootstrap servers'
      this.#sink.routeFailed('KPROXY_ERR_UNKNOWN_BROKER', `no upstream address is known for ${name}: the upstream cluster does not list it (it left the cluster, or the upstream is unreachable)`)
      return
    }
    this.#start(candidates)
  }

  #dial (): void {
    const identity = this.#host.identity
    if (identity === null) {
      this.#open(null)
      return
    }
    // the principal's certificate: at once when the worker has it, else when it is signed (this
    // connection waits; no other does)
    const gen = ++this.#dialGen
    let cert: PrincipalCertificate | Promise<PrincipalCertificate>
    try {
      cert = identity.certificate(this.#principal)
    } catch (err) {
      cert = Promise.reject(err)
    }
    if (!(cert instanceof Promise)) {
      this.#open(cert)
      return
    }
    cert.then(c => {
      if (!this.#closed && gen === this.#dialGen) this.#open(c)
    }, (err: unknown) => {
      if (this.#closed || gen !== this.#dialGen) return
      this.#sink.routeFailed('KPROXY_ERR_PRINCIPAL_CERT', `no upstream certificate for ${this.#principal}: ${(err as Error)?.message ?? String(err)}`)
    })
  }

  #open (cert: PrincipalCertificate | null): void {
    this.#conn = new KafkaConnection({
      dialer: this.#host.dialer,
      address: this.#candidates[this.#candidate]!,
      connectTimeoutMs: this.#host.connectTimeoutMs,
      maxFrameSize: this.#host.maxFrameSize,
      correlation: 'client',
      listener: this,
      identity: cert,
      staticReads: STATIC_READ_BUFFERS
    })
  }

  // SASL authenticated the client as `principal`: with upstreamIdentity certificate the
  // upstream connection made before (as ANONYMOUS, for ApiVersions) is replaced by one as the
  // principal. Nothing is in flight on it then (a client waits for its SASL answers).
  identify (principal: string): void {
    if (this.#host.identity === null || this.#closed || principal === this.#principal) return
    this.#principal = principal
    if (this.#conn !== null && this.#conn.pending > 0) {
      this.#sink.routeFailed('KPROXY_ERR_PRINCIPAL_CERT', `requests were in flight upstream when the client authenticated as ${principal}; the connection cannot change identity under them`)
      return
    }
    this.#conn?.close()
    this.#conn = null
    this.#unproven = null
    if (this.#answerTimer !== null) clearTimeout(this.#answerTimer)
    this.#answerTimer = null
    this.#reidentifying = true
    this.#sink.routeFull(true)
    if (this.#candidates.length > 0) this.#dial()
  }

  // ---- ConnectionListener ------------------------------------------------------------------------

  upstreamReady (conn: KafkaConnection): void {
    if (conn !== this.#conn || this.#closed) return
    this.#host.upstreamContact(true)
    const unproven = this.#unproven
    if (unproven !== null && unproven.length > 0) {
      // a failover: the requests the previous server left unanswered go to this one
      for (const s of unproven) conn.send(s.entry === null ? null : this, s.entry, s.frame, s.frames)
      conn.flush()
      this.#armAnswerTimer()
    }
    if (!this.#ready) {
      this.#ready = true
      this.#sink.routeReady()
    }
    if (this.#reidentifying) {
      this.#reidentifying = false
      this.#sink.routeFull(false)
    }
  }

  upstreamFull (conn: KafkaConnection, full: boolean): void {
    if (conn === this.#conn && !this.#reidentifying) this.#sink.routeFull(full)
  }

  upstreamClosed (conn: KafkaConnection, failure: UpstreamFailure | null): void {
    if (conn !== this.#conn || this.#closed || failure === null) return
    if (failure.ownLimit) {
      this.#sink.routeFailed(failure.code, failure.message)
      return
    }
    if (failure.phase === 'connect') {
      if (failure.tls !== null) this.#tlsFailure = failure.tls
      this.#next(failure.message)
      return
    }
    // a bootstrap server that dropped the connection before answering anything: the next one
    const dropped = failure.code === 'KPROXY_ERR_UPSTREAM_CLOSED' || failure.code === 'KPROXY_ERR_UPSTREAM_SOCKET'
    if (dropped && this.#replayable() && this.#candidate + 1 < this.#candidates.length) {
      this.#next(failure.message)
      return
    }
    this.#sink.routeFailed(failure.code, failure.message)
  }

  // The next candidate server, or give up and close the client.
  #next (why: string): void {
    const failed = this.#candidates[this.#candidate]!
    this.#conn?.close()
    this.#conn = null
    if (this.#answerTimer !== null) clearTimeout(this.#answerTimer)
    this.#answerTimer = null
    this.#host.upstreamContact(false)
    if (this.#target.kind === 'bootstrap') this.#host.health.failed(failed, why)
    if (++this.#candidate < this.#candidates.length) {
      this.#dial()
      return
    }
    if (this.#tlsFailure !== null) {
      this.#sink.routeFailed('KPROXY_ERR_UPSTREAM_TLS', `the TLS handshake with the upstream failed (${why}); check brokerMode.upstreamTls (CA, client certificate, serverName) against the broker's certificate`)
      return
    }
    this.#host.upstreamUnreachable(this.#target)
    this.#sink.routeFailed('KPROXY_ERR_UPSTREAM_CONNECT', `cannot reach the upstream broker (${why}); check that Kafka runs and that kproxy's upstream setting points at it`)
  }

  // ---- Route -------------------------------------------------------------------------------------

  // requests go to the connection's write batch, which holds the slabs of what it is given;
  // the failover list keeps copies
  readonly borrowsRequests = true

  forward (entry: InFlight | null, frame: Frame | null, frames: readonly Buffer[] | null): void {
    const unproven = this.#unproven
    if (unproven !== null) {
      unproven.push({ entry, frame: frame === null ? null : ownFrame(frame), frames })
      if (this.#answerTimer === null && entry !== null) this.#armAnswerTimer()
    }
    const conn = this.#conn
    if (conn === null || !conn.ready) return // a failover is under way: sent once it connects
    conn.send(entry === null ? null : this, entry, frame, frames)
  }

  flush (): void {
    this.#conn?.flush()
  }

  pauseAnswers (): void {
    this.#answersPaused = true
    this.#conn?.pauseReading()
  }

  resumeAnswers (): void {
    this.#answersPaused = false
    this.#conn?.resumeReading()
  }

  passthrough (): void {
    this.#conn?.passthrough(this.#onRaw.bind(this))
  }

  #onRaw (chunk: Buffer): void {
    this.#sink.rawAnswer(chunk)
    this.#sink.flushAnswers()
  }

  writeRaw (chunk: Buffer): void {
    this.#conn?.writeRaw(chunk)
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#answerTimer !== null) clearTimeout(this.#answerTimer)
    this.#answerTimer = null
    this.#unproven = null
    this.#conn?.close()
  }

  // ---- ResponseTarget ----------------------------------------------------------------------------

  // frames of a static read buffer go to the session, which copies what it keeps (answer())
  readonly borrowsFrames = true

  upstreamResponse (tag: unknown, frame: Frame): void {
    if (this.#unproven !== null) this.#proven()
    this.#sink.answer(tag as InFlight, frame)
  }

  upstreamBatchEnd (): void {
    this.#sink.flushAnswers()
  }

  // ---- bootstrap failover ------------------------------------------------------------------------

  #armAnswerTimer (): void {
    if (this.#answerTimer !== null) clearTimeout(this.#answerTimer)
    this.#answerTimer = setTimeout(this.#onAnswerTimeout.bind(this), this.#host.bootstrapAnswerTimeoutMs)
  }

  // The server answered: it works; nothing more to keep.
  #proven (): void {
    this.#unproven = null
    if (this.#answerTimer !== null) clearTimeout(this.#answerTimer)
    this.#answerTimer = null
    const conn = this.#conn
    if (conn !== null) this.#host.health.ok(conn.address)
  }

  #onAnswerTimeout (): void {
    this.#answerTimer = null
    if (this.#closed || this.#unproven === null || this.#answersPaused) return
    if (!this.#replayable() || this.#candidate + 1 >= this.#candidates.length) {
      // nothing safe to do: leave it to the client's own timeout; remember the server is slow
      const conn = this.#conn
      if (conn !== null) this.#host.health.failed(conn.address, `${conn.name} accepted the connection but did not answer within ${this.#host.bootstrapAnswerTimeoutMs} ms`)
      this.#unproven = null
      return
    }
    this.#next(`${this.#conn?.name ?? 'the bootstrap server'} accepted the connection but did not answer within ${this.#host.bootstrapAnswerTimeoutMs} ms`)
  }

  #replayable (): boolean {
    const unproven = this.#unproven
    if (unproven === null) return false
    // a request without response (Produce acks=0) is never sent twice
    for (const s of unproven) if (s.entry === null || !REPLAYABLE.has(s.entry.apiKey)) return false
    return true
  }
}
