// SCRAM-SHA-256/512 server (RFC 5802, RFC 7677) as Kafka's ScramSaslServer behaves:
//   client-first  -> server-first (salt, iterations)  -> client-final (proof) -> server-final (v=)
// Refused like Kafka: a malformed message, the delegation-token extension (tokenauth=true;
// kproxy has no delegation tokens), an authorization id other than the user name, a stored
// credential below the mechanism's minimum iterations, a nonce that is not the combined one,
// a wrong proof. Unknown extensions are ignored.
//
// Unlike Kafka, an unknown user is not refused at the first message: the server answers with
// a salt derived from a process secret and the user name, and fails at the proof with the same
// sentence a wrong password gets, so the exchange does not tell who exists (RFC 5802 5.1).
import { createHmac, randomBytes } from 'node:crypto'
import { authenticationFailed, illegalState, invalidCredentials } from './sasl-failure.ts'
import type { SaslPhase } from './sasl-failure.ts'
import type { SaslCredentials } from './sasl-credentials.ts'
import { SCRAM_MECHANISMS } from './sasl-mechanism.ts'
import type { ScramMechanismName, ScramParameters } from './sasl-mechanism.ts'
import { formatServerFinal, formatServerFirst, authMessage, parseClientFinal, parseClientFirst } from './scram-messages.ts'
import { proofMatches, serverSignature } from './scram-formulas.ts'
import type { ScramCredential } from './scram-formulas.ts'
import type { SaslServer, SaslServerOptions, SaslServerStep } from './sasl-server.ts'

type State =
  | { readonly kind: 'awaiting-client-first' }
  | { readonly kind: 'awaiting-client-final', readonly user: string, readonly credential: ScramCredential | null, readonly clientFirstBare: string, readonly serverFirst: string, readonly nonce: string }
  | { readonly kind: 'complete' }
  | { readonly kind: 'failed' }

const DECOY_SECRET = randomBytes(32)
const DECOY_ITERATIONS = 4096
const TOKEN_AUTH = 'tokenauth'

export interface ScramServerOptions extends SaslServerOptions {
  // for test vectors only: the server's half of the nonce (default 24 random bytes, base64url)
  readonly serverNonce?: string
}

export class ScramServer implements SaslServer {
  readonly mechanism: ScramMechanismName
  readonly #params: ScramParameters
  readonly #credentials: SaslCredentials
  readonly #phase: SaslPhase
  readonly #serverNonce: string | undefined
  #state: State = { kind: 'awaiting-client-first' }

  constructor (mechanism: ScramMechanismName, credentials: SaslCredentials, options: ScramServerOptions = {}) {
    this.mechanism = mechanism
    this.#params = SCRAM_MECHANISMS[mechanism]
    this.#credentials = credentials
    this.#phase = options.phase ?? 'authentication'
    this.#serverNonce = options.serverNonce
  }

  get state (): State['kind'] { return this.#state.kind }

  async evaluate (token: Buffer): Promise<SaslServerStep> {
    return this.evaluateSync(token)
  }

  // SCRAM's server side needs no key derivation (the verifier holds StoredKey and ServerKey), so
  // each step is a few HMACs; the synchronous form is for tests and benchmarks.
  evaluateSync (token: Buffer): SaslServerStep {
    const state = this.#state
    switch (state.kind) {
      case 'awaiting-client-first': return this.#clientFirst(token)
      case 'awaiting-client-final': return this.#clientFinal(state, token)
      default: return { kind: 'failed', failure: illegalState(this.mechanism, state.kind) }
    }
  }

  #fail (reason: string, clientMessage?: string): SaslServerStep {
    this.#state = { kind: 'failed' }
    const failure = clientMessage === undefined ? invalidCredentials(this.mechanism, this.#phase, reason) : authenticationFailed(clientMessage, reason)
    return { kind: 'failed', failure }
  }

  #clientFirst (token: Buffer): SaslServerStep {
    const parsed = parseClientFirst(token.toString('utf8'))
    if (!parsed.ok) return this.#fail(parsed.reason)
    const first = parsed.message
    if (first.extensions.get(TOKEN_AUTH)?.toLowerCase() === 'true') {
      return this.#fail('the client asked for delegation-token authentication, which kproxy does not offer')
    }
    const credential = this.#credentials.scram(this.mechanism, first.username) ?? null
    if (first.authzid !== '' && first.authzid !== first.username) {
      return this.#fail(`the client asked for authorization id '${first.authzid}' as user '${first.username}'`,
        'Authentication failed: Client requested an authorization id that is different from username')
    }
    if (credential !== null && credential.iterations < this.#params.minIterations) {
      return this.#fail(`the stored ${this.mechanism} credential of '${first.username}' has ${credential.iterations} iterations, less than the minimum ${this.#params.minIterations}; set the password again with kproxy users add`)
    }
    const salt = credential?.salt ?? decoySalt(this.mechanism, first.username)
    const nonce = first.nonce + (this.#serverNonce ?? randomBytes(24).toString('base64url'))
    const serverFirst = formatServerFirst(nonce, salt, credential?.iterations ?? DECOY_ITERATIONS)
    this.#state = { kind: 'awaiting-client-final', user: first.username, credential, clientFirstBare: first.bare, serverFirst, nonce }
    return { kind: 'challenge', token: Buffer.from(serverFirst, 'utf8') }
  }

  #clientFinal (state: Extract<State, { kind: 'awaiting-client-final' }>, token: Buffer): SaslServerStep {
    const parsed = parseClientFinal(token.toString('utf8'))
    if (!parsed.ok) return this.#fail(parsed.reason)
    const final = parsed.message
    // As Kafka's ScramSaslServer: the final nonce must END with the server's (client + server
    // nonce). librdkafka sends its client nonce again in front of it ("r=" cnonce + server nonce;
    // kcat with librdkafka 2.0.2 failed here), and Kafka accepts that; the proof below covers whatever
    // nonce the client sent, since it is part of the signed AuthMessage.
    if (!final.nonce.endsWith(state.nonce)) return this.#fail('invalid client nonce in the final client message')
    // Only the 'n' flag exists (no channel binding), so the binding is a gs2 header 'n,...'.
    if (!final.channelBinding.toString('latin1').startsWith('n,')) return this.#fail('the channel binding is not a gs2 header without channel binding')
    const message = authMessage(state.clientFirstBare, state.serverFirst, final.withoutProof)
    if (state.credential === null) return this.#fail(`no ${this.mechanism} credential for user '${state.user}'`)
    if (!proofMatches(this.#params, state.credential, message, final.proof)) return this.#fail(`invalid client proof for user '${state.user}'`)
    const signature = serverSignature(this.#params, state.credential.serverKey, message)
    this.#state = { kind: 'complete' }
    return { kind: 'complete', token: Buffer.from(formatServerFinal(signature), 'utf8'), user: state.user }
  }
}

function decoySalt (mechanism: ScramMechanismName, user: string): Buffer {
  return createHmac('sha256', DECOY_SECRET).update(`${mechanism}\0${user}`).digest().subarray(0, 24)
}
