import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { createCa } from '@kproxy/core/certs/x509'
import { principalCertificateOptions } from '@kproxy/core/policy/principal-certificates'
import { createSigningPool } from '../../src/certs/signing-pool.ts'

t.test('signs on a piscina thread; errors come back coded', async t => {
  const ca = await createCa()
  const pool = createSigningPool(ca, 1)
  t.teardown(() => pool.close())
  const now = Date.now()
  const issued = await pool.sign(principalCertificateOptions('alice', new Date(now - 60_000), new Date(now + 3_600_000)))
  const x = new X509Certificate(issued.cert)
  t.equal(x.subject, 'O=kproxy\nOU=kproxy-principal\nCN=alice')
  t.ok(x.checkIssued(new X509Certificate(ca.cert)))
  t.ok(issued.chain.endsWith(ca.cert))
  await t.rejects(pool.sign({ name: 'x' }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
})
