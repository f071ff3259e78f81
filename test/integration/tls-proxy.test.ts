// Issue 4 through `kproxy serve` in front of a real 3-node cluster whose brokers only take TLS with
// client certificates:
// - an mTLS listener (client certificates from kproxy's own CA) with upstream mTLS to the brokers;
//   kcat and kafkajs produce and consume; the principal from the certificate (mapping rules)
//   is in the connection logs;
// - every refusal the issue names (no certificate, another CA, expired, plaintext on the TLS
//   port, TLS on a plaintext port, a wrong name on the upstream's certificate) is refused with a
//   log line naming the reason and counted in kproxy_tls_handshake_failures_total{reason},
//   while a kafkajs producer connected beforehand keeps working;
// - no key material in /config_dump or the logs;
// - certificate files replaced on disk: new handshakes get the new certificate, the existing
//   producer carries on;
// - SNI routing: a TLS client (kafkajs, its DNS mapped like a hosts file would) reaches all
//   three brokers through the one TLS port; an unknown server name is refused.
import t from 'tap'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import type { ConnectionOptions, TLSSocket } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import type { ISocketFactory } from 'kafkajs'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import type { CertificateAuthority } from '@kproxy/core/certs/x509'
import { hasKcat, kafkaCluster, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import type { ServedKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics, tally } from '../helpers/e2e-records.ts'
import { mtlsBrokerModeLines } from '../helpers/mtls-config.ts'

const DAY = 86_400_000

interface Pem { crt: string, key: string }

async function issueTo (dir: string, ca: CertificateAuthority, name: string, options: Omit<Parameters<typeof issueCertificate>[1], 'name'>): Promise<Pem> {
  const issued = await issueCertificate(ca, { name, days: 2, ...options })
  const crt = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  writeFileSync(crt, issued.chain)
  writeFileSync(key, issued.key, { mode: 0o600 })
  return { crt, key }
}

function kcatTls (caFile: string, cert?: Pem): string[] {
  const args = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${caFile}`]
  if (cert !== undefined) args.push('-X', `ssl.certificate.location=${cert.crt}`, '-X', `ssl.key.location=${cert.key}`)
  return args
}

function failures (metrics: string, reason: string): number {
  return metricSum(metrics, 'kproxy_tls_handshake_failures_total', `reason="${reason}"`)
}

// Waits until kproxy has logged a refusal with this reason (the log comes from a worker thread).
async function loggedReason (kproxy: ServedKproxy, reason: string): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 50; i++) {
    const line = kproxy.logs.find(l => l.reason === reason)
    if (line !== undefined) return line
    await sleep(100)
  }
  return undefined
}

// The certificate a fresh TLS handshake with kproxy presents.
function peerCertificate (port: number, options: ConnectionOptions): Promise<{ cn: string, serial: string }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ...options }, () => {
      const cert = socket.getPeerX509Certificate()!
      socket.destroy()
      resolve({ cn: /CN=([^\n]+)/.exec(cert.subject)?.[1] ?? '', serial: cert.serialNumber })
    })
    socket.on('error', reject)
  })
}

t.test('kproxy serve with TLS on both sides, in front of mTLS-only brokers', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3, tls: true })
  const sandboxTls = cluster.info.tls!
  const upstreamTls = ['--upstream-tls-ca', sandboxTls.ca, '--upstream-tls-cert', sandboxTls.clientCert, '--upstream-tls-key', sandboxTls.clientKey]
  const dir = t.testdir()
  const meshCa = await createCa({ commonName: 'kproxy test mesh CA', days: 2 })
  const otherCa = await createCa({ commonName: 'somebody else', days: 2 })
  const caFile = join(dir, 'mesh-ca.crt')
  writeFileSync(caFile, meshCa.cert)
  const server = await issueTo(dir, meshCa, 'kproxy', { server: true, sans: ['IP:127.0.0.1', 'DNS:localhost'] })
  const alice = await issueTo(dir, meshCa, 'alice', { client: true, subject: [{ name: 'organizationalUnitName', value: 'payments' }] })
  const bob = await issueTo(dir, meshCa, 'bob', { client: true })
  const intruder = await issueTo(dir, otherCa, 'intruder', { client: true })
  const expired = await issueTo(dir, meshCa, 'expired', { client: true, notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) })
  const config = join(dir, 'kproxy.yaml')
  writeFileSync(config, [
    ...mtlsBrokerModeLines(server, caFile, 'RULE:^CN=([^,]+),OU=payments(,.*)?$/$1@payments/L'),
    ''
  ].join('\n'))
  const kproxy = await serveKproxy(t, { upstream: sandboxTls.bootstrap, workers: 2, args: ['--config', config, ...upstreamTls] })
  const port = kproxy.listenPort

  t.test('mTLS clients produce and consume; principals come from the certificates', async t => {
    const meta = await kcat(['-L', '-b', kproxy.bootstrap, '-m', '15', ...kcatTls(caFile, alice)])
    t.equal(meta.code, 0, meta.stderr)
    t.same(kcatBrokers(meta.stdout).map(b => `${b.host}:${b.port}`).sort(), [1, 2, 3].map(id => `127.0.0.1:${port + 1 + id}`),
      'kcat over mTLS sees only kproxy addresses')
    const topic = `tls-kcat-${Date.now()}`
    const values = Array.from({ length: 5000 }, (_, i) => `alice-${i}`)
    const produced = await kcat(['-P', '-b', kproxy.bootstrap, '-t', topic, '-X', 'topic.acks=all', ...kcatTls(caFile, alice)], { input: values.join('\n') + '\n' })
    t.equal(produced.code, 0, produced.stderr)
    const consumed = await kcat(['-C', '-b', kproxy.bootstrap, '-t', topic, '-e', '-q', '-f', '%s\n', ...kcatTls(caFile, bob)])
    t.equal(consumed.code, 0, consumed.stderr)
    t.same(tally(consumed.stdout.split('\n').filter(Boolean), values), { count: values.length, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'kcat read back what kcat wrote, both over mTLS')
    const principals = new Set(kproxy.logs.filter(l => l.msg === 'connection open').map(l => l.principal))
    t.ok(principals.has('alice@payments'), `a RULE mapped alice's DN (principals seen: ${[...principals].join(' | ')})`)
    t.ok(principals.has('CN=bob'), 'DEFAULT gives the full DN')
    t.ok(kproxy.logs.filter(l => l.msg === 'connection open').every(l => l.upstreamTls === true), 'every upstream connection is TLS')
  })

  t.test('refusals are named, logged and counted; an established producer is unaffected', async t => {
    const kafka = new Kafka({
      clientId: 'tls-steady',
      brokers: [kproxy.bootstrap],
      ssl: { ca: [meshCa.cert], cert: readFileSync(alice.crt, 'utf8'), key: readFileSync(alice.key, 'utf8') },
      logLevel: logLevel.NOTHING
    })
    const admin = kafka.admin()
    await admin.connect()
    t.teardown(() => admin.disconnect())
    const topic = `tls-steady-${Date.now()}`
    await createDurableTopics(admin, [topic], 3)
    const producer = kafka.producer()
    await producer.connect()
    t.teardown(() => producer.disconnect())
    let sent = 0
    const send = async (): Promise<void> => {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 100 }, () => ({ value: `steady-${sent++}` })) })
    }
    await send()

    const cases: Array<{ reason: string, run: () => Promise<{ code: number | null, stderr: string }> }> = [
      { reason: 'no_client_cert', run: () => kcat(['-L', '-b', kproxy.bootstrap, '-m', '5', ...kcatTls(caFile)]) },
      { reason: 'unknown_ca', run: () => kcat(['-L', '-b', kproxy.bootstrap, '-m', '5', ...kcatTls(caFile, intruder)]) },
      { reason: 'cert_expired', run: () => kcat(['-L', '-b', kproxy.bootstrap, '-m', '5', ...kcatTls(caFile, expired)]) },
      { reason: 'not_tls', run: () => kcat(['-L', '-b', kproxy.bootstrap, '-m', '5']) }
    ]
    for (const c of cases) {
      const before = failures(await kproxy.metrics(), c.reason)
      const r = await c.run()
      t.not(r.code, 0, `${c.reason}: kcat is refused`)
      const line = await loggedReason(kproxy, c.reason)
      t.ok(line !== undefined && line.code === 'KPROXY_ERR_TLS_HANDSHAKE' && String(line.msg).includes(c.reason), `${c.reason}: a log line names the reason (${String(line?.msg)})`)
      t.ok(failures(await kproxy.metrics(), c.reason) > before, `${c.reason}: counted in kproxy_tls_handshake_failures_total`)
      await send()
    }

    // TLS client on a plaintext listener: a plain kproxy in front of the same brokers.
    const plain = await serveKproxy(t, { upstream: sandboxTls.bootstrap, workers: 1, args: upstreamTls })
    const tlsOnPlain = await kcat(['-L', '-b', plain.bootstrap, '-m', '5', ...kcatTls(caFile, alice)])
    t.not(tlsOnPlain.code, 0, 'tls_on_plaintext_port: kcat with TLS is refused by a plaintext listener')
    const line = await loggedReason(plain, 'tls_on_plaintext_port')
    t.ok(line !== undefined, `tls_on_plaintext_port: logged (${String(line?.msg)})`)
    t.ok(failures(await plain.metrics(), 'tls_on_plaintext_port') >= 1, 'tls_on_plaintext_port: counted')
    const plainMeta = await kcat(['-L', '-b', plain.bootstrap, '-m', '15'])
    t.equal(plainMeta.code, 0, 'the same plaintext listener still serves a plaintext client')

    // Upstream certificate with the wrong name: a kproxy that checks the brokers' certificates
    // for a name they do not carry (they name 127.0.0.1 and localhost) never gets upstream.
    const checking = await serveKproxy(t, {
      upstream: sandboxTls.bootstrap,
      workers: 1,
      args: [...upstreamTls, '--upstream-tls-server-name', 'not-the-broker.example'],
      waitFor: 'healthz'
    })
    const viaWrongName = await kcat(['-L', '-b', checking.bootstrap, '-m', '5'])
    t.not(viaWrongName.code, 0, 'upstream_hostname_mismatch: a client of that kproxy gets no metadata')
    const mismatch = await loggedReason(checking, 'upstream_hostname_mismatch')
    t.ok(mismatch !== undefined && mismatch.code === 'KPROXY_ERR_UPSTREAM_TLS', `upstream_hostname_mismatch: logged (${String(mismatch?.msg)})`)
    t.ok(failures(await checking.metrics(), 'upstream_hostname_mismatch') >= 1, 'upstream_hostname_mismatch: counted')
    t.equal((await fetch(`${checking.adminUrl}/ready`)).status, 503, '/ready says the upstream is not reachable')
    await send()
    t.equal(sent, 600, 'the established mTLS producer sent every batch in between')
  })

  t.test('no key material in /config_dump or logs', async t => {
    const dump = await (await fetch(`${kproxy.adminUrl}/config_dump`)).text()
    t.notOk(dump.includes('PRIVATE KEY'), 'no PEM key in /config_dump')
    t.notOk(dump.includes(server.key), 'the key path is redacted')
    t.ok(dump.includes(server.crt), 'the certificate path is shown')
    t.notOk(JSON.stringify(kproxy.logs).includes('PRIVATE KEY') || kproxy.stderr().includes('PRIVATE KEY'), 'no PEM key in the logs')
  })

  t.test('certificate files replaced on disk: new handshakes use them, a connected producer carries on', async t => {
    const kafka = new Kafka({
      clientId: 'tls-reload',
      brokers: [kproxy.bootstrap],
      ssl: { ca: [meshCa.cert], cert: readFileSync(bob.crt, 'utf8'), key: readFileSync(bob.key, 'utf8') },
      logLevel: logLevel.NOTHING
    })
    const producer = kafka.producer({ allowAutoTopicCreation: true })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const topic = `tls-reload-${Date.now()}`
    await producer.send({ topic, messages: [{ value: 'before' }] })
    const clientOpts = { ca: meshCa.cert, cert: readFileSync(bob.crt), key: readFileSync(bob.key), servername: 'localhost' }
    const first = await peerCertificate(port, clientOpts)
    t.equal(first.cn, 'kproxy')
    const opensBefore = kproxy.logs.filter(l => l.msg === 'connection open' && l.principal === 'CN=bob').length

    const renewed = await issueCertificate(meshCa, { name: 'kproxy-renewed', server: true, sans: ['IP:127.0.0.1', 'DNS:localhost'], days: 2 })
    // as certificate tools do it: write new files beside, then rename over the old ones
    writeFileSync(`${server.key}.new`, renewed.key, { mode: 0o600 })
    writeFileSync(`${server.crt}.new`, renewed.chain)
    renameSync(`${server.key}.new`, server.key)
    renameSync(`${server.crt}.new`, server.crt)
    const started = Date.now()
    let seen = first
    while (seen.cn !== 'kproxy-renewed' && Date.now() - started < 15_000) {
      await sleep(250)
      seen = await peerCertificate(port, clientOpts)
    }
    t.equal(seen.cn, 'kproxy-renewed', `a new handshake presents the new certificate (after ${Date.now() - started} ms)`)
    t.not(seen.serial, first.serial)
    await producer.send({ topic, messages: [{ value: 'after' }] })
    const opensAfter = kproxy.logs.filter(l => l.msg === 'connection open' && l.principal === 'CN=bob').length
    t.equal(opensAfter, opensBefore, 'the producer sent over its existing connection (no new connection for CN=bob)')
    t.ok(kproxy.logs.some(l => l.msg === 'TLS files reloaded; new handshakes use them'), 'the reload is logged')
  })

  t.test('SNI: one TLS port reaches all three brokers by server name', async t => {
    const domain = 'kafka.kproxy.test'
    const names = [domain, ...[1, 2, 3].map(id => `broker-${id}.${domain}`)]
    const sniCert = await issueTo(dir, meshCa, 'sni', { server: true, sans: names.map(n => `DNS:${n}`) })
    const sni = await serveKproxy(t, {
      upstream: sandboxTls.bootstrap,
      workers: 2,
      args: ['--tls-cert', sniCert.crt, '--tls-key', sniCert.key, '--sni-bootstrap-name', domain, ...upstreamTls]
    })
    // What a hosts file would do: every *.kafka.kproxy.test name is the proxy's address.
    const socketFactory: ISocketFactory = ({ host, port: p, ssl, onConnect }) =>
      tlsConnect({ ...(ssl as ConnectionOptions), host: host.endsWith(domain) ? '127.0.0.1' : host, port: p, servername: host }, onConnect)
    const kafka = new Kafka({
      clientId: 'sni',
      brokers: [`${domain}:${sni.listenPort}`],
      ssl: { ca: [meshCa.cert] },
      socketFactory,
      logLevel: logLevel.NOTHING
    })
    const admin = kafka.admin()
    await admin.connect()
    t.teardown(() => admin.disconnect())
    const described = await admin.describeCluster()
    t.same(described.brokers.map(b => `${b.host}:${b.port}`).sort(), [1, 2, 3].map(id => `broker-${id}.${domain}:${sni.listenPort}`),
      'brokers are advertised by name, all on the one port')
    const topic = `tls-sni-${Date.now()}`
    await createDurableTopics(admin, [topic], 6)
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    const leaders = new Set(md.topics[0]!.partitions.map(p => p.leader))
    const producer = kafka.producer()
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const values = Array.from({ length: 6000 }, (_, i) => `sni-${i}`)
    for (let i = 0; i < values.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: values.slice(i, i + 1000).map((value, j) => ({ key: String(i + j), value })) })
    }
    const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 200 })
    await consumer.connect()
    t.teardown(() => consumer.disconnect())
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} records within 60 s`)), 60_000)
      consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString())
          if (got.length >= values.length) { clearTimeout(timer); resolve() }
        }
      }).catch(reject)
    })
    t.same(tally(got, values), { count: values.length, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'every record read back through SNI routing')
    const targets = new Set(sni.logs.filter(l => l.msg === 'connection open').map(l => l.target))
    t.same([...leaders].sort().map(id => targets.has(`broker-${id}`)), [...leaders].map(() => true), `connections reached every partition leader (${[...targets].sort().join(', ')})`)
    t.equal(leaders.size, 3, 'the topic has leaders on all three brokers')

    const before = failures(await sni.metrics(), 'unknown_sni')
    const refused = await new Promise<string>(resolve => {
      const s = tlsConnect({ host: '127.0.0.1', port: sni.listenPort, servername: 'intruder.example', ca: meshCa.cert, rejectUnauthorized: false }, () => {
        s.on('close', () => resolve('closed after handshake'))
        s.write(Buffer.alloc(4))
      })
      s.on('error', err => resolve(`error: ${err.message}`))
    })
    t.ok(refused.length > 0, `an unknown server name is refused (${refused})`)
    t.ok(failures(await sni.metrics(), 'unknown_sni') > before, 'counted as unknown_sni')
  })
})
