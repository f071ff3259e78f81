// Issue 9 acceptance, the client's identity carried to the broker: a broker with Kafka's own
// StandardAuthorizer, an SSL listener that trusts kproxy's CA and maps kproxy's principal
// certificates back with ssl.principal.mapping.rules (BROKER_MAPPING_RULE). alice and bob log in
// to `kproxy serve --workers 2` with SASL/PLAIN (users of kproxy only); with
// policy.upstreamIdentity certificate kproxy opens each one's broker connection with a
// certificate for that principal, signed by the supervisor. The broker's own ACLs then allow alice
// and deny bob, as when each connects to the broker directly with such a certificate.
import t from 'tap'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { Kafka, logLevel } from 'kafkajs'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import { BROKER_MAPPING_RULE, principalCertificateOptions } from '@kproxy/core/policy/principal-certificates'
import { kafkaCluster, kcat } from '../helpers/kafka.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'

// kafkajs's enums are not named exports of its CommonJS module
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs
const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))
const ALICE = { name: 'alice', password: 'alice-at-kproxy' }
const BOB = { name: 'bob', password: 'bob-at-kproxy' }

t.test('identity to the broker: the broker\'s own ACLs allow alice and deny bob through kproxy', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-identity-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // kproxy's CA (what `kproxy certs init` writes): the brokers trust it for client certificates
  const caDir = join(dir, 'ca')
  mkdirSync(caDir)
  const ca = await createCa({ commonName: 'kproxy principal CA', days: 2 })
  writeFileSync(join(caDir, 'ca.crt'), ca.cert)
  writeFileSync(join(caDir, 'ca.key'), ca.key, { mode: 0o600 })
  // kproxy's own upstream identity (metadata probes): a principal certificate for 'kproxy'
  const now = Date.now()
  const own = await issueCertificate(ca, principalCertificateOptions('kproxy', new Date(now - 60_000), new Date(now + 86_400_000)))
  writeFileSync(join(dir, 'kproxy.crt'), own.chain)
  writeFileSync(join(dir, 'kproxy.key'), own.key, { mode: 0o600 })

  const cluster = await kafkaCluster(t, {
    brokers: 1,
    tls: true,
    brokerConfig: {
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      // the PLAINTEXT listener (inter-broker, the test's own admin) and kproxy itself
      'super.users': 'User:ANONYMOUS;User:kproxy',
      'listener.name.ssl.ssl.truststore.location': join(caDir, 'ca.crt'),
      'listener.name.ssl.ssl.principal.mapping.rules': `${BROKER_MAPPING_RULE},DEFAULT`
    }
  })
  const tls = cluster.info.tls!
  const unique = Date.now()
  const topic = `identity-orders-${unique}`
  const group = `identity-group-${unique}`
  // ACLs set on the broker itself, over its PLAINTEXT listener (ANONYMOUS is a super user there)
  const brokerAdmin = new Kafka({ clientId: 'acl-setup', brokers: [cluster.bootstrap], logLevel: logLevel.NOTHING }).admin()
  await brokerAdmin.connect()
  t.teardown(() => brokerAdmin.disconnect())
  await brokerAdmin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true })
  await brokerAdmin.createAcls({
    acl: [
      ...[AclOperationTypes.WRITE, AclOperationTypes.READ, AclOperationTypes.DESCRIBE].map(operation => ({
        resourceType: AclResourceTypes.TOPIC, resourceName: topic, resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: 'User:alice', host: '*', operation, permissionType: AclPermissionTypes.ALLOW
      })),
      { resourceType: AclResourceTypes.GROUP, resourceName: group, resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW }
    ]
  })

  const users = join(dir, 'users.yaml')
  for (const u of [ALICE, BOB]) {
    const r = spawnSync(KPROXY, ['users', 'add', u.name, '--file', users, '--mechanism', 'plain', '--password-stdin'], { input: `${u.password}\n`, encoding: 'utf8' })
    t.equal(r.status, 0, r.stderr)
  }
  const configFile = join(dir, 'kproxy.yaml')
  writeFileSync(configFile, [
    'brokerMode:',
    `  upstream: ${tls.bootstrap}`,
    '  upstreamTls:',
    `    ca: ${tls.ca}`,
    `    cert: ${join(dir, 'kproxy.crt')}`,
    `    key: ${join(dir, 'kproxy.key')}`,
    'policy:',
    '  sasl:',
    '    mechanisms: [PLAIN]',
    '    credentialsFile: users.yaml',
    '  upstreamIdentity:',
    '    mode: certificate',
    '    caDir: ca',
    ''
  ].join('\n'))
  const proxy = await serveKproxy(t, { upstream: tls.bootstrap, workers: 2, args: ['--config', configFile], readyTimeoutMs: 120_000 })
  t.teardown(() => {
    if (t.passing()) return
    for (const l of proxy.logs.filter(l => typeof l.level === 'number' && l.level >= 40).slice(-30)) t.comment(JSON.stringify(l))
  })
  const through = (u: typeof ALICE): Kafka => new Kafka({ clientId: `identity-${u.name}`, brokers: [proxy.bootstrap], sasl: { mechanism: 'plain', username: u.name, password: u.password }, logLevel: logLevel.NOTHING, retry: { retries: 2 } })

  t.test('alice writes and reads: the broker sees User:alice and allows her', async t => {
    const producer = through(ALICE).producer()
    await producer.connect()
    const values = Array.from({ length: 200 }, (_, i) => `alice-${i}`)
    await producer.send({ topic, acks: -1, messages: values.map(value => ({ value })) })
    await producer.disconnect()
    const consumer = through(ALICE).consumer({ groupId: group, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} records`)), 60_000)
      consumer.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()); if (got.length >= values.length) { clearTimeout(timer); resolve() } } }).catch(reject)
    })
    await consumer.disconnect()
    t.same(got.sort(), values.sort())
    const issued = proxy.logs.filter(l => l.msg === 'upstream client certificate issued for a principal').map(l => l.principal)
    t.ok(issued.includes('User:alice'), `the supervisor signed alice's certificate (issued for: ${[...new Set(issued)].join(', ')})`)
  })

  t.test('bob is denied by the broker\'s own ACLs: TOPIC_AUTHORIZATION_FAILED', async t => {
    const producer = through(BOB).producer()
    await producer.connect()
    const err = await producer.send({ topic, acks: -1, messages: [{ value: 'bob' }] }).then(() => null, (e: unknown) => e as Error & { type?: string })
    await producer.disconnect()
    t.comment(`bob through kproxy: ${err?.name}: ${err?.message}`)
    const onBroker = await kcat(['-C', '-b', cluster.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { timeoutMs: 30_000 })
    t.equal(onBroker.stdout.split('\n').filter(v => v === 'bob').length, 0, 'nothing of bob\'s is stored (read on the broker directly)')
    await new Promise(resolve => setTimeout(resolve, 1000))
    const closed = proxy.logs.filter(l => l.msg === 'connection closed' && l.principal === 'User:bob')
    t.ok(closed.length > 0 && closed.every(l => l.upstreamPrincipal === 'User:bob'), `bob's connections went upstream as User:bob (${closed.length} closed)`)
    t.match(`${err?.message ?? 'accepted'} ${err?.type ?? ''}`, /TOPIC_AUTHORIZATION_FAILED|not authorized to access topics/i, 'the broker refuses bob')
  })

  t.test('as if they had connected directly: the same certificates straight to the broker', async t => {
    const direct = async (user: string): Promise<Error | null> => {
      const cert = await issueCertificate(ca, principalCertificateOptions(user, new Date(Date.now() - 60_000), new Date(Date.now() + 3_600_000)))
      const kafka = new Kafka({ clientId: `direct-${user}`, brokers: [tls.bootstrap], ssl: { ca: [await (await import('node:fs/promises')).readFile(tls.ca, 'utf8')], cert: cert.chain, key: cert.key }, logLevel: logLevel.NOTHING, retry: { retries: 2 } })
      const producer = kafka.producer()
      await producer.connect()
      const err = await producer.send({ topic, acks: -1, messages: [{ value: `direct-${user}` }] }).then(() => null, (e: unknown) => e as Error)
      await producer.disconnect()
      return err
    }
    t.equal(await direct('alice'), null, 'alice directly: allowed')
    const bob = await direct('bob')
    t.comment(`bob directly: ${bob?.name}: ${bob?.message}`)
    t.match(bob?.message ?? 'accepted', /not authorized|TOPIC_AUTHORIZATION_FAILED/i, 'bob directly: denied the same way')
  })
})
