// kproxy's own SASL login on an upstream connection (policy.sasl.upstream), with the core client
// state machines: SaslHandshake v1 then SaslAuthenticate until the mechanism completes (a SCRAM
// broker must prove it holds the verifier). It runs on the socket before any client request is
// sent: the connection queues those and is ready only once the login succeeded. The broker's
// session lifetime (SaslAuthenticate v1+, KIP-368; 0 for none) is handed to the connection, which
// runs a new exchange on the same socket before it ends (re-authentication). Not on the data
// path (once per upstream connection), so plain promises. Nothing secret is logged: a failure
// says which step failed and the broker's error, never the password.
import { decodeResponse, encodeRequest, ErrorCode, errorByCode } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { KproxyError, isKproxyError } from '@kproxy/core/kproxy-error'
import { createSaslClient } from '@kproxy/core/sasl/sasl-factory'
import type { SaslClient, SaslClientCredentials, SaslClientStep } from '@kproxy/core/sasl/sasl-client'
import type { SaslMechanismName } from '@kproxy/core/sasl/sasl-mechanism'

export interface UpstreamLogin {
  readonly mechanism: SaslMechanismName
  readonly username: string
  // where the config sets this login, for the error messages (default policy.sasl.upstream)
  readonly configKey?: string
  // read when a connection is made (a rotated password file is picked up); throws
  // KPROXY_ERR_UPSTREAM_PASSWORD when it cannot be read
  credentials (): SaslClientCredentials
}

const HANDSHAKE_VERSION = 1
const AUTHENTICATE_VERSION = 2
// ids of the login's own requests (nothing else is in flight on the connection meanwhile)
const FIRST_ID = 0x7ff00000
const CLIENT_ID = 'kproxy'

export class UpstreamSaslExchange {
  readonly #login: UpstreamLogin
  readonly #write: (frames: readonly Buffer[]) => void
  readonly #done: (err: KproxyError | null, sessionLifetimeMs: number) => void
  readonly #where: string
  #client: SaslClient | null = null
  #id = FIRST_ID
  // what the next response answers
  #awaiting: 'handshake' | 'authenticate' | 'none' = 'none'
  #finished = false
  // from the last SaslAuthenticate answer
  #lifetimeMs = 0

  constructor (login: UpstreamLogin, where: string, write: (frames: readonly Buffer[]) => void, done: (err: KproxyError | null, sessionLifetimeMs: number) => void) {
    this.#login = login
    this.#where = where
    this.#write = write
    this.#done = done
  }

  start (): void {
    let credentials: SaslClientCredentials
    try {
      credentials = this.#login.credentials()
    } catch (err) {
      this.#finish(isKproxyError(err) ? err : this.#error(`cannot read kproxy's own credentials: ${(err as Error).message}`))
      return
    }
    this.#client = createSaslClient(this.#login.mechanism, credentials)
    this.#awaiting = 'handshake'
    this.#write(encodeRequest({ apiKey: ApiKey.SaslHandshake, apiVersion: HANDSHAKE_VERSION, correlationId: this.#id++, clientId: CLIENT_ID }, { mechanism: this.#login.mechanism }))
  }

  // A response frame (payload, no size prefix) that arrived during the login.
  response (payload: Buffer): void {
    if (this.#finished) return
    try {
      if (this.#awaiting === 'handshake') {
        const { body } = decodeResponse(payload, ApiKey.SaslHandshake, HANDSHAKE_VERSION)
        if (body.errorCode !== ErrorCode.NONE) {
          this.#finish(this.#error(`the broker refused SASL mechanism ${this.#login.mechanism} (${errorName(body.errorCode)}; it offers ${body.mechanisms.join(', ') || 'none'})`))
          return
        }
        this.#next(this.#client!.start())
        return
      }
      if (this.#awaiting === 'authenticate') {
        const { body } = decodeResponse(payload, ApiKey.SaslAuthenticate, AUTHENTICATE_VERSION)
        if (body.errorCode !== ErrorCode.NONE) {
          this.#finish(this.#error(`the broker refused the login of '${this.#login.username}' (${errorName(body.errorCode)}: ${body.errorMessage ?? ''})`))
          return
        }
        this.#lifetimeMs = Number(body.sessionLifetimeMs)
        this.#next(this.#client!.evaluate(body.authBytes))
        return
      }
      this.#finish(this.#error('the broker sent a response kproxy did not ask for during the login'))
    } catch (err) {
      this.#finish(this.#error(`cannot read the broker's answer: ${(err as Error).message}`))
    }
  }

  #next (step: Promise<SaslClientStep>): void {
    this.#awaiting = 'none'
    step.then(s => {
      if (this.#finished) return
      if (s.kind === 'failed') {
        this.#finish(this.#error(s.reason))
      } else if (s.kind === 'complete') {
        this.#finish(null)
      } else {
        this.#awaiting = 'authenticate'
        this.#write(encodeRequest({ apiKey: ApiKey.SaslAuthenticate, apiVersion: AUTHENTICATE_VERSION, correlationId: this.#id++, clientId: CLIENT_ID }, { authBytes: s.token }))
      }
    }, (err: unknown) => {
      this.#finish(this.#error((err as Error)?.message ?? String(err)))
    })
  }

  // the connection closed before the login finished
  abandon (): void {
    this.#finished = true
  }

  #finish (err: KproxyError | null): void {
    if (this.#finished) return
    this.#finished = true
    this.#done(err, err === null ? this.#lifetimeMs : 0)
  }

  #error (why: string): KproxyError {
    return new KproxyError('KPROXY_ERR_UPSTREAM_SASL', `kproxy's SASL login (${this.#login.mechanism} as '${this.#login.username}') to ${this.#where} failed: ${why}; check ${this.#login.configKey ?? 'policy.sasl.upstream'} and the user on the brokers`)
  }
}

function errorName (code: number): string {
  return errorByCode(code)?.name ?? `error ${code}`
}
