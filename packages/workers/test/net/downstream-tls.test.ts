// SNI name -> target, and the DownstreamTls pieces that do not need Kafka: file errors at start,
// the handshake-failure log bound. Real clients through real brokers: test/integration/tls-proxy.test.ts.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import type { SniConfig } from '@kproxy/core/config/proxy-config'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { DownstreamTls, sniBrokerName, sniTarget } from '../../src/net/downstream-tls.ts'
import { TlsFailureLog } from '../../src/net/tls-failure-log.ts'

const sni: SniConfig = { bootstrapName: 'kafka.example.com', brokerNamePattern: 'broker-{id}.kafka.example.com', advertisedPort: 9093 }

t.test('SNI names select the bootstrap or one broker; anything else is refused', async t => {
  t.same(sniTarget(sni, 'kafka.example.com'), { kind: 'bootstrap' })
  t.same(sniTarget(sni, 'KAFKA.example.com'), { kind: 'bootstrap' }, 'names are case-insensitive')
  t.same(sniTarget(sni, undefined), { kind: 'bootstrap' }, 'no SNI (a client connecting by IP) gets the bootstrap')
  t.same(sniTarget(sni, false), { kind: 'bootstrap' })
  t.same(sniTarget(sni, 'broker-7.kafka.example.com'), { kind: 'broker', nodeId: 7 })
  t.same(sniTarget(sni, 'broker-0.kafka.example.com'), { kind: 'broker', nodeId: 0 })
  for (const bad of ['broker-.kafka.example.com', 'broker-x.kafka.example.com', 'broker-1.other.com', 'evil.example', 'broker-1.kafka.example.com.evil', 'broker-1234567890.kafka.example.com']) {
    t.equal(sniTarget(sni, bad), null, bad)
  }
  const suffixOnly: SniConfig = { ...sni, brokerNamePattern: '{id}.brokers.example.com' }
  t.same(sniTarget(suffixOnly, '3.brokers.example.com'), { kind: 'broker', nodeId: 3 })
  t.equal(sniBrokerName(sni, 12), 'broker-12.kafka.example.com')
})

t.test('bad certificate files stop the start with a coded error naming the setting', async t => {
  const dir = t.testdir()
  const ca = await createCa({ days: 1 })
  const a = await issueCertificate(ca, { name: 'a', server: true, days: 1 })
  const b = await issueCertificate(ca, { name: 'b', server: true, days: 1 })
  writeFileSync(join(dir, 'a.crt'), a.chain)
  writeFileSync(join(dir, 'b.key'), b.key)
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n')
  const logger = pino({ level: 'silent' })
  const base = { mode: 'strict' as const, ca: null, clientAuth: 'none' as const, minVersion: 'TLSv1.2' as const, maxVersion: 'TLSv1.3' as const, ciphers: null, principalMappingRules: ['DEFAULT'], handshakeTimeoutMs: 1000 }
  t.throws(() => new DownstreamTls({ ...base, cert: join(dir, 'missing.crt'), key: join(dir, 'b.key') }, logger, noopProxyMetrics),
    { code: 'KPROXY_ERR_TLS_FILE', message: /brokerMode\.tls\.cert: cannot read .*missing\.crt \(ENOENT\)/ })
  t.throws(() => new DownstreamTls({ ...base, cert: join(dir, 'junk.pem'), key: join(dir, 'b.key') }, logger, noopProxyMetrics),
    { code: 'KPROXY_ERR_TLS_FILE', message: /holds no PEM block/ })
  t.throws(() => new DownstreamTls({ ...base, cert: join(dir, 'a.crt'), key: join(dir, 'b.key') }, logger, noopProxyMetrics),
    { code: 'KPROXY_ERR_TLS_FILE', message: /cannot be used together: .*key/ }, "a key that is not the certificate's")
})

t.test('refusal log lines are bounded; the rest are summed per reason', async t => {
  const lines: Array<Record<string, unknown>> = []
  const log = new TlsFailureLog(pino({ level: 'info' }, { write (s: string) { lines.push(JSON.parse(s)) } }))
  for (let i = 0; i < 50; i++) log.record({ reason: i % 2 === 0 ? 'not_tls' : 'unknown_ca' }, 'refused')
  t.equal(lines.length, 20, 'the first 20 of a window are logged')
  await new Promise(resolve => setTimeout(resolve, 10_100))
  t.equal(lines.length, 21, 'one summary line when the window ends')
  t.same(lines[20]!.suppressed, { not_tls: 15, unknown_ca: 15 })
  log.record({ reason: 'not_tls' }, 'refused')
  t.equal(lines.length, 22, 'a new window logs again')
})
