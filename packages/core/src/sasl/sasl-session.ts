// KIP-368 re-authentication, the decisions the engine asks for, as Kafka's broker makes them
// (SaslServerAuthenticator.ReauthInfo, KafkaChannel.maybeBeginServerReauthentication):
//  - the lifetime told to the client in SaslAuthenticate v1+ (session_lifetime_ms): the
//    listener's maximum (connections.max.reauth.ms) or the credential's remaining life,
//    whichever is shorter; 0 when neither is set (the session never expires);
//  - after the lifetime, any request other than SaslHandshake closes the connection;
//  - a SaslHandshake on an authenticated connection starts a re-authentication only when the
//    session has an expiry and the last authentication ended at least a second ago; otherwise
//    it is answered like any out-of-turn SaslHandshake (ILLEGAL_SASL_STATE);
//  - a re-authentication must use the same mechanism and end as the same principal, or it
//    fails and the connection is closed.
import { authenticationFailed } from './sasl-failure.ts'
import type { SaslFailure } from './sasl-failure.ts'
import type { SaslMechanismName } from './sasl-mechanism.ts'

export interface SaslSession {
  readonly mechanism: SaslMechanismName
  // 'User:alice'
  readonly principal: string
  readonly authenticatedAtMs: number
  // null: the session never expires
  readonly expiresAtMs: number | null
  // the lifetime to put in the SaslAuthenticate response (0 = none)
  readonly lifetimeMs: number
}

export interface SessionLimits {
  // the listener's connections.max.reauth.ms; null or 0 for none
  readonly maxReauthMs: number | null
  // when the credential itself expires (delegation tokens in Kafka); null for never
  readonly credentialExpiresAtMs?: number | null
}

const MIN_REAUTH_INTERVAL_MS = 1000

export function sessionLifetimeMs (limits: SessionLimits, nowMs: number): number {
  const max = limits.maxReauthMs !== null && limits.maxReauthMs > 0 ? limits.maxReauthMs : null
  const credential = limits.credentialExpiresAtMs ?? null
  if (max === null && credential === null) return 0
  if (credential === null) return max!
  const remaining = Math.max(0, credential - nowMs)
  return max === null ? remaining : Math.min(remaining, max)
}

export function openSession (mechanism: SaslMechanismName, principal: string, limits: SessionLimits, nowMs: number): SaslSession {
  const hasExpiry = (limits.maxReauthMs !== null && limits.maxReauthMs > 0) || (limits.credentialExpiresAtMs ?? null) !== null
  const lifetimeMs = sessionLifetimeMs(limits, nowMs)
  return { mechanism, principal, authenticatedAtMs: nowMs, expiresAtMs: hasExpiry ? nowMs + lifetimeMs : null, lifetimeMs }
}

// True when a request other than SaslHandshake must close the connection.
export function sessionExpired (session: SaslSession, nowMs: number): boolean {
  return session.expiresAtMs !== null && nowMs >= session.expiresAtMs
}

export type ReauthStart =
  | { readonly kind: 'begin' }
  // answer the SaslHandshake with ILLEGAL_SASL_STATE, as for any handshake out of turn
  | { readonly kind: 'not-now', readonly reason: string }

export function mayBeginReauthentication (session: SaslSession, nowMs: number): ReauthStart {
  if (session.expiresAtMs === null) return { kind: 'not-now', reason: 'the session has no expiry, so there is nothing to re-authenticate' }
  if (nowMs - session.authenticatedAtMs < MIN_REAUTH_INTERVAL_MS) return { kind: 'not-now', reason: 'the last authentication ended less than a second ago' }
  return { kind: 'begin' }
}

// The mechanism of a re-authentication's SaslHandshake.
export function checkReauthMechanism (session: SaslSession, mechanism: string): SaslFailure | null {
  if (mechanism === session.mechanism) return null
  return authenticationFailed(`SASL mechanism '${mechanism}' requested by client is not supported for re-authentication of mechanism '${session.mechanism}'`)
}

// The principal a re-authentication ended with; a different one is refused and the connection closed.
export function checkReauthPrincipal (session: SaslSession, principal: string): SaslFailure | null {
  if (principal === session.principal) return null
  return authenticationFailed(`Cannot change principals during re-authentication from ${kafkaStyle(session.principal)}: ${kafkaStyle(principal)}`)
}

// Kafka prints principals as Type.name in this one sentence.
function kafkaStyle (principal: string): string {
  const colon = principal.indexOf(':')
  return colon < 0 ? principal : `${principal.slice(0, colon)}.${principal.slice(colon + 1)}`
}
