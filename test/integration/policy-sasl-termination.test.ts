// Issue 9 acceptance, SASL termination: `kproxy serve --workers 2` authenticates clients itself
// against a credentials file written by `kproxy users add`, with users that do not exist on the
// brokers (carol, dave), and logs in to the brokers' SASL listener with its own credentials
// (policy.sasl.upstream: SCRAM-SHA-512 as the sandbox's alice). kafkajs (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512), Kafka's Java console tools (SCRAM) and kcat (PLAIN) produce and consume through
// it; wrong passwords get SASL_AUTHENTICATION_FAILED (58, as kafkajs, kcat and the Java client
// decode it); users added, re-passworded and removed with `kproxy users` while kproxy runs apply
// without a restart; a request sent before authentication closes the connection and never
// reaches the broker.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import type { SASLOptions } from 'kafkajs'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { kafkajsGroupRead, tally, waitFor } from '../helpers/e2e-records.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { observedSasl } from '../helpers/kafkajs-sasl-error.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { WireConnection } from '../helpers/wire-connection.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))
const N = 1000
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
type Mechanism = typeof MECHANISMS[number]
// users of kproxy only: the brokers know alice and bob, not these
const CAROL = { name: 'carol', password: 'carol-at-kproxy' }
const DAVE = { name: 'dave', password: 'dave-at-kproxy' }

function kcatSasl (mechanism: Mechanism, user: string, password: string): string[] {
  return ['-X', 'security.protocol=sasl_plaintext', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`]
}

function kafkajsSasl (mechanism: Mechanism, username: string, password: string): SASLOptions {
  return { mechanism: mechanism.toLowerCase() as 'plain', username, password } as SASLOptions
}

t.test('SASL termination: users that exist only at kproxy, kproxy logs in upstream as itself', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 1, sasl: true })
  const sasl = cluster.info.sasl!
  const brokerAlice = sasl.users.find(u => u.name === 'alice')!
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-sasl-termination-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const users = join(dir, 'users.yaml')
  for (const u of [CAROL, DAVE]) {
    const r = spawnSync(KPROXY, ['users', 'add', u.name, '--file', users, '--mechanism', 'plain', '--mechanism', 'scram-sha-256', '--mechanism', 'scram-sha-512', '--password-stdin'], { input: `${u.password}\n`, encoding: 'utf8' })
    t.equal(r.status, 0, `kproxy users add ${u.name}: ${r.stderr}`)
  }
  writeFileSync(join(dir, 'upstream.pw'), `${brokerAlice.password}\n`, { mode: 0o600 })
  const configFile = join(dir, 'kproxy.yaml')
  writeFileSync(configFile, [
    'brokerMode:',
    `  upstream: ${sasl.bootstrap}`,
    'policy:',
    '  sasl:',
    '    mechanisms: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]',
    '    credentialsFile: users.yaml',
    `    upstream: { mechanism: SCRAM-SHA-512, username: ${brokerAlice.name}, passwordFile: upstream.pw }`,
    ''
  ].join('\n'))
  // /ready: kproxy's own start-up Metadata request to the SASL listener now logs in first
  const proxy = await serveKproxy(t, { upstream: sasl.bootstrap, workers: 2, args: ['--config', configFile], readyTimeoutMs: 120_000 })
  t.teardown(() => {
    if (t.passing()) return
    for (const l of proxy.logs.filter(l => typeof l.level === 'number' && l.level >= 40).slice(-40)) t.comment(JSON.stringify(l))
  })
  t.pass('GET /ready is 200 in front of a SASL-only upstream (kproxy logged in with its own credentials)')

  const direct = await kcat(['-L', '-b', sasl.bootstrap, ...kcatSasl('PLAIN', CAROL.name, CAROL.password)], { timeoutMs: 20_000 })
  t.not(direct.code, 0, 'carol cannot log in to the brokers directly: she does not exist there')

  const kafkaFor = (mechanism: Mechanism, user = CAROL, clientId = `sasl-term-${mechanism.toLowerCase()}`): Kafka =>
    new Kafka({ clientId, brokers: [proxy.bootstrap], sasl: kafkajsSasl(mechanism, user.name, user.password), logLevel: logLevel.NOTHING })
  const admin = kafkaFor('SCRAM-SHA-512').admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const unique = Date.now()
  const topic = (what: string): string => `sasl-term-${what}-${unique}`
  await createTopicsAndWait(admin, ([...MECHANISMS.map(m => topic(`kafkajs-${m.toLowerCase()}`)), topic('kcat-plain'), topic('java-scram-sha-256'), topic('java-scram-sha-512')]).map(topic => ({ topic, numPartitions: 3, replicationFactor: 1 })))

  for (const mechanism of MECHANISMS) {
    t.test(`kafkajs ${mechanism} as carol (kproxy-only user): produce, dave reads back in a group`, async t => {
      const name = topic(`kafkajs-${mechanism.toLowerCase()}`)
      const producer = kafkaFor(mechanism).producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      const expected = Array.from({ length: N }, (_, i) => `kafkajs-${mechanism}-${i}`)
      for (let i = 0; i < N; i += 250) await producer.send({ topic: name, acks: -1, messages: expected.slice(i, i + 250).map(value => ({ value })) })
      await producer.disconnect()
      const got = await kafkajsGroupRead(kafkaFor(mechanism, DAVE), name, `g-${name}`, N)
      const r = tally(got, expected)
      t.same({ count: r.count, missing: r.missing, duplicates: r.duplicates }, { count: N, missing: 0, duplicates: 0 }, r.examples.join('; '))
    })
  }

  t.test('kcat PLAIN as carol: produce and consume', async t => {
    const name = topic('kcat-plain')
    const expected = Array.from({ length: N }, (_, i) => `kcat-${i}`)
    const p = await kcat(['-P', '-b', proxy.bootstrap, '-t', name, '-X', 'acks=all', ...kcatSasl('PLAIN', CAROL.name, CAROL.password)], { input: expected.join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(p.code, 0, p.stderr)
    const c = await kcat(['-C', '-b', proxy.bootstrap, '-t', name, '-o', 'beginning', '-e', '-q', '-f', '%s\n', ...kcatSasl('PLAIN', DAVE.name, DAVE.password)], { timeoutMs: 60_000 })
    t.equal(c.code, 0, c.stderr)
    const r = tally(c.stdout.split('\n').filter(Boolean), expected)
    t.same({ count: r.count, missing: r.missing, duplicates: r.duplicates }, { count: N, missing: 0, duplicates: 0 })
  })

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    t.test(`Kafka's Java console tools ${mechanism} as carol and dave`, async t => {
      const name = topic(`java-${mechanism.toLowerCase()}`)
      const props = (user: typeof CAROL): string[] => [
        '--command-property', 'security.protocol=SASL_PLAINTEXT',
        '--command-property', `sasl.mechanism=${mechanism}`,
        '--command-property', `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user.name}" password="${user.password}";`
      ]
      const expected = Array.from({ length: 300 }, (_, i) => `java-${mechanism}-${i}`)
      const p = await cluster.runKafkaTool('org.apache.kafka.tools.ConsoleProducer', ['--bootstrap-server', proxy.bootstrap, '--topic', name, ...props(CAROL)], { input: expected.join('\n') + '\n', timeoutMs: 90_000 })
      t.equal(p.code, 0, p.stderr.slice(-2000))
      const c = await cluster.runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer',
        ['--bootstrap-server', proxy.bootstrap, '--topic', name, '--from-beginning', '--max-messages', String(expected.length), '--timeout-ms', '30000', ...props(DAVE)], { timeoutMs: 90_000 })
      t.equal(c.code, 0, c.stderr.slice(-2000))
      t.same(c.stdout.split('\n').filter(Boolean).sort(), [...expected].sort(), 'exact content')
    })
  }

  t.test('wrong passwords: SASL_AUTHENTICATION_FAILED (58) from kproxy, as each client decodes it', async t => {
    const before = await proxy.metrics()
    // -d broker: librdkafka's debug FAIL line ends with the name of the error it failed the
    // connection with. It turns SaslAuthenticate error code 58, and only 58, into its local
    // _AUTHENTICATION; another code keeps its own name (34 prints as ILLEGAL_SASL_STATE).
    const bad = await kcat(['-L', '-b', proxy.bootstrap, '-m', '5', '-d', 'broker', ...kcatSasl('PLAIN', CAROL.name, 'not-the-password')], { timeoutMs: 20_000 })
    t.not(bad.code, 0, 'kcat -L fails')
    t.match(bad.stderr, /\|FAIL\|.*SASL authentication error: Authentication failed: Invalid username or password \(after [^)]*\) \(_AUTHENTICATION\)/, 'kcat PLAIN: Kafka\'s sentence, with error code 58')
    for (const mechanism of MECHANISMS) {
      const { sasl, errors } = observedSasl(mechanism, CAROL.name, 'not-the-password')
      const client = new Kafka({ clientId: `sasl-term-bad-${mechanism}`, brokers: [proxy.bootstrap], sasl, logLevel: logLevel.NOTHING }).admin()
      const err = await client.connect().then(() => null, (e: unknown) => e as Error)
      await client.disconnect().catch(() => {})
      t.equal(err?.name, 'KafkaJSSASLAuthenticationError', `kafkajs ${mechanism}: ${err?.message ?? 'connected'}`)
      const decoded = errors.map(e => ({ name: e.name, type: e.type, code: e.code }))
      t.same(decoded, [{ name: 'KafkaJSProtocolError', type: 'SASL_AUTHENTICATION_FAILED', code: 58 }], `kafkajs ${mechanism}: the SaslAuthenticate response carried error code 58`)
    }
    // the brokers' own user is not a kproxy user either
    const brokerAliceSasl = observedSasl('SCRAM-SHA-512', brokerAlice.name, brokerAlice.password)
    const brokerUser = new Kafka({ clientId: 'sasl-term-broker-user', brokers: [proxy.bootstrap], sasl: brokerAliceSasl.sasl, logLevel: logLevel.NOTHING }).admin()
    const err = await brokerUser.connect().then(() => null, (e: unknown) => e as Error)
    await brokerUser.disconnect().catch(() => {})
    t.equal(err?.name, 'KafkaJSSASLAuthenticationError', 'a broker-only user is refused by kproxy')
    t.same(brokerAliceSasl.errors.map(e => e.code), [58], 'with code 58')
    // Kafka's Java client maps the code to the exception class (Errors.forCode(58) is
    // SaslAuthenticationException; 34 would be IllegalSaslStateException, and so on)
    const javaProps = join(dir, 'java-wrong-password.properties')
    writeFileSync(javaProps, [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${CAROL.name}" password="not-the-password";`,
      ''
    ].join('\n'))
    const java = await cluster.runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', proxy.bootstrap, '--command-config', javaProps, '--list'], { timeoutMs: 90_000 })
    t.not(java.code, 0, 'kafka-topics --list fails')
    t.match(java.stderr + java.stdout, /org\.apache\.kafka\.common\.errors\.SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/, 'Java: SaslAuthenticationException, the class Kafka\'s client makes of code 58')
    const after = await proxy.metrics()
    const failed = metricSum(after, 'kproxy_sasl_events_total', 'event="failed"') - metricSum(before, 'kproxy_sasl_events_total', 'event="failed"')
    t.ok(failed >= 6, `kproxy_sasl_events_total{event="failed"} grew by ${failed}`)
    t.notOk(JSON.stringify(proxy.logs).includes('not-the-password'), 'no password in kproxy\'s logs')
  })

  t.test('kproxy users add / add again / remove while kproxy runs: every worker reloads the file, no restart', async t => {
    const ERIN = { name: 'erin', password: 'erin-first' }
    const ERIN_NEW = { name: 'erin', password: 'erin-second' }
    const usersCli = (args: string[], password?: string): void => {
      const r = spawnSync(KPROXY, ['users', ...args, '--file', users], { input: password === undefined ? '' : `${password}\n`, encoding: 'utf8' })
      t.equal(r.status, 0, `kproxy users ${args.join(' ')}: ${r.stdout}${r.stderr}`)
    }
    // the documented way: each worker polls the credentials file every second and logs the new
    // version (docs/policy.md, "The credentials file"); wait for both workers to log it
    const reloadsSince = (mark: number): Set<unknown> => new Set(proxy.logs.slice(mark).filter(l => l.msg === 'SASL credentials file reloaded; new logins use it').map(l => l.worker))
    const bothWorkersReloaded = async (mark: number, what: string): Promise<void> => {
      const workers = await waitFor(`both workers reload the credentials file after ${what}`, () => { const w = reloadsSince(mark); return w.size === 2 ? w : undefined }, 30_000)
      t.equal(workers.size, 2, `both workers reloaded after ${what} (workers ${[...workers].join(', ')})`)
    }
    const loginCodes = async (user: typeof ERIN, clientId: string): Promise<{ connected: boolean, codes: unknown[] }> => {
      const { sasl, errors } = observedSasl('SCRAM-SHA-512', user.name, user.password)
      const admin = new Kafka({ clientId, brokers: [proxy.bootstrap], sasl, logLevel: logLevel.NOTHING }).admin()
      const connected = await admin.connect().then(() => true, () => false)
      await admin.disconnect().catch(() => {})
      return { connected, codes: errors.map(e => e.code) }
    }
    const pid = proxy.child.pid
    const before = await proxy.metrics()
    t.equal(metricSum(before, 'kproxy_workers'), 2, 'two worker threads answer /metrics')
    t.equal(metricSum(before, 'kproxy_worker_restarts_total'), 0, 'no worker was restarted so far')

    t.same(await loginCodes(ERIN, 'sasl-term-erin-unknown'), { connected: false, codes: [58] }, 'erin is not a user yet: SASL_AUTHENTICATION_FAILED')

    let mark = proxy.logs.length
    usersCli(['add', ERIN.name, '--mechanism', 'scram-sha-512', '--password-stdin'], ERIN.password)
    await bothWorkersReloaded(mark, 'users add erin')
    const name = topic('reloaded-user')
    const expected = Array.from({ length: 300 }, (_, i) => `erin-${i}`)
    const erin = (clientId: string): Kafka => new Kafka({ clientId, brokers: [proxy.bootstrap], sasl: kafkajsSasl('SCRAM-SHA-512', ERIN.name, ERIN.password), logLevel: logLevel.NOTHING })
    const erinAdmin = erin('sasl-term-erin-admin').admin()
    await erinAdmin.connect()
    await createTopicsAndWait(erinAdmin, [{ topic: name, numPartitions: 3, replicationFactor: 1 }])
    await erinAdmin.disconnect()
    const producer = erin('sasl-term-erin-producer').producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({ topic: name, acks: -1, messages: expected.map(value => ({ value })) })
    await producer.disconnect()
    const r = tally(await kafkajsGroupRead(erin('sasl-term-erin-consumer'), name, `g-${name}`, expected.length), expected)
    t.same({ count: r.count, missing: r.missing, duplicates: r.duplicates }, { count: expected.length, missing: 0, duplicates: 0 }, `erin, added while kproxy runs, produces and consumes: ${r.examples.join('; ')}`)

    mark = proxy.logs.length
    usersCli(['add', ERIN_NEW.name, '--mechanism', 'scram-sha-512', '--password-stdin'], ERIN_NEW.password)
    await bothWorkersReloaded(mark, 'a new password for erin')
    t.same(await loginCodes(ERIN, 'sasl-term-erin-old'), { connected: false, codes: [58] }, 'the old password is refused: SASL_AUTHENTICATION_FAILED')
    t.same(await loginCodes(ERIN_NEW, 'sasl-term-erin-new'), { connected: true, codes: [] }, 'the new password logs in')

    mark = proxy.logs.length
    usersCli(['remove', ERIN.name])
    await bothWorkersReloaded(mark, 'users remove erin')
    t.same(await loginCodes(ERIN_NEW, 'sasl-term-erin-removed'), { connected: false, codes: [58] }, 'after remove, erin is refused: SASL_AUTHENTICATION_FAILED')

    const after = await proxy.metrics()
    t.equal(proxy.child.pid, pid, 'the same kproxy process')
    t.equal(proxy.child.exitCode, null, 'still running')
    t.equal(metricSum(after, 'kproxy_workers'), 2, 'two worker threads answer /metrics')
    t.equal(metricSum(after, 'kproxy_worker_restarts_total'), 0, 'no worker thread was restarted')
    t.notOk(proxy.logs.some(l => l.code === 'KPROXY_ERR_WORKER_EXIT' || l.code === 'KPROXY_ERR_WORKER_CRASH'), 'no worker exited or crashed')
    t.notOk(proxy.logs.some(l => l.code === 'KPROXY_ERR_CREDENTIALS_FILE'), 'every version was accepted')
    t.notOk(proxy.logs.some(l => typeof l.msg === 'string' && l.msg.startsWith('configuration reloaded')), 'no configuration reload was asked for: the file poll did it')
  })

  t.test('a request before authentication closes the connection and never reaches the broker', async t => {
    const before = await proxy.metrics()
    const wire = await WireConnection.open('127.0.0.1', proxy.listenPort)
    const body = getApi(ApiKey.Metadata).request.create()
    body.topics = null
    wire.send(encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 1, clientId: 'sneaky' }, body))
    t.equal(await wire.nextFrame(10_000), null, 'no answer: the connection is closed')
    t.ok(wire.isClosed)
    const after = await proxy.metrics()
    t.equal(metricSum(after, 'kproxy_sasl_events_total', 'event="refused_before_auth"') - metricSum(before, 'kproxy_sasl_events_total', 'event="refused_before_auth"'), 1, 'counted')
    t.ok(proxy.logs.some(l => l.code === 'KPROXY_ERR_SASL_REQUIRED'), 'logged with KPROXY_ERR_SASL_REQUIRED')
  })

  t.test('KIP-368: the Java consumer re-authenticates as itself when kproxy says the session ends (maxReauthMs 2000)', async t => {
    const reauthConfig = join(dir, 'kproxy-reauth.yaml')
    writeFileSync(reauthConfig, readFileSync(configFile, 'utf8').replace('    credentialsFile: users.yaml', '    credentialsFile: users.yaml\n    maxReauthMs: 2000'))
    const short = await serveKproxy(t, { upstream: sasl.bootstrap, workers: 2, args: ['--config', reauthConfig], readyTimeoutMs: 120_000 })
    const name = topic('java-scram-sha-512')
    const props = [
      '--command-property', 'security.protocol=SASL_PLAINTEXT',
      '--command-property', 'sasl.mechanism=SCRAM-SHA-512',
      '--command-property', `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${DAVE.name}" password="${DAVE.password}";`
    ]
    // reads the 300 records, then keeps polling until 8 s pass without one: several lifetimes
    const c = await cluster.runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer',
      ['--bootstrap-server', short.bootstrap, '--topic', name, '--from-beginning', '--timeout-ms', '8000', ...props], { timeoutMs: 90_000 })
    t.match(c.stderr, /Processed a total of 300 messages/, c.stderr.slice(-1500))
    const m = await short.metrics()
    t.comment(m.split('\n').filter(l => l.startsWith('kproxy_sasl_events_total')).join('\n'))
    t.ok(metricSum(m, 'kproxy_sasl_events_total', 'event="reauthenticated"') > 0, `re-authentications: ${metricSum(m, 'kproxy_sasl_events_total', 'event="reauthenticated"')}`)
    t.equal(metricSum(m, 'kproxy_sasl_events_total', 'event="expired"'), 0, 'no session ran out')
    t.equal(metricSum(m, 'kproxy_sasl_events_total', 'event="principal_change"'), 0)
    await short.stop()
  })

  t.test('/metrics: logins by mechanism', async t => {
    const m = await proxy.metrics()
    t.comment(m.split('\n').filter(l => l.startsWith('kproxy_sasl_events_total')).join('\n'))
    for (const mechanism of MECHANISMS) t.ok(metricSum(m, 'kproxy_sasl_events_total', `mechanism="${mechanism}",event="authenticated"`) > 0, `${mechanism} logins counted`)
    t.equal(metricSum(m, 'kproxy_decode_failures_total'), 0)
  })
})
