// SASL termination on one client connection: kproxy answers SaslHandshake and SaslAuthenticate
// itself (and the raw tokens that follow a SaslHandshake v0), with the core state machines, and
// nothing but ApiVersions passes before the client is authenticated. The session hands every
// frame the stage intercepts() to take(); everything else goes its usual way.
//
// As Kafka's SaslServerAuthenticator:
//   start ── ApiVersions passes; SaslHandshake(v0|v1, mechanism) ──► handshaken (v1) | raw (v0)
//   handshaken ── SaslAuthenticate(token) ──► challenge (stay) | complete ──► authenticated
//   raw ── size-prefixed token without a Kafka header ──► the same, answers as raw tokens too
//   authenticated ── any request passes, until the KIP-368 lifetime ends; then only a
//     SaslHandshake (re-authentication: same mechanism, same principal) is accepted
// Anything else before authentication closes the connection (counted, logged; it never reaches
// the broker), as Kafka does. A failed exchange is answered (SASL_AUTHENTICATION_FAILED with
// Kafka's sentence; a v0 raw exchange gets no answer) and the connection closed.
//
// Because the SaslHandshake never goes upstream, a v0 handshake cannot turn the connection into
// the opaque byte relay it becomes without termination: there is no way around the stage.
import type { Logger } from 'pino'
import { decodeRequest, encodeResponse, ErrorCode } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { frameHead, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { createSaslServer } from '@kproxy/core/sasl/sasl-factory'
import type { SaslServer, SaslServerStep } from '@kproxy/core/sasl/sasl-server'
import type { SaslFailure } from '@kproxy/core/sasl/sasl-failure'
import type { SaslMechanismName } from '@kproxy/core/sasl/sasl-mechanism'
import { checkReauthMechanism, checkReauthPrincipal, mayBeginReauthentication, openSession, sessionExpired } from '@kproxy/core/sasl/sasl-session'
import type { SaslSession } from '@kproxy/core/sasl/sasl-session'
import type { SaslTermination } from './sasl-termination.ts'

// What the stage needs from its session. A ticket is the session's in-flight entry for one SASL
// request: answers leave in request order like every other answer.
export interface SaslStageHost<T> {
  // queues an entry for a request kproxy answers itself
  ticket (apiKey: number, apiVersion: number, correlationId: number): T
  answer (ticket: T, frames: readonly Buffer[]): void
  // writes the answer (and whatever is before it), then closes the connection
  answerAndClose (ticket: T, frames: readonly Buffer[], code: string, reason: string): void
  close (code: string, reason: string): void
  // the client is (again) `principal`
  authenticated (principal: string): void
  // no request is read while a PLAIN check runs
  hold (on: boolean): void
  logger (): Logger
}

type State =
  | { readonly kind: 'start' }
  // SaslHandshake v1 answered: SaslAuthenticate requests carry the tokens
  | { readonly kind: 'handshaken', readonly server: SaslServer, readonly reauth: SaslSession | null }
  // SaslHandshake v0 answered: raw size-prefixed tokens follow
  | { readonly kind: 'raw', readonly server: SaslServer }
  // a token is being checked (PLAIN runs scrypt on the thread pool)
  | { readonly kind: 'evaluating', readonly reauth: SaslSession | null }
  | { readonly kind: 'authenticated', readonly session: SaslSession }
  | { readonly kind: 'closed' }

const EMPTY = Buffer.alloc(0)
const USER = 'User:'

export class SaslStage<T> {
  readonly #termination: SaslTermination
  readonly #host: SaslStageHost<T>
  #state: State = { kind: 'start' }
  // the authenticated session's expiry (ms since the epoch), Infinity when it has none
  #expiresAt = Infinity

  constructor (termination: SaslTermination, host: SaslStageHost<T>) {
    this.#termination = termination
    this.#host = host
  }

  get state (): State['kind'] { return this.#state.kind }
  get authenticated (): boolean { return this.#state.kind === 'authenticated' }

  // true: the frame is the stage's (take() it); false: an ordinary request that may go on.
  // After authentication this is two byte reads and a comparison per request.
  intercepts (frame: Frame): boolean {
    const kind = this.#state.kind
    // a raw v0 token has no header to look at; nothing may pass while a token is checked
    if (kind === 'raw' || kind === 'evaluating' || kind === 'closed') return true
    if (frame.size < 2) return true
    const apiKey = frameHead(frame, 2).readInt16BE(0)
    if (kind === 'authenticated') {
      if (apiKey === ApiKey.SaslHandshake || apiKey === ApiKey.SaslAuthenticate) return true
      return this.#expiresAt !== Infinity && Date.now() >= this.#expiresAt
    }
    if (kind === 'handshaken' && (this.#state as { reauth: SaslSession | null }).reauth !== null) {
      // during a re-authentication the old session still lets requests through
      return apiKey === ApiKey.SaslAuthenticate || apiKey === ApiKey.SaslHandshake || Date.now() >= this.#expiresAt
    }
    return apiKey !== ApiKey.ApiVersions
  }

  take (frame: Frame): void {
    const state = this.#state
    switch (state.kind) {
      case 'closed': return
      case 'raw': {
        const ticket = this.#host.ticket(ApiKey.SaslAuthenticate, 0, 0)
        this.#evaluate(state.server, frameToBuffer(frame), { ticket, raw: true, version: 0, correlationId: 0, reauth: null })
        return
      }
      case 'evaluating':
        this.#refuse('a request arrived while the previous SASL token was being checked', 'out_of_turn')
        return
    }
    const apiKey = frameHead(frame, 2).readInt16BE(0)
    if (apiKey === ApiKey.SaslHandshake) {
      this.#handshake(frame)
      return
    }
    if (apiKey === ApiKey.SaslAuthenticate) {
      this.#authenticate(frame)
      return
    }
    if (state.kind === 'authenticated' || (state.kind === 'handshaken' && state.reauth !== null)) {
      this.#termination.count(this.#mechanismOf(state), 'expired')
      this.#close('KPROXY_ERR_SASL_SESSION_EXPIRED', 'the SASL session lifetime (policy.sasl.maxReauthMs) ended and the client sent a request instead of re-authenticating')
      return
    }
    this.#refuse(`a request of API key ${apiKey} arrived before SASL authentication finished`, 'refused_before_auth')
  }

  // ---- SaslHandshake ---------------------------------------------------------------------------

  #handshake (frame: Frame): void {
    const req = this.#decode(frame, ApiKey.SaslHandshake)
    if (req === null) return
    const { apiVersion, header } = req
    const mechanism = (req.body as { mechanism: string }).mechanism
    const ticket = this.#host.ticket(ApiKey.SaslHandshake, apiVersion, header.correlationId)
    const t = this.#termination
    const state = this.#state
    if (state.kind === 'authenticated') {
      const start = apiVersion === 0 ? { kind: 'not-now' as const, reason: 'SaslHandshake v0 cannot start a re-authentication' } : mayBeginReauthentication(state.session, Date.now())
      if (start.kind === 'not-now') {
        this.#host.logger().info({ reason: start.reason }, 'SaslHandshake on an authenticated connection answered with ILLEGAL_SASL_STATE')
        this.#host.answer(ticket, handshakeResponse(apiVersion, header.correlationId, ErrorCode.ILLEGAL_SASL_STATE, t.mechanisms))
        return
      }
      const wrong = checkReauthMechanism(state.session, mechanism)
      if (wrong !== null) {
        this.#fail(ticket, handshakeResponse(apiVersion, header.correlationId, ErrorCode.UNSUPPORTED_SASL_MECHANISM, t.mechanisms), state.session.mechanism, wrong, 're-authentication')
        return
      }
      this.#state = { kind: 'handshaken', server: createSaslServer(state.session.mechanism, t.credentials(), { phase: 're-authentication' }), reauth: state.session }
      this.#host.answer(ticket, handshakeResponse(apiVersion, header.correlationId, ErrorCode.NONE, t.mechanisms))
      return
    }
    if (state.kind !== 'start') {
      this.#termination.count(mechanism, 'failed')
      this.#host.answerAndClose(ticket, handshakeResponse(apiVersion, header.correlationId, ErrorCode.ILLEGAL_SASL_STATE, t.mechanisms), 'KPROXY_ERR_SASL_AUTHENTICATION', `a second SaslHandshake arrived in state ${state.kind}`)
      this.#state = { kind: 'closed' }
      return
    }
    if (!t.offers(mechanism)) {
      t.count(mechanism, 'failed')
      this.#host.answerAndClose(ticket, handshakeResponse(apiVersion, header.correlationId, ErrorCode.UNSUPPORTED_SASL_MECHANISM, t.mechanisms), 'KPROXY_ERR_SASL_AUTHENTICATION', `the client asked for SASL mechanism ${JSON.stringify(mechanism).slice(0, 80)}, which is not offered (policy.sasl.mechanisms: ${t.mechanisms.join(', ')})`)
      this.#state = { kind: 'closed' }
      return
    }
    const server = createSaslServer(mechanism, t.credentials())
    this.#state = apiVersion === 0 ? { kind: 'raw', server } : { kind: 'handshaken', server, reauth: null }
    this.#host.answer(ticket, handshakeResponse(apiVersion, header.correlationId, ErrorCode.NONE, t.mechanisms))
  }

  // ---- SaslAuthenticate ------------------------------------------------------------------------

  #authenticate (frame: Frame): void {
    const req = this.#decode(frame, ApiKey.SaslAuthenticate)
    if (req === null) return
    const { apiVersion, header } = req
    const ticket = this.#host.ticket(ApiKey.SaslAuthenticate, apiVersion, header.correlationId)
    const state = this.#state
    if (state.kind !== 'handshaken') {
      const mechanism = this.#mechanismOf(state)
      const failure: SaslFailure = { errorCode: ErrorCode.ILLEGAL_SASL_STATE, message: 'Unexpected SaslAuthenticate request: no SaslHandshake came before it', reason: `SaslAuthenticate in state ${state.kind}` }
      this.#fail(ticket, authenticateResponse(apiVersion, header.correlationId, failure, EMPTY, 0), mechanism, failure, 'authentication')
      return
    }
    const token = (req.body as { authBytes: Buffer }).authBytes
    this.#evaluate(state.server, token, { ticket, raw: false, version: apiVersion, correlationId: header.correlationId, reauth: state.reauth })
  }

  #evaluate (server: SaslServer, token: Buffer, at: { ticket: T, raw: boolean, version: number, correlationId: number, reauth: SaslSession | null }): void {
    this.#state = { kind: 'evaluating', reauth: at.reauth }
    this.#host.hold(true)
    let step: Promise<SaslServerStep>
    try {
      step = server.evaluate(token)
    } catch (err) {
      step = Promise.reject(err)
    }
    step.then(s => {
      if (this.#state.kind === 'closed') return
      this.#host.hold(false)
      this.#step(server, s, at)
    }, (err: unknown) => {
      if (this.#state.kind === 'closed') return
      this.#host.hold(false)
      this.#step(server, { kind: 'failed', failure: { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, message: `Authentication failed during authentication due to invalid credentials with SASL mechanism ${server.mechanism}`, reason: `the SASL check failed: ${(err as Error)?.message ?? String(err)}` } }, at)
    })
  }

  #step (server: SaslServer, step: SaslServerStep, at: { ticket: T, raw: boolean, version: number, correlationId: number, reauth: SaslSession | null }): void {
    const t = this.#termination
    const phase = at.reauth !== null ? 're-authentication' : 'authentication'
    if (step.kind === 'failed') {
      // a v0 exchange has no place for an error: the connection is closed, as Kafka does
      const frames = at.raw ? null : authenticateResponse(at.version, at.correlationId, step.failure, EMPTY, 0)
      this.#fail(at.ticket, frames, server.mechanism, step.failure, phase)
      return
    }
    if (step.kind === 'challenge') {
      this.#state = at.raw ? { kind: 'raw', server } : { kind: 'handshaken', server, reauth: at.reauth }
      this.#host.answer(at.ticket, at.raw ? rawToken(step.token) : authenticateResponse(at.version, at.correlationId, null, step.token, 0))
      return
    }
    const principal = USER + step.user
    const now = Date.now()
    if (at.reauth !== null) {
      const changed = checkReauthPrincipal(at.reauth, principal)
      if (changed !== null) {
        t.count(server.mechanism, 'principal_change')
        this.#fail(at.ticket, authenticateResponse(at.version, at.correlationId, changed, EMPTY, 0), server.mechanism, changed, phase)
        return
      }
    }
    const session = openSession(server.mechanism, principal, { maxReauthMs: t.maxReauthMs }, now)
    this.#state = { kind: 'authenticated', session }
    this.#expiresAt = session.expiresAtMs ?? Infinity
    t.count(server.mechanism, at.reauth !== null ? 'reauthenticated' : 'authenticated')
    if (at.reauth === null) this.#host.authenticated(principal)
    this.#host.logger().info({ mechanism: server.mechanism, principal, sessionLifetimeMs: session.lifetimeMs }, at.reauth !== null ? 'SASL re-authentication succeeded' : 'SASL authentication succeeded')
    this.#host.answer(at.ticket, at.raw ? rawToken(step.token) : authenticateResponse(at.version, at.correlationId, null, step.token, session.lifetimeMs))
  }

  // ---- failures --------------------------------------------------------------------------------

  #fail (ticket: T, frames: readonly Buffer[] | null, mechanism: SaslMechanismName | 'none', failure: SaslFailure, phase: string): void {
    this.#termination.count(mechanism, 'failed')
    this.#state = { kind: 'closed' }
    const reason = `SASL ${phase} failed (${mechanism}): ${failure.reason}`
    if (frames === null) this.#host.close('KPROXY_ERR_SASL_AUTHENTICATION', reason)
    else this.#host.answerAndClose(ticket, frames, 'KPROXY_ERR_SASL_AUTHENTICATION', reason)
  }

  #refuse (reason: string, event: 'refused_before_auth' | 'out_of_turn'): void {
    this.#termination.count(this.#mechanismOf(this.#state), event === 'out_of_turn' ? 'refused_before_auth' : event)
    this.#close('KPROXY_ERR_SASL_REQUIRED', `${reason}; the connection is closed and the request never reaches the broker`)
  }

  #close (code: string, reason: string): void {
    this.#state = { kind: 'closed' }
    this.#host.close(code, reason)
  }

  #decode (frame: Frame, apiKey: number): ReturnType<typeof decodeRequest> | null {
    try {
      const req = decodeRequest(frameToBuffer(frame))
      if (req.apiKey === apiKey) return req
    } catch (err) {
      this.#close('KPROXY_ERR_DECODE', `client: ${(err as Error).message}`)
      return null
    }
    this.#close('KPROXY_ERR_DECODE', 'client: a SASL request that is not one')
    return null
  }

  #mechanismOf (state: State): SaslMechanismName | 'none' {
    switch (state.kind) {
      case 'authenticated': return state.session.mechanism
      case 'handshaken': case 'raw': return state.server.mechanism
      default: return 'none'
    }
  }
}

function handshakeResponse (version: number, correlationId: number, errorCode: number, mechanisms: readonly string[]): Buffer[] {
  return encodeResponse(ApiKey.SaslHandshake, version, { correlationId }, { errorCode, mechanisms: [...mechanisms] })
}

function authenticateResponse (version: number, correlationId: number, failure: SaslFailure | null, token: Buffer, lifetimeMs: number): Buffer[] {
  return encodeResponse(ApiKey.SaslAuthenticate, version, { correlationId }, {
    errorCode: failure?.errorCode ?? ErrorCode.NONE,
    errorMessage: failure?.message ?? null,
    authBytes: token,
    sessionLifetimeMs: BigInt(lifetimeMs)
  })
}

// A v0 exchange's answer: the token with a size prefix and nothing else.
function rawToken (token: Buffer): Buffer[] {
  const size = Buffer.allocUnsafe(4)
  size.writeInt32BE(token.length, 0)
  return [size, token]
}
