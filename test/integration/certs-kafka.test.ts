// Certificates from `kproxy certs` in real Kafka: the sandbox broker's SSL listener (client
// certificates required) uses a PEM keystore and truststore built from them, as
// docs/certificates.md describes, and kcat and Kafka's Java tools connect with them.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hasKcat, kafkaCluster, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { kproxyCerts } from '../helpers/kproxy-certs.ts'

function kcatSsl (caFile: string, cert?: { crt: string, key: string }): string[] {
  const args = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${caFile}`]
  if (cert !== undefined) args.push('-X', `ssl.certificate.location=${cert.crt}`, '-X', `ssl.key.location=${cert.key}`)
  return args
}

t.test('the sandbox SSL listener with kproxy certificates accepts kcat with a client certificate and refuses it without', { skip: hasKcat() ? false : 'kcat is not installed (apt-get install -y kcat)' }, async t => {
  const dir = t.testdir()
  const ca = join(dir, 'ca')
  const certs = join(dir, 'certs')
  await kproxyCerts('init', '--dir', ca, '--cn', 'kafka test CA', '--days', '2')
  await kproxyCerts('issue', '--ca', ca, '--name', 'broker', '--server', '--san', 'DNS:localhost,IP:127.0.0.1', '--days', '2', '--out', certs)
  await kproxyCerts('issue', '--ca', ca, '--name', 'app-1,app-2', '--client', '--days', '2', '--out', certs)
  await kproxyCerts('init', '--dir', join(dir, 'other-ca'), '--days', '2')
  await kproxyCerts('issue', '--ca', join(dir, 'other-ca'), '--name', 'intruder', '--client', '--out', join(dir, 'other'))

  // Kafka's PEM keystore is one file: the PKCS#8 key, then the certificate chain.
  const keystore = (name: string): string => {
    const path = join(certs, `${name}-keystore.pem`)
    writeFileSync(path, readFileSync(join(certs, `${name}.key`), 'utf8') + readFileSync(join(certs, `${name}.crt`), 'utf8'), { mode: 0o600 })
    return path
  }
  const cluster = await kafkaCluster(t, {
    tls: true,
    brokerConfig: {
      'listener.name.ssl.ssl.keystore.location': keystore('broker'),
      'listener.name.ssl.ssl.truststore.location': join(certs, 'ca.crt')
    }
  })
  const info = cluster.info
  const tlsBootstrap = info.tls!.bootstrap
  const caFile = join(certs, 'ca.crt')
  const app1 = { crt: join(certs, 'app-1.crt'), key: join(certs, 'app-1.key') }

  const meta = await kcat(['-L', '-b', tlsBootstrap, '-m', '15', ...kcatSsl(caFile, app1)])
  t.equal(meta.code, 0, meta.stderr)
  t.same(kcatBrokers(meta.stdout), [{ id: 1, host: '127.0.0.1', port: info.brokers[0]!.tlsPort! }], 'kcat -L over mTLS lists the broker')

  const none = await kcat(['-L', '-b', tlsBootstrap, '-m', '6', ...kcatSsl(caFile)])
  t.not(none.code, 0, 'without a client certificate: refused')
  t.notMatch(none.stdout, /broker \d+ at/)
  // Java answers a missing client certificate with a bad_certificate alert (42).
  t.match(none.stderr, /alert bad certificate|certificate required/i, 'the broker refused the handshake')

  const intruder = await kcat(['-L', '-b', tlsBootstrap, '-m', '6', ...kcatSsl(caFile, { crt: join(dir, 'other', 'intruder.crt'), key: join(dir, 'other', 'intruder.key') })])
  t.not(intruder.code, 0, 'with a certificate from another CA: refused')
  t.notMatch(intruder.stdout, /broker \d+ at/)
  t.match(intruder.stderr, /SSL alert number \d+/, 'by a TLS alert from the broker')

  // The sandbox's own CA is not the one the broker now uses: its client certificate is refused too.
  const sandboxClient = await kcat(['-L', '-b', tlsBootstrap, '-m', '6', ...kcatSsl(caFile, { crt: info.tls!.clientCert, key: info.tls!.clientKey })])
  t.not(sandboxClient.code, 0, 'the sandbox CA is no longer trusted by the broker')

  // Records over mTLS, produced and consumed with different client certificates.
  const produced = await kcat(['-P', '-b', tlsBootstrap, '-t', 'certs-topic', '-m', '15', ...kcatSsl(caFile, app1)], { input: 'one\ntwo\nthree\n' })
  t.equal(produced.code, 0, produced.stderr)
  const consumed = await kcat(['-C', '-b', tlsBootstrap, '-t', 'certs-topic', '-o', 'beginning', '-c', '3', '-e', '-m', '15',
    ...kcatSsl(caFile, { crt: join(certs, 'app-2.crt'), key: join(certs, 'app-2.key') })])
  t.equal(consumed.code, 0, consumed.stderr)
  t.equal(consumed.stdout, 'one\ntwo\nthree\n')

  // Kafka's Java client with a PEM keystore and truststore from the same files.
  const clientProperties = join(certs, 'app-2.properties')
  writeFileSync(clientProperties, [
    'security.protocol=SSL',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${keystore('app-2')}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${caFile}`,
    ''
  ].join('\n'))
  const java = await cluster.runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', tlsBootstrap, '--command-config', clientProperties, '--list'])
  t.equal(java.code, 0, java.stderr)
  t.match(java.stdout, /^certs-topic$/m, 'the Java client over mTLS sees the topic')
})
