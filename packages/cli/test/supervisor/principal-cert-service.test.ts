// The supervisor's signing of principal certificates (upstreamIdentity: certificate): the CA read
// from caDir at the first request, the certificate's subject as the brokers map it, one signing
// per principal, and a clear error for a missing CA or a name a subject cannot carry.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { createCa } from '@kproxy/core/certs/x509'
import { PrincipalCertService } from '../../src/supervisor/principal-cert-service.ts'

const config = (caDir: string) => ({ mode: 'certificate' as const, caDir, validityHours: 24, renewBeforeHours: 8, maxCached: 100 })

t.test('signs CN=<user>,OU=kproxy-principal,O=kproxy with the CA of caDir, once per principal', async t => {
  const dir = t.testdir()
  const ca = await createCa({ days: 2 })
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  writeFileSync(join(dir, 'ca.key'), ca.key)
  const logs: any[] = []
  const service = new PrincipalCertService(config(dir), pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s)) }))
  t.teardown(() => service.close())
  const [a, b] = await Promise.all([service.certificate('User:alice'), service.certificate('User:alice')])
  t.equal(a, b, 'one signing for two requests')
  const x = new X509Certificate(a.cert)
  t.equal(x.subject.split('\n').reverse().join(','), 'CN=alice,OU=kproxy-principal,O=kproxy')
  t.ok(x.verify(new X509Certificate(ca.cert).publicKey), 'signed by the CA')
  t.equal(logs.filter(l => l.msg === 'upstream client certificate issued for a principal').length, 1)
  await t.rejects(service.certificate('User:a,b'), { code: 'KPROXY_ERR_PRINCIPAL_CERT' })
})

t.test('a missing CA fails the request with its code; the next one tries again', async t => {
  const dir = t.testdir()
  const service = new PrincipalCertService(config(dir), pino({ level: 'silent' }))
  t.teardown(() => service.close())
  await t.rejects(service.certificate('User:alice'), { code: /^KPROXY_ERR_CERTS_/ })
  const ca = await createCa({ days: 2 })
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  writeFileSync(join(dir, 'ca.key'), ca.key)
  const cert = await service.certificate('User:alice')
  t.match(cert.cert, /BEGIN CERTIFICATE/)
})
