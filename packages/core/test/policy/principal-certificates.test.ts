import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { createCa, issueCertificate } from '../../src/certs/x509.ts'
import type { IssueCertificateOptions } from '../../src/certs/x509.ts'
import { BROKER_MAPPING_RULE, PrincipalCertificates, certificateUser } from '../../src/policy/principal-certificates.ts'
import { identityFromX509, mapPrincipal, parsePrincipalRules } from '../../src/tls/principal-mapping.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'

const HOUR = 3_600_000

t.test('certificates per principal: one signing at a time, cached, renewed ahead of expiry, never expired, bounded', async t => {
  const ca = await createCa({ commonName: 'test CA' })
  const signed: string[] = []
  let now = Date.now()
  const certs = new PrincipalCertificates({
    sign: async (o: IssueCertificateOptions) => { signed.push(o.name); return await issueCertificate(ca, o) },
    validityMs: 24 * HOUR,
    renewBeforeMs: 8 * HOUR,
    maxCached: 2,
    now: () => now
  })
  t.equal(certs.peek('User:alice'), undefined, 'nothing before the first get')
  const [a1, a2] = await Promise.all([certs.get('User:alice'), certs.get('User:alice')])
  t.equal(a1, a2)
  t.same(signed, ['alice'], 'two connections, one signing')
  t.equal(certs.peek('User:alice'), a1, 'then synchronously')

  const x = new X509Certificate(a1.cert)
  t.equal(identityFromX509(x).subject, 'CN=alice,OU=kproxy-principal,O=kproxy')
  t.equal(mapPrincipal(parsePrincipalRules([BROKER_MAPPING_RULE, 'DEFAULT']), identityFromX509(x)), 'alice', "the broker's rule gives back the user")
  t.ok(x.checkIssued(new X509Certificate(ca.cert)))
  t.ok(Math.abs(Date.parse(x.validTo) - (now + 24 * HOUR)) < 2000)
  t.equal(a1.renewAt, a1.notAfter - 8 * HOUR)

  now += 17 * HOUR
  t.equal(certs.peek('User:alice'), a1, 'due for renewal: the old one still serves...')
  t.equal(signed.length, 2, '...while a new one is signed')
  t.equal(await certs.get('User:alice'), a1, 'get() does not wait for the renewal either')
  while (certs.peek('User:alice') === a1) await new Promise(resolve => setTimeout(resolve, 20))
  const renewed = certs.peek('User:alice')!
  t.ok(renewed.notAfter > a1.notAfter, 'the renewed certificate took over')
  t.equal(signed.length, 2, 'one renewal, however often peeked')

  now += 30 * HOUR
  t.equal(certs.peek('User:alice'), undefined, 'an expired certificate is never handed out')
  const fresh = await certs.get('User:alice')
  t.ok(fresh.notAfter > now)

  await certs.get('User:bob')
  await certs.get('User:carol')
  t.equal(certs.size, 2, 'bounded')
  t.equal(certs.peek('User:alice'), undefined, 'the least recently used left')
})

t.test('principals a DN cannot carry exactly are refused; a failed signing is retried next time', async t => {
  for (const p of ['Group:ops', 'User:', 'User:a,b', 'User:a=b', 'User: lead', 'User:#x', 'User:a\\b', `User:${'x'.repeat(65)}`]) {
    const r = certificateUser(p)
    t.ok(isKproxyError(r, 'KPROXY_ERR_PRINCIPAL_CERT'), p)
  }
  t.equal(certificateUser('User:svc-orders.eu_1@acme'), 'svc-orders.eu_1@acme')
  let fail = true
  const ca = await createCa()
  const certs = new PrincipalCertificates({
    sign: async o => { if (fail) throw new Error('pool is down'); return await issueCertificate(ca, o) },
    validityMs: HOUR,
    renewBeforeMs: 0,
    maxCached: 10
  })
  await t.rejects(certs.get('User:a,b'), { code: 'KPROXY_ERR_PRINCIPAL_CERT', message: /escape/ })
  await t.rejects(certs.get('User:alice'), { code: 'KPROXY_ERR_PRINCIPAL_CERT', message: /pool is down/ })
  t.equal(certs.size, 0)
  fail = false
  t.equal((await certs.get('User:alice')).principal, 'User:alice')
})
