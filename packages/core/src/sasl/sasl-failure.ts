// How a SASL exchange fails, in Kafka's terms. Kafka tells the client a fixed sentence for
// most failures ("... due to invalid credentials with SASL mechanism X") so that an
// unauthenticated peer cannot learn which users exist; a few failures carry their own
// sentence (a different authorization id, a bad PLAIN password). `reason` is for kproxy's
// log only and never holds a password, a proof or a verifier.
import { ErrorCode } from '../protocol/codec.ts'
import type { SaslMechanismName } from './sasl-mechanism.ts'

export interface SaslFailure {
  // SASL_AUTHENTICATION_FAILED (58), or ILLEGAL_SASL_STATE (34) for a token out of turn
  readonly errorCode: number
  // goes to the client in the SaslAuthenticate response's error message
  readonly message: string
  // goes to kproxy's log
  readonly reason: string
}

export type SaslPhase = 'authentication' | 're-authentication'

// Kafka's SaslServerAuthenticator sentence for a SaslException.
export function invalidCredentials (mechanism: SaslMechanismName, phase: SaslPhase, reason: string): SaslFailure {
  return {
    errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
    message: `Authentication failed during ${phase} due to invalid credentials with SASL mechanism ${mechanism}`,
    reason
  }
}

// Kafka's SaslAuthenticationException: the sentence itself goes to the client.
export function authenticationFailed (message: string, reason: string = message): SaslFailure {
  return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, message, reason }
}

export function illegalState (mechanism: SaslMechanismName, state: string): SaslFailure {
  return {
    errorCode: ErrorCode.ILLEGAL_SASL_STATE,
    message: `Unexpected SASL token in the ${mechanism} server state ${state}`,
    reason: `a ${mechanism} token arrived in state ${state}`
  }
}
