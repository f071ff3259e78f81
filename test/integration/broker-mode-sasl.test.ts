// Issue 3, deliverable 3: SASL passes through broker mode unharmed. A 3-node sandbox with a
// SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), `kproxy serve --workers 2` in
// front of that listener, and real clients authenticating through kproxy: kcat (librdkafka),
// kafkajs and Kafka's own Java console tools. SaslHandshake v1 + SaslAuthenticate are ordinary
// requests to kproxy, so metadata is still rewritten and both show in /metrics; a wrong password
// is refused by the broker and leaves other connections alone.
import t from 'tap'
import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import type { SASLOptions } from 'kafkajs'
import { hasKcat, kafkaCluster, kcat, kcatBrokers } from '../helpers/kafka.ts'
import type { ProcessResult } from '../helpers/kafka.ts'
import { createDurableTopics, kafkajsGroupRead, tally } from '../helpers/e2e-records.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'

const N = 2000
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
type Mechanism = typeof MECHANISMS[number]

function portOf (hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))
}

// Until a TCP connection to the port succeeds (bounded): /healthz answers before the workers listen.
async function acceptsConnections (port: number, timeoutMs: number): Promise<boolean> {
  // tried at least once, then until the deadline
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return true
    if (Date.now() >= deadline) return false
    await sleep(100)
  }
}

// kafkajs sends SaslHandshake v0 and then raw tokens to brokers that list no SaslAuthenticate
// (Kafka before 1.0). Kafka 4.3.1 still accepts that, but lists SaslAuthenticate, so kafkajs is
// shown a trimmed ApiVersions (no key 36, SaslHandshake up to v0) while the switch is on: its real
// v0 code path then runs against the real broker. No other client at hand sends v0 (librdkafka
// and the Java client use v1 with any broker that has SaslAuthenticate).
interface KafkajsBrokerClass { prototype: { apiVersions: () => Promise<Record<number, { minVersion: number, maxVersion: number }>> } }
const kafkajsBroker = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as KafkajsBrokerClass
const realApiVersions = kafkajsBroker.prototype.apiVersions
function kafkajsSaslV0 (on: boolean): void {
  kafkajsBroker.prototype.apiVersions = !on
    ? realApiVersions
    : async function (this: unknown) {
      const versions = await realApiVersions.call(this)
      delete versions[36]
      versions[17] = { minVersion: 0, maxVersion: 0 }
      return versions
    }
}

function kcatSasl (mechanism: Mechanism, user: string, password: string): string[] {
  return ['-X', 'security.protocol=sasl_plaintext', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`]
}

function kafkajsSasl (mechanism: Mechanism, username: string, password: string): SASLOptions {
  const m = mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512'
  return { mechanism: m, username, password } as SASLOptions
}

// librdkafka before 2.6.1 appends its nonce twice in the SCRAM client-final-message; Kafka 4
// checks the nonce strictly (RFC 5802) and refuses the proof (confluentinc/librdkafka#4895).
// Debian's kcat links librdkafka 2.0.2.
function librdkafkaScramBug (r: ProcessResult): boolean {
  return r.code !== 0 && /invalid credentials with SASL mechanism SCRAM/.test(r.stderr)
}

t.test('SASL through broker mode: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3, sasl: true })
  const info = cluster.info
  const sasl = info.sasl!
  t.same(sasl.mechanisms, [...MECHANISMS], 'sandbox.json lists the mechanisms')
  t.equal(sasl.bootstrap, info.brokers.map(b => `127.0.0.1:${b.saslPort!}`).join(','), 'the SASL bootstrap is every broker\'s saslPort')
  const sandboxPorts = new Set(info.brokers.flatMap(b => [b.port, b.saslPort!]))
  t.equal(sandboxPorts.size, 6, 'each broker has its own PLAINTEXT and SASL_PLAINTEXT port')
  const alice = sasl.users.find(u => u.name === 'alice')!
  const bob = sasl.users.find(u => u.name === 'bob')!

  // kproxy's own start-up Metadata request carries no credentials, which a SASL listener refuses
  // by closing the connection: /ready cannot turn 200 (see the report / sasl-fix.patch), but
  // the listeners are open and client traffic flows. So wait for /healthz only.
  const proxy = await serveKproxy(t, { upstream: sasl.bootstrap, workers: 2, waitFor: 'healthz' })
  t.ok(await acceptsConnections(proxy.listenPort, 30_000), 'the bootstrap listener accepts connections')
  // On failure, kproxy's warnings and errors say which side closed what.
  t.teardown(() => {
    if (t.passing()) return
    for (const l of proxy.logs.filter(l => typeof l.level === 'number' && l.level >= 40).slice(-40)) t.comment(JSON.stringify(l))
  })
  const ready = await fetch(`${proxy.adminUrl}/ready`)
  t.comment(`GET /ready in front of a SASL-only upstream: ${ready.status} ${(await ready.text()).replace(/\s+/g, ' ').slice(0, 200)}`)
  const proxyPorts = new Set([1, 2, 3].map(id => proxy.listenPort + 1 + id))

  // In front of a SASL-only listener kproxy learns the brokers from the first authenticated
  // Metadata response that passes, and binds their ports then.
  const discovery = await kcat(['-L', '-b', proxy.bootstrap, ...kcatSasl('PLAIN', sasl.users[0]!.name, sasl.users[0]!.password)])
  t.equal(discovery.code, 0, discovery.stderr)
  for (const port of proxyPorts) t.ok(await acceptsConnections(port, 10_000), `kproxy listens on broker port ${port} after the first Metadata answer`)

  const kafkaFor = (mechanism: Mechanism, user = alice, clientId = `kproxy-sasl-${mechanism.toLowerCase()}`): Kafka =>
    new Kafka({ clientId, brokers: [proxy.bootstrap], sasl: kafkajsSasl(mechanism, user.name, user.password), logLevel: logLevel.NOTHING })

  const admin = kafkaFor('PLAIN').admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const unique = Date.now()
  const topics = Object.fromEntries(MECHANISMS.map(m => [m, { kcat: `sasl-kcat-${m.toLowerCase()}-${unique}`, kafkajs: `sasl-kafkajs-${m.toLowerCase()}-${unique}`, java: `sasl-java-${m.toLowerCase()}-${unique}` }])) as Record<Mechanism, { kcat: string, kafkajs: string, java: string }>
  await createDurableTopics(admin, MECHANISMS.flatMap(m => Object.values(topics[m])), 3)

  for (const mechanism of MECHANISMS) {
    t.test(`kcat ${mechanism}: metadata names only kproxy, records come back exactly`, async t => {
      const direct = await kcat(['-L', '-m', '5', '-b', sasl.bootstrap, ...kcatSasl(mechanism, alice.name, alice.password)])
      const listed = await kcat(['-L', '-m', '5', '-b', proxy.bootstrap, ...kcatSasl(mechanism, alice.name, alice.password)])
      if (librdkafkaScramBug(direct)) {
        // The client cannot do SCRAM with Kafka 4 at all; through kproxy it fails the same way.
        t.ok(librdkafkaScramBug(listed), `through kproxy kcat fails as it does directly: ${listed.stderr.split('\n').find(l => l.includes('SCRAM')) ?? listed.stderr.slice(-300)}`)
        t.comment(`kcat ${mechanism} skipped: this kcat's librdkafka cannot do SCRAM with Kafka 4 (fixed in librdkafka 2.6.1); kafkajs and the Java tools cover ${mechanism} below`)
        return
      }
      t.equal(direct.code, 0, `directly: ${direct.stderr}`)
      t.equal(listed.code, 0, listed.stderr)
      const brokers = kcatBrokers(listed.stdout)
      t.same(brokers.map(b => b.id), [1, 2, 3])
      for (const b of brokers) {
        t.equal(b.host, '127.0.0.1')
        t.ok(proxyPorts.has(b.port), `broker ${b.id} at kproxy port ${b.port}`)
        t.notOk(sandboxPorts.has(b.port), `broker ${b.id}: no sandbox port leaks`)
      }
      const topic = topics[mechanism].kcat
      const expected = Array.from({ length: N }, (_, i) => `kcat-${mechanism}-${i}-${'s'.repeat(i % 40)}`)
      const p = await kcat(['-P', '-b', proxy.bootstrap, '-t', topic, '-X', 'enable.idempotence=true', '-X', 'acks=all', ...kcatSasl(mechanism, alice.name, alice.password)],
        { input: expected.join('\n') + '\n', timeoutMs: 60_000 })
      t.equal(p.code, 0, p.stderr)
      const c = await kcat(['-C', '-b', proxy.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n', ...kcatSasl(mechanism, bob.name, bob.password)], { timeoutMs: 60_000 })
      t.equal(c.code, 0, c.stderr)
      const got = c.stdout.split('\n').filter(Boolean)
      const result = tally(got, expected)
      t.same({ count: result.count, missing: result.missing, duplicates: result.duplicates, unexpected: result.unexpected }, { count: N, missing: 0, duplicates: 0, unexpected: 0 }, result.examples.join('; '))
    })
  }

  for (const mechanism of MECHANISMS) {
    t.test(`kafkajs ${mechanism}: idempotent producer, consumer group reads back`, async t => {
      const kafka = kafkaFor(mechanism)
      const topic = topics[mechanism].kafkajs
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      const expected = Array.from({ length: N }, (_, i) => `kafkajs-${mechanism}-${i}`)
      for (let i = 0; i < N; i += 500) {
        await producer.send({ topic, acks: -1, messages: expected.slice(i, i + 500).map((value, j) => ({ key: String(i + j), value })) })
      }
      await producer.disconnect()
      const got = await kafkajsGroupRead(kafkaFor(mechanism, bob), topic, `g-${topic}`, N)
      const result = tally(got, expected)
      t.same({ count: result.count, missing: result.missing, duplicates: result.duplicates, unexpected: result.unexpected }, { count: N, missing: 0, duplicates: 0, unexpected: 0 }, result.examples.join('; '))
    })
  }

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    t.test(`Kafka's Java console tools ${mechanism} (the Java client: SaslHandshake v1 + SaslAuthenticate)`, async t => {
      const topic = topics[mechanism].java
      const props = (user: typeof alice): string[] => [
        '--command-property', 'security.protocol=SASL_PLAINTEXT',
        '--command-property', `sasl.mechanism=${mechanism}`,
        '--command-property', `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user.name}" password="${user.password}";`
      ]
      const expected = Array.from({ length: 500 }, (_, i) => `java-${mechanism}-${i}`)
      const p = await cluster.runKafkaTool('org.apache.kafka.tools.ConsoleProducer', ['--bootstrap-server', proxy.bootstrap, '--topic', topic, ...props(alice)],
        { input: expected.join('\n') + '\n', timeoutMs: 60_000 })
      t.equal(p.code, 0, p.stderr.slice(-2000))
      const c = await cluster.runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer',
        ['--bootstrap-server', proxy.bootstrap, '--topic', topic, '--from-beginning', '--max-messages', String(expected.length), '--timeout-ms', '30000', ...props(bob)], { timeoutMs: 60_000 })
      t.equal(c.code, 0, c.stderr.slice(-2000))
      const got = c.stdout.split('\n').filter(Boolean)
      t.same([...got].sort(), [...expected].sort(), 'exact content')
    })
  }

  t.test('a wrong password is refused by the broker through kproxy; other connections carry on', async t => {
    const before = await proxy.metrics()
    // A good producer keeps sending while bad clients fail.
    const good = kafkaFor('SCRAM-SHA-512').producer()
    await good.connect()
    let sent = 0
    let goodError: unknown = null
    let stop = false
    const goodLoop = (async () => {
      while (!stop) {
        try {
          await good.send({ topic: topics.PLAIN.kafkajs, acks: -1, messages: [{ value: `alongside-${sent}` }] })
          sent++
        } catch (err) {
          goodError = err
          return
        }
      }
    })()

    const badPlain = await kcat(['-L', '-b', proxy.bootstrap, '-m', '5', ...kcatSasl('PLAIN', alice.name, 'not-the-password')], { timeoutMs: 20_000 })
    t.not(badPlain.code, 0, 'kcat -L fails')
    t.match(badPlain.stderr, /SASL authentication error: Authentication failed: Invalid username or password/, 'the broker\'s own PLAIN error reaches the client')
    for (const mechanism of MECHANISMS) {
      const bad = kafkaFor(mechanism, { name: 'alice', password: 'not-the-password' }, `kproxy-sasl-bad-${mechanism}`).admin()
      const err = await bad.connect().then(() => null, (e: unknown) => e as Error & { name: string })
      await bad.disconnect().catch(() => {})
      t.equal(err?.name, 'KafkaJSSASLAuthenticationError', `kafkajs ${mechanism}: ${err?.message ?? 'connected'}`)
      t.match(err?.message ?? '', /SASL_AUTHENTICATION_FAILED|Authentication failed/, 'the broker\'s refusal (error 58) reaches the client')
    }
    stop = true
    await goodLoop
    await good.disconnect()
    t.equal(goodError, null, `the authenticated producer went on (${sent} sends alongside the refused clients)`)
    t.ok(sent > 0, `${sent} sends`)
    const after = await proxy.metrics()
    const delta = (name: string, labels: string): number => metricSum(after, name, labels) - metricSum(before, name, labels)
    t.ok(delta('kproxy_requests_total', 'api_key="36"') >= 4, `${delta('kproxy_requests_total', 'api_key="36"')} SaslAuthenticate requests during the refusals`)
    t.equal(delta('kproxy_decode_failures_total', ''), 0, 'no decode failures')
    // kproxy decodes only responses with broker addresses (and its own refusals): the
    // SaslAuthenticate error code (58) is relayed but not counted. Assert what is there.
    const saslErrors = metricSum(after, 'kproxy_response_errors_total', 'api="sasl_authenticate"')
    t.equal(saslErrors, 0, 'SaslAuthenticate error codes are not counted in kproxy_response_errors_total (responses relayed undecoded)')
    const after2 = await kcat(['-L', '-b', proxy.bootstrap, ...kcatSasl('PLAIN', alice.name, alice.password)])
    t.equal(after2.code, 0, `a new PLAIN client still gets metadata: ${after2.stderr}`)
  })

  // Last: the v0 connections leave kproxy out of the picture for the rest of their life.
  t.test('SaslHandshake v0 (kafkajs on its pre-SaslAuthenticate path): the connection becomes a byte relay', async t => {
    const before = await proxy.metrics()
    const warnsBefore = proxy.logs.filter(l => l.code === 'KPROXY_WARN_SASL_V0_PASSTHROUGH').length
    kafkajsSaslV0(true)
    t.teardown(() => kafkajsSaslV0(false))
    const kafka = kafkaFor('PLAIN', alice, 'kproxy-sasl-v0')
    const v0Admin = kafka.admin()
    await v0Admin.connect()
    const cluster = await v0Admin.describeCluster()
    await v0Admin.disconnect()
    const ports = cluster.brokers.map(b => b.port).sort((a, b) => a - b)
    t.comment(`metadata over a v0 connection names ports ${ports.join(', ')} (kproxy: ${[...proxyPorts].join(', ')}; brokers' SASL ports: ${info.brokers.map(b => b.saslPort!).join(', ')})`)
    t.same(ports, info.brokers.map(b => b.saslPort!).sort((a, b) => a - b), 'after v0 nothing is rewritten: the client learns the real broker addresses')
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: topics.PLAIN.kafkajs, acks: -1, messages: [{ value: 'v0' }] })
    await producer.disconnect()
    kafkajsSaslV0(false)
    const after = await proxy.metrics()
    const handshakesV0 = metricSum(after, 'kproxy_requests_total', 'api_key="17",version="0"') - metricSum(before, 'kproxy_requests_total', 'api_key="17",version="0"')
    t.ok(handshakesV0 >= 1, `${handshakesV0} SaslHandshake v0 requests through kproxy`)
    const warns = proxy.logs.filter(l => l.code === 'KPROXY_WARN_SASL_V0_PASSTHROUGH').length - warnsBefore
    t.ok(warns >= 1, `${warns} connection(s) logged KPROXY_WARN_SASL_V0_PASSTHROUGH`)
    t.equal(metricSum(after, 'kproxy_decode_failures_total'), metricSum(before, 'kproxy_decode_failures_total'), 'raw tokens are not mistaken for requests')
    const fresh = await kcat(['-L', '-b', proxy.bootstrap, ...kcatSasl('PLAIN', alice.name, alice.password)])
    t.equal(fresh.code, 0, fresh.stderr)
    t.ok(kcatBrokers(fresh.stdout).every(b => proxyPorts.has(b.port)), 'a v1 client afterwards still sees only kproxy')
  })

  t.test('/metrics: SaslHandshake (17) v1 and SaslAuthenticate (36) requests and responses', async t => {
    const m = await proxy.metrics()
    const lines = m.split('\n').filter(l => /api_key="(17|36)"/.test(l))
    t.comment(lines.join('\n'))
    t.ok(metricSum(m, 'kproxy_requests_total', 'api_key="17",version="1"') > 0, 'SaslHandshake v1 requests')
    t.ok(metricSum(m, 'kproxy_requests_total', 'api_key="36"') > 0, 'SaslAuthenticate requests')
    // A refused client (kcat -L -m 5 retrying until its timeout) may leave while its last
    // SaslHandshake or SaslAuthenticate is in flight: a few requests without a response.
    const handshakes = metricSum(m, 'kproxy_requests_total', 'api_key="17"')
    const handshakesAnswered = metricSum(m, 'kproxy_responses_total', 'api_key="17"')
    t.ok(handshakesAnswered <= handshakes && handshakes - handshakesAnswered <= 3, `SaslHandshake answered: ${handshakesAnswered} of ${handshakes}`)
    const authRequests = metricSum(m, 'kproxy_requests_total', 'api_key="36"')
    const authResponses = metricSum(m, 'kproxy_responses_total', 'api_key="36"')
    t.ok(authResponses <= authRequests && authRequests - authResponses <= 3, `SaslAuthenticate answered: ${authResponses} of ${authRequests}`)
    t.equal(metricSum(m, 'kproxy_decode_failures_total'), 0, 'no decode failures')
    // Evidence for the report: kproxy's own Metadata requests carry no credentials, so a worker
    // that has not seen a broker in its own clients' traffic cannot look it up (sasl-fix.patch).
    const codes = new Map<string, number>()
    for (const l of proxy.logs) if (typeof l.code === 'string') codes.set(l.code, (codes.get(l.code) ?? 0) + 1)
    t.comment(`kproxy log codes: ${[...codes].map(([c, n]) => `${c} x${n}`).join(', ')}`)
  })
})
