// The SASL mechanisms kproxy speaks, on both sides (clients to kproxy, kproxy to the brokers).
// SCRAM's parameters are Kafka's (ScramMechanism): the hash, and the iteration bounds a
// credential must keep — a server refuses fewer than 4096 iterations, and Kafka refuses to
// store more than 16384.
export type SaslMechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
export type ScramMechanismName = Exclude<SaslMechanismName, 'PLAIN'>

export const SASL_MECHANISMS: readonly SaslMechanismName[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

export interface ScramParameters {
  readonly name: ScramMechanismName
  // node:crypto digest name
  readonly hash: 'sha256' | 'sha512'
  // bytes of H() and HMAC()
  readonly keyLength: number
  readonly minIterations: number
  readonly maxIterations: number
}

export const SCRAM_MECHANISMS: Readonly<Record<ScramMechanismName, ScramParameters>> = {
  'SCRAM-SHA-256': { name: 'SCRAM-SHA-256', hash: 'sha256', keyLength: 32, minIterations: 4096, maxIterations: 16384 },
  'SCRAM-SHA-512': { name: 'SCRAM-SHA-512', hash: 'sha512', keyLength: 64, minIterations: 4096, maxIterations: 16384 }
}

export function isSaslMechanism (name: string): name is SaslMechanismName {
  return (SASL_MECHANISMS as readonly string[]).includes(name)
}

export function isScramMechanism (name: string): name is ScramMechanismName {
  return name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512'
}
