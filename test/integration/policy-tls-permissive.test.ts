// Issue 9 acceptance, permissive then strict on one port: `kproxy serve --workers 2` with
// brokerMode.tls.mode permissive. kcat in plaintext and kafkajs with a client certificate both
// produce and consume on the same listener; /metrics names the plaintext peer and client id.
// A reload to strict (POST /reload of the rewritten config file) closes the plaintext connection
// that is open and refuses a new plaintext client, while the mTLS producer connected before it
// carries on without reconnecting (no new TLS handshake, no new connection).
import t from 'tap'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { tally } from '../helpers/e2e-records.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { WireConnection } from '../helpers/wire-connection.ts'

const N = 1000

t.test('permissive then strict on one port', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 1 })
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-permissive-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const ca = await createCa({ days: 2 })
  const server = await issueCertificate(ca, { name: 'kproxy', server: true, sans: ['IP:127.0.0.1', 'DNS:localhost'], days: 2 })
  const alice = await issueCertificate(ca, { name: 'alice', client: true, days: 2 })
  writeFileSync(join(dir, 'server.crt'), server.chain)
  writeFileSync(join(dir, 'server.key'), server.key, { mode: 0o600 })
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  const configFile = join(dir, 'kproxy.yaml')
  const config = (mode: string): string => [
    'brokerMode:',
    `  upstream: ${cluster.bootstrap}`,
    '  tls:',
    `    mode: ${mode}`,
    `    cert: ${join(dir, 'server.crt')}`,
    `    key: ${join(dir, 'server.key')}`,
    `    ca: ${join(dir, 'ca.crt')}`,
    '    clientAuth: require',
    "    principalMappingRules: ['RULE:^CN=([^,]+)$/$1/', DEFAULT]",
    ''
  ].join('\n')
  writeFileSync(configFile, config('permissive'))
  const proxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', configFile], readyTimeoutMs: 120_000 })
  t.teardown(() => {
    if (t.passing()) return
    for (const l of proxy.logs.filter(l => typeof l.level === 'number' && l.level >= 40).slice(-30)) t.comment(JSON.stringify(l))
  })
  const unique = Date.now()
  const mtls = (clientId: string): Kafka => new Kafka({
    clientId,
    brokers: [proxy.bootstrap],
    ssl: { ca: [ca.cert], cert: alice.cert, key: alice.key },
    logLevel: logLevel.NOTHING
  })
  const admin = mtls('permissive-admin').admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const plainTopic = `permissive-kcat-${unique}`
  const tlsTopic = `permissive-kafkajs-${unique}`
  await createTopicsAndWait(admin, ([plainTopic, tlsTopic]).map(topic => ({ topic, numPartitions: 3, replicationFactor: 1 })))

  t.test('kcat in plaintext produces and consumes on the permissive listener', async t => {
    const expected = Array.from({ length: N }, (_, i) => `plain-${i}`)
    const p = await kcat(['-P', '-b', proxy.bootstrap, '-t', plainTopic, '-X', 'client.id=legacy-billing', '-X', 'acks=all'], { input: expected.join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(p.code, 0, p.stderr)
    const c = await kcat(['-C', '-b', proxy.bootstrap, '-t', plainTopic, '-X', 'client.id=legacy-billing', '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { timeoutMs: 60_000 })
    t.equal(c.code, 0, c.stderr)
    const r = tally(c.stdout.split('\n').filter(Boolean), expected)
    t.same({ count: r.count, missing: r.missing, duplicates: r.duplicates }, { count: N, missing: 0, duplicates: 0 })
  })

  t.test('kafkajs with a client certificate produces and consumes on the same port', async t => {
    const producer = mtls('permissive-mtls').producer()
    await producer.connect()
    const expected = Array.from({ length: N }, (_, i) => `tls-${i}`)
    for (let i = 0; i < N; i += 250) await producer.send({ topic: tlsTopic, acks: -1, messages: expected.slice(i, i + 250).map(value => ({ value })) })
    await producer.disconnect()
    // read back with kafkajs over mTLS
    const consumer = mtls('permissive-mtls-reader').consumer({ groupId: `g-${tlsTopic}`, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic: tlsTopic, fromBeginning: true })
    const got: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${N} records within 60 s`)), 60_000)
      consumer.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()); if (got.length >= N) { clearTimeout(timer); resolve() } } }).catch(reject)
    })
    await consumer.disconnect()
    const r = tally(got, expected)
    t.same({ count: r.count, missing: r.missing, duplicates: r.duplicates }, { count: N, missing: 0, duplicates: 0 })
  })

  t.test('/metrics names the plaintext peer and client id', async t => {
    const m = await proxy.metrics()
    t.comment(m.split('\n').filter(l => l.startsWith('kproxy_plaintext_connections_total')).join('\n'))
    t.ok(metricSum(m, 'kproxy_plaintext_connections_total', 'peer="127.0.0.1",client_id="legacy-billing"') >= 2, 'kcat\'s plaintext connections are counted by peer and client id')
    t.equal(metricSum(m, 'kproxy_plaintext_connections_total', 'client_id="permissive-mtls"'), 0, 'TLS connections are not')
  })

  t.test('reload to strict: plaintext refused and closed, the mTLS producer carries on without reconnecting', async t => {
    const producer = mtls('strict-survivor').producer()
    await producer.connect()
    await producer.send({ topic: tlsTopic, acks: -1, messages: [{ value: 'before' }] })
    // an open plaintext connection that has been answered once
    const wire = await WireConnection.open('127.0.0.1', proxy.listenPort)
    wire.send(encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 1, clientId: 'legacy-open' }, { ...getApi(ApiKey.ApiVersions).request.create(), clientSoftwareName: 'x', clientSoftwareVersion: '1' }))
    t.ok(await wire.nextFrame(10_000) !== null, 'the plaintext connection is answered before the reload')

    const before = await proxy.metrics()
    writeFileSync(configFile, config('strict'))
    const reload = await fetch(`${proxy.adminUrl}/reload`, { method: 'POST' })
    const body = await reload.text()
    t.equal(reload.status, 200, body)
    t.match(body, /brokerMode\.tls\.mode/, 'applied live')
    t.equal(await wire.nextFrame(10_000), null, 'the open plaintext connection is closed')
    t.ok(wire.isClosed)

    let sent = 0
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic: tlsTopic, acks: -1, messages: [{ value: `after-${i}` }] })
      sent++
    }
    const refused = await kcat(['-L', '-b', proxy.bootstrap, '-m', '5'], { timeoutMs: 20_000 })
    t.not(refused.code, 0, 'a new plaintext client is refused')
    await sleep(200)
    const after = await proxy.metrics()
    t.equal(sent, 20, 'the mTLS producer went on sending after the reload')
    // the producer's connections were all open before the reload: the only new connection and
    // handshake failures after it are kcat's refused plaintext attempts
    t.equal(metricSum(after, 'kproxy_tls_handshakes_total') - metricSum(before, 'kproxy_tls_handshakes_total'), 0, 'no new TLS handshake: the mTLS client did not reconnect')
    t.ok(metricSum(after, 'kproxy_tls_handshake_failures_total', 'reason="not_tls"') > metricSum(before, 'kproxy_tls_handshake_failures_total', 'reason="not_tls"'), 'the refused plaintext attempts are counted as not_tls')
    t.ok(proxy.logs.some(l => l.code === 'KPROXY_ERR_PLAINTEXT_REFUSED'), 'the closed plaintext connection is logged')
    await producer.disconnect()
  })
})
