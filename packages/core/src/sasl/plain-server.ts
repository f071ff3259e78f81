// SASL/PLAIN server, as Kafka's PlainSaslServer answers: one client token, an empty answer.
// The password is checked against the stored scrypt hash (password-hash.ts); an unknown user
// costs the same check against a decoy, so timing does not tell who exists.
import { decoyVerify } from './password-hash.ts'
import { parsePlain } from './plain-messages.ts'
import { authenticationFailed, illegalState, invalidCredentials } from './sasl-failure.ts'
import type { SaslPhase } from './sasl-failure.ts'
import type { SaslCredentials } from './sasl-credentials.ts'
import type { SaslServer, SaslServerOptions, SaslServerStep } from './sasl-server.ts'

const EMPTY = Buffer.alloc(0)

export class PlainServer implements SaslServer {
  readonly mechanism = 'PLAIN' as const
  readonly #credentials: SaslCredentials
  readonly #phase: SaslPhase
  #state: 'awaiting-response' | 'verifying' | 'complete' | 'failed' = 'awaiting-response'

  constructor (credentials: SaslCredentials, options: SaslServerOptions = {}) {
    this.#credentials = credentials
    this.#phase = options.phase ?? 'authentication'
  }

  get state (): string { return this.#state }

  async evaluate (token: Buffer): Promise<SaslServerStep> {
    if (this.#state !== 'awaiting-response') return { kind: 'failed', failure: illegalState('PLAIN', this.#state) }
    const parsed = parsePlain(token)
    if (!parsed.ok) return this.#fail(parsed.reason)
    const { authzid, username, password } = parsed.message
    if (username === '') return this.#fail('authentication failed: username not specified')
    if (password === '') return this.#fail('authentication failed: password not specified')
    this.#state = 'verifying'
    const verifier = this.#credentials.plain(username)
    const ok = verifier === undefined ? await decoyVerify(password) : await verifier.verify(password)
    if (!ok) {
      return this.#fail(`${verifier === undefined ? 'unknown user' : 'wrong password for user'} '${username}'`, 'Authentication failed: Invalid username or password')
    }
    if (authzid !== '' && authzid !== username) {
      return this.#fail(`the client asked for authorization id '${authzid}' as user '${username}'`,
        'Authentication failed: Client requested an authorization id that is different from username')
    }
    this.#state = 'complete'
    return { kind: 'complete', token: EMPTY, user: username }
  }

  #fail (reason: string, clientMessage?: string): SaslServerStep {
    this.#state = 'failed'
    return { kind: 'failed', failure: clientMessage === undefined ? invalidCredentials('PLAIN', this.#phase, reason) : authenticationFailed(clientMessage, reason) }
  }
}
