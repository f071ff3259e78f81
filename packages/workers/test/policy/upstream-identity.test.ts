// The worker's copies of principal certificates: one request per principal however many
// connections ask, a valid copy handed out at once, a renewal asked for in the background, never
// an expired one, a failure not cached, and the principal a connection is carried upstream as.
import t from 'tap'
import type { PrincipalCertificate } from '@kproxy/core/policy/principal-certificates'
import { UpstreamIdentity } from '../../src/policy/upstream-identity.ts'

const config = { mode: 'certificate' as const, caDir: '/ca', validityHours: 24, renewBeforeHours: 8, maxCached: 2 }

function setup (): { identity: UpstreamIdentity, asked: string[], clock: { now: number }, fail: Set<string> } {
  const clock = { now: 1_000_000 }
  const asked: string[] = []
  const fail = new Set<string>()
  const identity = new UpstreamIdentity(config, async principal => {
    asked.push(principal)
    if (fail.has(principal)) throw new Error('signing failed')
    const cert: PrincipalCertificate = { principal, cert: `cert-${principal}-${asked.length}`, key: 'k', chain: 'c', notAfter: clock.now + 1000, renewAt: clock.now + 600 }
    return cert
  }, () => clock.now)
  return { identity, asked, clock, fail }
}

t.test('principals without a type are users; ANONYMOUS too', async t => {
  t.equal(UpstreamIdentity.principalOf('alice'), 'User:alice')
  t.equal(UpstreamIdentity.principalOf('ANONYMOUS'), 'User:ANONYMOUS')
  t.equal(UpstreamIdentity.principalOf('User:bob'), 'User:bob')
})

t.test('one request per principal; then synchronous; renewed in the background; never expired', async t => {
  const { identity, asked, clock } = setup()
  const a = identity.certificate('User:alice')
  const b = identity.certificate('alice')
  t.ok(a instanceof Promise)
  t.equal(a, b, 'the same pending request for both connections')
  const first = await a
  t.same(asked, ['User:alice'])
  t.equal(identity.certificate('User:alice'), first, 'a valid copy is handed out synchronously')
  clock.now += 700
  t.equal(identity.certificate('User:alice'), first, 'due for renewal: the old one still serves...')
  t.same(asked, ['User:alice', 'User:alice'], '...and a renewal is asked for')
  await new Promise(resolve => setImmediate(resolve))
  const renewed = identity.certificate('User:alice') as PrincipalCertificate
  t.not(renewed, first)
  clock.now += 5000
  t.ok(identity.certificate('User:alice') instanceof Promise, 'expired: never handed out, a new one is asked for')
})

t.test('a failure is not cached; the cache is bounded', async t => {
  const { identity, asked, fail } = setup()
  fail.add('User:mallory')
  await t.rejects(identity.certificate('User:mallory') as Promise<PrincipalCertificate>, /signing failed/)
  fail.delete('User:mallory')
  await identity.certificate('User:mallory')
  t.same(asked, ['User:mallory', 'User:mallory'])
  await identity.certificate('User:a')
  await identity.certificate('User:b')
  t.ok(identity.certificate('User:mallory') instanceof Promise, 'the least recently used left (maxCached 2)')
})
