// SASL/PLAIN client: one token out, an empty answer back.
import { formatPlain } from './plain-messages.ts'
import type { SaslClient, SaslClientCredentials, SaslClientStep } from './sasl-client.ts'

export class PlainClient implements SaslClient {
  readonly mechanism = 'PLAIN' as const
  readonly #credentials: SaslClientCredentials
  #state: 'initial' | 'sent' | 'complete' | 'failed' = 'initial'

  constructor (credentials: SaslClientCredentials) {
    this.#credentials = credentials
  }

  async start (): Promise<SaslClientStep> {
    if (this.#state !== 'initial') return this.#fail(`start() called in state ${this.#state}`)
    this.#state = 'sent'
    return { kind: 'send', token: formatPlain(this.#credentials.username, this.#credentials.password) }
  }

  async evaluate (serverToken: Buffer): Promise<SaslClientStep> {
    if (this.#state !== 'sent') return this.#fail(`a server token arrived in state ${this.#state}`)
    if (serverToken.length !== 0) return this.#fail('the server answered PLAIN with a non-empty token')
    this.#state = 'complete'
    return { kind: 'complete' }
  }

  #fail (reason: string): SaslClientStep {
    this.#state = 'failed'
    return { kind: 'failed', reason: `SASL/PLAIN: ${reason}` }
  }
}
