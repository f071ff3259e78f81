// Turning a password into what the credentials file keeps (used by `kproxy users add`).
import { randomBytes } from 'node:crypto'
import { DEFAULT_SCRYPT, hashPassword } from '../sasl/password-hash.ts'
import type { ScryptParameters } from '../sasl/password-hash.ts'
import { SCRAM_MECHANISMS } from '../sasl/sasl-mechanism.ts'
import type { SaslMechanismName } from '../sasl/sasl-mechanism.ts'
import { scramCredential } from '../sasl/scram-formulas.ts'
import type { UserCredentials } from './credentials-file.ts'

// Kafka's kafka-configs default; more is allowed up to the mechanism maximum (16384).
export const DEFAULT_SCRAM_ITERATIONS = 4096

export interface CredentialOptions {
  readonly iterations?: number
  readonly scrypt?: ScryptParameters
}

// Sets (or replaces) the given mechanisms of `entry` for `password`; others stay as they were.
export async function setPassword (entry: UserCredentials, mechanisms: readonly SaslMechanismName[], password: string, options: CredentialOptions = {}): Promise<void> {
  for (const m of mechanisms) {
    if (m === 'PLAIN') {
      entry.plain = await hashPassword(password, options.scrypt ?? DEFAULT_SCRYPT)
    } else {
      entry.scram[m] = await scramCredential(SCRAM_MECHANISMS[m], password, randomBytes(24), options.iterations ?? DEFAULT_SCRAM_ITERATIONS)
    }
  }
}
