// The loaded credentials, as the SASL servers read them. Immutable: a reload builds a new set
// and swaps it in, so an exchange in flight finishes against the set it started with.
import { PasswordVerifier } from '../sasl/password-hash.ts'
import type { SaslCredentials } from '../sasl/sasl-credentials.ts'
import type { SaslMechanismName, ScramMechanismName } from '../sasl/sasl-mechanism.ts'
import type { ScramCredential } from '../sasl/scram-formulas.ts'
import { parseCredentialsFile, userMechanisms } from './credentials-file.ts'
import type { CredentialEntries } from './credentials-file.ts'
import { watchPolicyFile } from './policy-file-watcher.ts'
import type { WatchedPolicyFile } from './policy-file-watcher.ts'
import type { KproxyError } from '../kproxy-error.ts'

export class CredentialSet implements SaslCredentials {
  readonly #entries: CredentialEntries
  readonly #plain = new Map<string, PasswordVerifier>()

  constructor (entries: CredentialEntries) {
    this.#entries = entries
    for (const [name, e] of entries) if (e.plain !== undefined) this.#plain.set(name, new PasswordVerifier(e.plain))
  }

  static empty (): CredentialSet {
    return new CredentialSet(new Map())
  }

  get size (): number { return this.#entries.size }

  scram (mechanism: ScramMechanismName, username: string): ScramCredential | undefined {
    return this.#entries.get(username)?.scram[mechanism]
  }

  plain (username: string): PasswordVerifier | undefined {
    return this.#plain.get(username)
  }

  // Names and mechanisms only: safe to print and to log.
  list (): Array<{ name: string, mechanisms: SaslMechanismName[] }> {
    return [...this.#entries].map(([name, e]) => ({ name, mechanisms: userMechanisms(e) })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }
}

// The parse function for loadPolicyFile / watchPolicyFile.
export function parseCredentialSet (text: string, file: string): CredentialSet {
  return new CredentialSet(parseCredentialsFile(text, file))
}

// For the worker runtime: the credentials file watched, a new set per accepted version (the
// SASL servers take the current set when an exchange starts).
export function watchCredentials (path: string, handlers: { onChange?: (set: CredentialSet, version: number) => void, onError?: (err: KproxyError) => void } = {}): WatchedPolicyFile<CredentialSet> {
  return watchPolicyFile({ path, parse: parseCredentialSet, onChange: handlers.onChange, onError: handlers.onError })
}
