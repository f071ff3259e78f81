// What the SASL servers ask of a credential store (the credentials file's loaded set
// implements it). Lookups are synchronous map reads; only the PLAIN check itself is slow.
import type { PasswordVerifier } from './password-hash.ts'
import type { ScramMechanismName } from './sasl-mechanism.ts'
import type { ScramCredential } from './scram-formulas.ts'

export interface SaslCredentials {
  scram (mechanism: ScramMechanismName, username: string): ScramCredential | undefined
  plain (username: string): PasswordVerifier | undefined
}
