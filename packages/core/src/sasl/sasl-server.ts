// The server side of a SASL exchange, one object per attempt (a re-authentication starts a new
// one). The engine hands it each client token (SaslAuthenticate auth_bytes, or the raw token
// of SaslHandshake v0) and sends back what it answers. Promises, because PLAIN's password
// check runs on the thread pool; this is the connection's start, not the per-frame path.
import type { SaslFailure, SaslPhase } from './sasl-failure.ts'
import type { SaslMechanismName } from './sasl-mechanism.ts'

export type SaslServerStep =
  // send `token`, expect another client token
  | { readonly kind: 'challenge', readonly token: Buffer }
  // authenticated as `user` (the principal is User:<user>); send `token` (may be empty)
  | { readonly kind: 'complete', readonly token: Buffer, readonly user: string }
  // send the failure (SaslAuthenticate error_code + error_message), then close the connection
  | { readonly kind: 'failed', readonly failure: SaslFailure }

export interface SaslServer {
  readonly mechanism: SaslMechanismName
  evaluate (token: Buffer): Promise<SaslServerStep>
}

export interface SaslServerOptions {
  // changes the sentence a failed client is told, as Kafka's does
  readonly phase?: SaslPhase
}
