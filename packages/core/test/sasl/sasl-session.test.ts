import t from 'tap'
import { checkReauthMechanism, checkReauthPrincipal, mayBeginReauthentication, openSession, sessionExpired, sessionLifetimeMs } from '../../src/sasl/sasl-session.ts'
import { ErrorCode } from '../../src/protocol/codec.ts'

t.test('lifetime: the listener maximum, the credential remainder, the smaller of both, or none', async t => {
  t.equal(sessionLifetimeMs({ maxReauthMs: null }, 1000), 0)
  t.equal(sessionLifetimeMs({ maxReauthMs: 0 }, 1000), 0)
  t.equal(sessionLifetimeMs({ maxReauthMs: 60_000 }, 1000), 60_000)
  t.equal(sessionLifetimeMs({ maxReauthMs: null, credentialExpiresAtMs: 31_000 }, 1000), 30_000)
  t.equal(sessionLifetimeMs({ maxReauthMs: 60_000, credentialExpiresAtMs: 31_000 }, 1000), 30_000)
  t.equal(sessionLifetimeMs({ maxReauthMs: 10_000, credentialExpiresAtMs: 31_000 }, 1000), 10_000)
  t.equal(sessionLifetimeMs({ maxReauthMs: 10_000, credentialExpiresAtMs: 500 }, 1000), 0, 'an expired credential: zero, never negative')
})

t.test('expiry and when a re-authentication may start', async t => {
  const forever = openSession('PLAIN', 'User:alice', { maxReauthMs: null }, 1000)
  t.equal(forever.expiresAtMs, null)
  t.notOk(sessionExpired(forever, 1e12))
  t.match(mayBeginReauthentication(forever, 1e12), { kind: 'not-now', reason: /no expiry/ })

  const s = openSession('SCRAM-SHA-512', 'User:alice', { maxReauthMs: 60_000 }, 1000)
  t.equal(s.lifetimeMs, 60_000)
  t.equal(s.expiresAtMs, 61_000)
  t.notOk(sessionExpired(s, 60_999))
  t.ok(sessionExpired(s, 61_000))
  t.match(mayBeginReauthentication(s, 1500), { kind: 'not-now', reason: /less than a second/ })
  t.same(mayBeginReauthentication(s, 2000), { kind: 'begin' })
})

t.test('a re-authentication keeps its mechanism and its principal', async t => {
  const s = openSession('SCRAM-SHA-512', 'User:alice', { maxReauthMs: 60_000 }, 0)
  t.equal(checkReauthMechanism(s, 'SCRAM-SHA-512'), null)
  t.match(checkReauthMechanism(s, 'PLAIN'), { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, message: "SASL mechanism 'PLAIN' requested by client is not supported for re-authentication of mechanism 'SCRAM-SHA-512'" })
  t.equal(checkReauthPrincipal(s, 'User:alice'), null)
  t.match(checkReauthPrincipal(s, 'User:bob'), { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, message: 'Cannot change principals during re-authentication from User.alice: User.bob' })
})
