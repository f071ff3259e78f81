// upstreamIdentity: certificate on the dialer: a connection given a client identity presents that
// certificate, not the configured one (found by the identity-to-broker acceptance test: the
// broker saw kproxy's own certificate on every client connection).
import t from 'tap'
import { createServer } from 'node:tls'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { principalCertificateOptions } from '@kproxy/core/policy/principal-certificates'
import { createUpstreamDialer } from '../../src/net/upstream-dialer.ts'

t.test('a dial with an identity presents its certificate; one without, the configured one', async t => {
  const dir = t.testdir()
  const ca = await createCa({ days: 1 })
  const validity = (): [Date, Date] => [new Date(Date.now() - 60_000), new Date(Date.now() + 3_600_000)]
  const server = await issueCertificate(ca, { name: 'broker', server: true, sans: ['IP:127.0.0.1'], days: 1 })
  const own = await issueCertificate(ca, principalCertificateOptions('kproxy', ...validity()))
  const bob = await issueCertificate(ca, principalCertificateOptions('bob', ...validity()))
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  writeFileSync(join(dir, 'k.crt'), own.chain)
  writeFileSync(join(dir, 'k.key'), own.key)
  const seen: string[] = []
  const srv = createServer({ cert: server.chain, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, s => {
    seen.push(String(s.getPeerCertificate().subject.CN))
    s.end()
  })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => srv.close())
  const port = (srv.address() as { port: number }).port
  const dialer = createUpstreamDialer({ ca: join(dir, 'ca.crt'), cert: join(dir, 'k.crt'), key: join(dir, 'k.key'), checkHostname: false, serverName: null, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }, pino({ level: 'silent' }), noopProxyMetrics)
  t.teardown(() => dialer.close())
  const identity = { chain: bob.chain, key: bob.key }
  for (const id of [null, identity, identity]) {
    const s = dialer.dial({ host: '127.0.0.1', port }, id)
    await new Promise(resolve => { s.on('close', resolve); s.on('error', () => {}); s.resume() })
  }
  t.same(seen, ['kproxy', 'bob', 'bob'])
})
