// SCRAM-SHA-256/512 client, as Kafka's ScramSaslClient: client-first 'n,,n=user,r=nonce', then
// the proof over the server's salt and iterations, then the server's signature is checked (a
// broker that cannot sign does not hold the verifier: the login fails even if it said yes).
// Iterations above the mechanism's maximum are refused: a Kafka broker cannot store more, and a
// hostile server could otherwise make kproxy spend minutes in Hi().
import { randomBytes } from 'node:crypto'
import { SCRAM_MECHANISMS } from './sasl-mechanism.ts'
import type { ScramMechanismName, ScramParameters } from './sasl-mechanism.ts'
import type { SaslClient, SaslClientCredentials, SaslClientStep } from './sasl-client.ts'
import { authMessage, formatClientFinalWithoutProof, formatClientFirst, parseServerFinal, parseServerFirst } from './scram-messages.ts'
import { clientProof, saltedPassword, serverKey, serverSignature, signaturesEqual } from './scram-formulas.ts'

type State =
  | { readonly kind: 'initial' }
  | { readonly kind: 'awaiting-server-first', readonly nonce: string, readonly bare: string }
  | { readonly kind: 'computing' }
  | { readonly kind: 'awaiting-server-final', readonly expected: Buffer }
  | { readonly kind: 'complete' }
  | { readonly kind: 'failed' }

export interface ScramClientOptions {
  // for test vectors only: the client nonce (default 24 random bytes, base64url)
  readonly nonce?: string
}

export class ScramClient implements SaslClient {
  readonly mechanism: ScramMechanismName
  readonly #params: ScramParameters
  readonly #credentials: SaslClientCredentials
  readonly #nonce: string
  #state: State = { kind: 'initial' }

  constructor (mechanism: ScramMechanismName, credentials: SaslClientCredentials, options: ScramClientOptions = {}) {
    this.mechanism = mechanism
    this.#params = SCRAM_MECHANISMS[mechanism]
    this.#credentials = credentials
    this.#nonce = options.nonce ?? randomBytes(24).toString('base64url')
  }

  async start (): Promise<SaslClientStep> {
    if (this.#state.kind !== 'initial') return this.#fail(`start() called in state ${this.#state.kind}`)
    const { text, bare } = formatClientFirst(this.#credentials.username, this.#nonce)
    this.#state = { kind: 'awaiting-server-first', nonce: this.#nonce, bare }
    return { kind: 'send', token: Buffer.from(text, 'utf8') }
  }

  async evaluate (serverToken: Buffer): Promise<SaslClientStep> {
    const state = this.#state
    if (state.kind === 'awaiting-server-first') return await this.#serverFirst(state, serverToken)
    if (state.kind === 'awaiting-server-final') return this.#serverFinal(state, serverToken)
    return this.#fail(`a server token arrived in state ${state.kind}`)
  }

  async #serverFirst (state: Extract<State, { kind: 'awaiting-server-first' }>, token: Buffer): Promise<SaslClientStep> {
    const parsed = parseServerFirst(token.toString('utf8'))
    if (!parsed.ok) return this.#fail(parsed.reason)
    const first = parsed.message
    if (!first.nonce.startsWith(state.nonce) || first.nonce.length === state.nonce.length) {
      return this.#fail('invalid server nonce: it does not extend the client nonce')
    }
    if (first.iterations < this.#params.minIterations) {
      return this.#fail(`requested iterations ${first.iterations} is less than the minimum ${this.#params.minIterations}`)
    }
    if (first.iterations > this.#params.maxIterations) {
      return this.#fail(`requested iterations ${first.iterations} is more than the maximum ${this.#params.maxIterations}`)
    }
    this.#state = { kind: 'computing' }
    const salted = await saltedPassword(this.#params, this.#credentials.password, first.salt, first.iterations)
    const withoutProof = formatClientFinalWithoutProof(first.nonce)
    const message = authMessage(state.bare, first.text, withoutProof)
    const proof = clientProof(this.#params, salted, message)
    this.#state = { kind: 'awaiting-server-final', expected: serverSignature(this.#params, serverKey(this.#params, salted), message) }
    return { kind: 'send', token: Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8') }
  }

  #serverFinal (state: Extract<State, { kind: 'awaiting-server-final' }>, token: Buffer): SaslClientStep {
    const parsed = parseServerFinal(token.toString('utf8'))
    if (!parsed.ok) return this.#fail(parsed.reason)
    if (parsed.message.kind === 'error') return this.#fail(`the server refused: ${parsed.message.error}`)
    if (!signaturesEqual(parsed.message.signature, state.expected)) return this.#fail('invalid server signature in the server final message')
    this.#state = { kind: 'complete' }
    return { kind: 'complete' }
  }

  #fail (reason: string): SaslClientStep {
    this.#state = { kind: 'failed' }
    return { kind: 'failed', reason: `SASL/${this.mechanism}: ${reason}` }
  }
}
