// The client side of a SASL exchange: kproxy logging in to a broker with its own credentials.
// `start` gives the initial response; each server token goes to `evaluate`. A failure is a
// value whose reason names no secret (the engine logs it with KPROXY_ERR_UPSTREAM_SASL).
import type { SaslMechanismName } from './sasl-mechanism.ts'

export type SaslClientStep =
  // send `token` (SaslAuthenticate auth_bytes), pass the broker's answer to evaluate()
  | { readonly kind: 'send', readonly token: Buffer }
  // the broker's last token checked out (SCRAM: its signature proves it knows the verifier)
  | { readonly kind: 'complete' }
  | { readonly kind: 'failed', readonly reason: string }

export interface SaslClient {
  readonly mechanism: SaslMechanismName
  start (): Promise<SaslClientStep>
  evaluate (serverToken: Buffer): Promise<SaslClientStep>
}

export interface SaslClientCredentials {
  readonly username: string
  readonly password: string
}
