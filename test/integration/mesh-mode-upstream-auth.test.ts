// Issue 10, deliverable 1: mesh clusters with kproxy's own security toward them. Two real Kafka
// clusters: one with a listener that requires SASL (PLAIN, SCRAM-SHA-256/512) and one that
// requires SASL over TLS (SASL_SSL, the same users), and one whose listener requires TLS with a
// client certificate (mTLS). kproxy serve in mesh mode routes five prefixes to five named clusters:
//   scram-*    the SASL cluster, SCRAM-SHA-512 as alice (password from a file)
//   plain-*    the same SASL cluster, PLAIN as bob (password from an environment variable)
//   mtls-*     the TLS cluster, with the sandbox's CA and client certificate
//   wrong-*    the SASL cluster, SCRAM-SHA-256 as alice with a wrong password
//   saslssl-*  the SASL cluster's SASL_SSL listener: TLS (the sandbox's CA) and SCRAM-SHA-512 as bob
// kafkajs (and kcat) produce through kproxy to all but `wrong` and read back through kproxy with
// one consumer group spanning both physical clusters; each cluster is then read directly (over its
// SASL or TLS listener) to see the records landed there. The wrong-password cluster's topic fails
// with a retriable error and a coded log line while the others keep working, and heals once its
// password file is fixed. No secret reaches
// the logs, /config_dump or /metrics. The SASL listener ends sessions after REAUTH_MS
// (connections.max.reauth.ms, KIP-368): kproxy's connections log in again on the same socket
// instead of being closed by the broker.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import type { KafkaConfig } from 'kafkajs'
import { freePort } from '../helpers/broker-proxy.ts'
import { kafkajsGroupRead, tally, waitFor } from '../helpers/e2e-records.ts'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'

// two single-node clusters, a kproxy and several client runs on a shared 2-core machine
t.setTimeout(900_000)

const N = 500
const WORKERS = 2
const SECRETS = ['alice-secret', 'bob-secret', 'not-alices-password']
const SASL_CLUSTERS = ['scram', 'plain', 'saslssl']
const REAUTH_MS = 4000

// SASL and TLS: SASL_PLAINTEXT, SSL and SASL_SSL listeners (the SSL one is not used here)
const saslCluster = await kafkaCluster(t, {
  brokers: 1,
  sasl: true,
  tls: true,
  brokerConfig: REAUTH_MS > 0 ? { 'listener.name.sasl_plaintext.connections.max.reauth.ms': REAUTH_MS, 'listener.name.sasl_ssl.connections.max.reauth.ms': REAUTH_MS } : {}
})
const tlsCluster = await kafkaCluster(t, { brokers: 1, tls: true })
const sasl = saslCluster.info.sasl!
const saslSslBootstrap = sasl.sslBootstrap!
const saslCa = saslCluster.info.tls!.ca
const tls = tlsCluster.info.tls!
const alice = sasl.users.find(u => u.name === 'alice')!
const bob = sasl.users.find(u => u.name === 'bob')!

const dir = mkdtempSync(join(tmpdir(), 'kproxy-mesh-upstream-auth-'))
writeFileSync(join(dir, 'alice.pw'), `${alice.password}\n`)
writeFileSync(join(dir, 'wrong.pw'), 'not-alices-password\n')
writeFileSync(join(dir, 'bob.pw'), `${bob.password}\n`)
const listenPort = await freePort()
const configFile = join(dir, 'mesh.yaml')
writeFileSync(configFile, [
  'mesh:',
  `  listen: 127.0.0.1:${listenPort}`,
  '  clusters:',
  '    - name: scram',
  `      bootstrap: [${sasl.bootstrap}]`,
  '      sasl: { mechanism: SCRAM-SHA-512, username: alice, passwordFile: alice.pw }',
  '    - name: plain',
  `      bootstrap: [${sasl.bootstrap}]`,
  '      sasl: { mechanism: PLAIN, username: bob, passwordEnv: MESH_PLAIN_PASSWORD }',
  '    - name: mtls',
  `      bootstrap: [${tls.bootstrap}]`,
  `      tls: { ca: ${tls.ca}, cert: ${tls.clientCert}, key: ${tls.clientKey} }`,
  '    - name: wrong',
  `      bootstrap: [${sasl.bootstrap}]`,
  '      sasl: { mechanism: SCRAM-SHA-256, username: alice, passwordFile: wrong.pw }',
  '    - name: saslssl',
  `      bootstrap: [${saslSslBootstrap}]`,
  `      tls: { ca: ${saslCa} }`,
  '      sasl: { mechanism: SCRAM-SHA-512, username: bob, passwordFile: bob.pw }',
  '  routes:',
  '    - { prefix: scram-, cluster: scram }',
  '    - { prefix: plain-, cluster: plain }',
  '    - { prefix: mtls-, cluster: mtls }',
  '    - { prefix: wrong-, cluster: wrong }',
  '    - { prefix: saslssl-, cluster: saslssl }',
  ''
].join('\n'))

// The cluster `wrong` never logs in, so GET /ready stays 503 (every cluster must answer): wait for
// /healthz and then for the listener.
const proxy = await serveKproxy(t, {
  upstream: null,
  listenPort,
  workers: WORKERS,
  args: ['--config', configFile],
  env: { MESH_PLAIN_PASSWORD: bob.password },
  waitFor: 'healthz',
  readyTimeoutMs: 120_000
})
await acceptsConnections(listenPort, 60_000)
const bootstrap = `127.0.0.1:${listenPort}`

async function acceptsConnections (port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() >= deadline) throw new Error(`kproxy mesh did not accept connections on ${port} within ${timeoutMs} ms`)
    await sleep(100)
  }
}

const viaProxy = (clientId: string, extra: Partial<KafkaConfig> = {}): Kafka =>
  new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, ...extra })
// straight at each cluster: the SASL cluster over its PLAINTEXT listener (kafkajs does not
// re-authenticate, and the SASL listener's sessions are short), the TLS cluster over mTLS
const saslDirect = new Kafka({ clientId: 'direct-sasl', brokers: [saslCluster.bootstrap], logLevel: logLevel.NOTHING })
const tlsDirect = new Kafka({ clientId: 'direct-tls', brokers: [tls.bootstrap], ssl: { ca: [readFileSync(tls.ca, 'utf8')], cert: readFileSync(tls.clientCert, 'utf8'), key: readFileSync(tls.clientKey, 'utf8') }, logLevel: logLevel.NOTHING })

const TOPICS = { scram: 'scram-fruit', plain: 'plain-fruit', mtls: 'mtls-fruit', saslssl: 'saslssl-fruit' } as const
// One consumer group reads all four across both physical clusters. Three of its mesh clusters
// (scram, plain, saslssl) are one physical cluster: the group's membership is on its home (scram),
// and its offsets of plain- and saslssl-fruit are committed on the same brokers, where the group
// has members, so they must be committed as the member (not as simple commits, which the broker
// refuses for a group with members: the records were read again).
const GROUP_TOPICS = Object.values(TOPICS)
const values = (topic: string, round: string, n = N): string[] => Array.from({ length: n }, (_, i) => `${topic}-${round}-${i}`)
// every record acknowledged through kproxy, whatever the client
const produced: string[] = []

function logText (): string {
  return proxy.logs.map(l => JSON.stringify(l)).join('\n') + '\n' + proxy.stderr()
}

t.test('the clusters require their security: a plain client is refused directly', async t => {
  // the SASL listener closes a connection that sends Metadata before authenticating; the TLS one
  // refuses a client without a certificate
  const plainToSasl = new Kafka({ clientId: 'no-auth', brokers: [sasl.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000 }).admin()
  await t.rejects(plainToSasl.connect().then(() => plainToSasl.listTopics()), 'no SASL: refused by the SASL listener')
  await plainToSasl.disconnect()
  const noCert = new Kafka({ clientId: 'no-cert', brokers: [tls.bootstrap], ssl: { ca: [readFileSync(tls.ca, 'utf8')] }, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000 }).admin()
  await t.rejects(noCert.connect().then(() => noCert.listTopics()), 'no client certificate: refused by the TLS listener')
  await noCert.disconnect()
  // the SASL_SSL listener wants both: TLS without SASL, and SASL without TLS, are refused; both
  // together are let in
  const quick = { logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000 }
  const tlsOnly = new Kafka({ clientId: 'tls-no-sasl', brokers: [saslSslBootstrap], ssl: { ca: [readFileSync(saslCa, 'utf8')] }, ...quick }).admin()
  await t.rejects(tlsOnly.connect().then(() => tlsOnly.listTopics()), 'TLS without SASL: refused by the SASL_SSL listener')
  await tlsOnly.disconnect()
  const saslOnly = new Kafka({ clientId: 'sasl-no-tls', brokers: [saslSslBootstrap], sasl: { mechanism: 'scram-sha-512', username: bob.name, password: bob.password }, ...quick }).admin()
  await t.rejects(saslOnly.connect().then(() => saslOnly.listTopics()), 'SASL without TLS: refused by the SASL_SSL listener')
  await saslOnly.disconnect()
  // reauthenticationThreshold 0: kafkajs otherwise logs in again before every request once the
  // session (REAUTH_MS, shorter than its default threshold of 10 s) is near its end, with a
  // handshake the broker refuses on an authenticated connection (ILLEGAL_SASL_STATE)
  const both = new Kafka({ clientId: 'sasl-ssl', brokers: [saslSslBootstrap], ssl: { ca: [readFileSync(saslCa, 'utf8')] }, sasl: { mechanism: 'scram-sha-512', username: bob.name, password: bob.password }, reauthenticationThreshold: 0, ...quick }).admin()
  await both.connect()
  t.ok(Array.isArray(await both.listTopics()), 'SCRAM-SHA-512 over TLS: let in')
  await both.disconnect()
})

t.test(`kafkajs: ${N} records to each of a SCRAM, a PLAIN, an mTLS and a SASL_SSL (SCRAM over TLS) cluster through kproxy, read back through kproxy and directly`, async t => {
  const producer = viaProxy('mesh-auth-producer').producer({ allowAutoTopicCreation: true })
  await producer.connect()
  for (const topic of Object.values(TOPICS)) {
    // created on first use, on the cluster its prefix routes to (kproxy logs in to create it)
    for (let i = 0; i < N; i += 100) {
      await producer.send({ topic, acks: -1, messages: values(topic, 'a').slice(i, i + 100).map(value => ({ value })) })
    }
    produced.push(...values(topic, 'a'))
  }
  await producer.disconnect()

  const expected = GROUP_TOPICS.flatMap(topic => values(topic, 'a'))
  const read = await kafkajsGroupRead(viaProxy('mesh-auth-consumer'), GROUP_TOPICS, 'mesh-auth-group', expected.length)
  const all = tally(read, expected)
  t.same({ missing: all.missing, duplicates: all.duplicates, unexpected: all.unexpected }, { missing: 0, duplicates: 0, unexpected: 0 }, `one group through kproxy read ${all.count} records across both clusters ${all.examples.join(' ')}`)
  // the group's offsets, through kproxy (merged from each cluster) and straight from the SASL
  // cluster (plain- and saslssl-fruit are stored there under mesh clusters other than the home)
  const committed = async (kafka: Kafka, topics: string[]): Promise<Map<string, number>> => {
    const admin = kafka.admin()
    await admin.connect()
    try {
      const got = await admin.fetchOffsets({ groupId: 'mesh-auth-group', topics })
      return new Map(got.map(x => [x.topic, x.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0)]))
    } finally {
      await admin.disconnect()
    }
  }
  const viaKproxy = await committed(viaProxy('mesh-auth-offsets'), GROUP_TOPICS)
  for (const topic of GROUP_TOPICS) t.equal(viaKproxy.get(topic), N, `${topic}: the group's committed offsets through kproxy reach the end (${N})`)
  const saslClusterTopics = [TOPICS.scram, TOPICS.plain, TOPICS.saslssl]
  const onSaslCluster = await committed(saslDirect, saslClusterTopics)
  for (const topic of saslClusterTopics) t.equal(onSaslCluster.get(topic), N, `${topic}: committed on the SASL cluster (read directly)`)

  // directly: the SCRAM and PLAIN topics on the SASL cluster, the mTLS topic on the TLS cluster
  const onSasl = await saslDirect.admin()
  await onSasl.connect()
  const saslTopics = (await onSasl.listTopics()).filter(x => !x.startsWith('__')).sort()
  await onSasl.disconnect()
  t.same(saslTopics, [TOPICS.plain, TOPICS.saslssl, TOPICS.scram], 'the SASL cluster has the scram-, plain- and saslssl- topics only')
  const onTls = await tlsDirect.admin()
  await onTls.connect()
  const tlsTopics = (await onTls.listTopics()).filter(x => !x.startsWith('__')).sort()
  await onTls.disconnect()
  t.same(tlsTopics, [TOPICS.mtls], 'the TLS cluster has the mtls- topic only')

  for (const [direct, topic] of [[saslDirect, TOPICS.scram], [saslDirect, TOPICS.plain], [tlsDirect, TOPICS.mtls], [saslDirect, TOPICS.saslssl]] as const) {
    const got = await kafkajsGroupRead(direct, topic, `direct-${topic}`, N)
    const r = tally(got, values(topic, 'a'))
    t.same({ count: r.count, missing: r.missing, duplicates: r.duplicates, unexpected: r.unexpected }, { count: N, missing: 0, duplicates: 0, unexpected: 0 }, `${topic}: all ${N} records read directly from its cluster`)
  }

  const m = await proxy.metrics()
  for (const cluster of ['scram', 'plain', 'mtls', 'saslssl']) {
    const opened = metricSum(m, 'kproxy_filter_events_total', `filter="mesh:${cluster}",event="upstream_connects"`)
    const closed = metricSum(m, 'kproxy_filter_events_total', `filter="mesh:${cluster}",event="upstream_disconnects"`)
    t.ok(opened > closed, `mesh:${cluster}: ${opened} connections opened, ${closed} closed, ${opened - closed} open`)
    // one scrape: the gauge is the same difference, summed over the workers
    t.equal(metricSum(m, 'kproxy_mesh_upstream_connections', `cluster="${cluster}"`), opened - closed, `kproxy_mesh_upstream_connections{cluster="${cluster}"} = opened - closed`)
    t.equal(metricSum(m, 'kproxy_filter_events_total', `filter="mesh:${cluster}",event="upstream_login_failed"`), 0, `mesh:${cluster}: no failed login`)
    const answered = metricSum(m, 'kproxy_filter_events_total', `filter="mesh:${cluster}",event="produce_answered"`)
    t.equal(metricSum(m, 'kproxy_mesh_upstream_latency_seconds_count', `cluster="${cluster}",api="produce"`), answered, `mesh:${cluster}: the latency histogram holds every answered Produce (${answered})`)
  }
})

t.test('KIP-368: kproxy renews its login on open connections; the broker closes none of them', { skip: REAUTH_MS > 0 ? false : 'sessions do not expire' }, async t => {
  const before = await proxy.metrics()
  const reauthTopics = [TOPICS.scram, TOPICS.plain, TOPICS.saslssl]
  const producer = viaProxy('mesh-auth-reauth').producer()
  await producer.connect()
  // requests on the same connections across three session lifetimes
  const until = Date.now() + 3 * REAUTH_MS
  let sent = 0
  while (Date.now() < until) {
    for (const topic of reauthTopics) {
      const v = `${topic}-reauth-${sent}`
      await producer.send({ topic, acks: -1, messages: [{ value: v }] })
      produced.push(v)
    }
    sent++
    await sleep(50)
  }
  await producer.disconnect()
  t.ok(sent > 0, `${sent * reauthTopics.length} records acknowledged while sessions expired every ${REAUTH_MS} ms`)
  const after = await proxy.metrics()
  for (const cluster of SASL_CLUSTERS) {
    const event = (name: string, m: string): number => metricSum(m, 'kproxy_filter_events_total', `filter="mesh:${cluster}",event="${name}"`)
    const renewed = event('upstream_reauthenticated', after) - event('upstream_reauthenticated', before)
    t.ok(renewed >= 1, `mesh:${cluster}: ${renewed} re-authentications of shared connections meanwhile (${event('upstream_reauthenticated', after)} in all)`)
  }
  const warned = proxy.logs.filter(l => SASL_CLUSTERS.includes(String(l.cluster)) && Number(l.level) >= 40)
  t.same(warned, [], 'no shared connection to the SASL cluster was closed or refused')
})

t.test('kcat (librdkafka) through kproxy to the mTLS, the PLAIN and the SASL_SSL cluster', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  for (const topic of [TOPICS.mtls, TOPICS.plain, TOPICS.saslssl]) {
    const p = await kcat(['-P', '-b', bootstrap, '-t', topic, '-X', 'acks=all'], { input: values(topic, 'kcat', 50).join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(p.code, 0, p.code === 0 ? `kcat produced 50 records to ${topic}` : p.stderr.slice(-2000))
    if (p.code === 0) produced.push(...values(topic, 'kcat', 50))
    const c = await kcat(['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q'], { timeoutMs: 60_000 })
    const got = c.stdout.split('\n').filter(Boolean)
    t.same(got.filter(v => v.includes('-kcat-')).sort(), values(topic, 'kcat', 50).sort(), `${topic}: kcat read its 50 records back through kproxy (${got.length} in all)`)
  }
})

t.test('a wrong password fails that cluster only: a retriable error, a coded log line, the others keep working', async t => {
  const producer = viaProxy('mesh-auth-wrong', { retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } }).producer({ allowAutoTopicCreation: true })
  await producer.connect()
  let failure: any = null
  try {
    await producer.send({ topic: 'wrong-fruit', acks: -1, timeout: 5000, messages: [{ value: 'never' }] })
  } catch (err) {
    failure = err
  }
  t.ok(failure !== null, 'producing to the wrong-password cluster fails')
  const chain: any[] = []
  for (let e = failure; e != null && chain.length < 5; e = e.originalError ?? e.cause) chain.push(e)
  t.comment(chain.map(e => `${e.name as string}: ${e.message as string} (retriable ${String(e.retriable)}, type ${String(e.type)})`).join(' <- '))
  t.ok(chain.some(e => e.retriable === true), 'kafkajs saw a retriable error')
  t.match(chain.map(e => `${e.type as string} ${e.message as string}`).join(' '), /LEADER_NOT_AVAILABLE|NOT_LEADER|no leader|not available/i, 'the error says the partition has no leader now (retry later), not that the topic does not exist')

  await producer.disconnect()
  // the clusters behind the other routes carry on (a new producer: kafkajs keeps asking Metadata
  // for every topic it was once given, and fails a send when one of them has no leader)
  const others = viaProxy('mesh-auth-others').producer()
  await others.connect()
  for (const topic of Object.values(TOPICS)) {
    await others.send({ topic, acks: -1, messages: values(topic, 'b', 20).map(value => ({ value })) })
    produced.push(...values(topic, 'b', 20))
  }
  await others.disconnect()
  const read = await kafkajsGroupRead(viaProxy('mesh-auth-after'), GROUP_TOPICS, 'mesh-auth-after', produced.length)
  const r = tally(read, produced)
  t.same({ missing: r.missing, duplicates: r.duplicates, unexpected: r.unexpected }, { missing: 0, duplicates: 0, unexpected: 0 }, `after the failure a new group read all ${produced.length} records of the other clusters through kproxy ${r.examples.join(' ')}`)

  const lines = proxy.logs.filter(l => l.code === 'KPROXY_ERR_UPSTREAM_SASL' && l.cluster === 'wrong')
  t.ok(lines.length >= 1, `${lines.length} warning(s) KPROXY_ERR_UPSTREAM_SASL for cluster wrong`)
  t.comment(String(lines[0]?.msg))
  t.match(String(lines[0]?.msg), /SCRAM-SHA-256 as 'alice'.*refused the login.*mesh\.clusters\[3\]\.sasl/, 'it names the mechanism, the user, the broker\'s refusal and the config key')
  const warnings = lines.filter(l => Number(l.level) >= 40)
  t.ok(warnings.length <= WORKERS, `once per worker and outage at warn level (${warnings.length}), the retries at debug`)
  t.equal(proxy.logs.filter(l => typeof l.cluster === 'string' && l.cluster !== 'wrong' && (l.code === 'KPROXY_ERR_UPSTREAM_SASL' || l.code === 'KPROXY_ERR_UPSTREAM_PASSWORD')).length, 0, 'no login failure on the other clusters')

  const m = await proxy.metrics()
  const failed = metricSum(m, 'kproxy_filter_events_total', 'filter="mesh:wrong",event="upstream_login_failed"')
  t.ok(failed >= 1, `kproxy_filter_events_total{filter="mesh:wrong",event="upstream_login_failed"} = ${failed}`)
  const ready = await fetch(`${proxy.adminUrl}/ready`)
  t.equal(ready.status, 503, `GET /ready: 503 while a cluster cannot be logged in to (${(await ready.text()).slice(0, 300)})`)
  t.ok(proxy.child.exitCode === null, 'kproxy is still running')
})

t.test('the password file fixed: the cluster heals at its next use, without a restart', async t => {
  writeFileSync(join(dir, 'wrong.pw'), `${alice.password}\n`)
  const producer = viaProxy('mesh-auth-healed', { retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 } }).producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const healed = values('wrong-fruit', 'healed', 10)
  await producer.send({ topic: 'wrong-fruit', acks: -1, messages: healed.map(value => ({ value })) })
  await producer.disconnect()
  const got = await kafkajsGroupRead(saslDirect, 'wrong-fruit', 'direct-wrong-fruit', healed.length)
  t.same(got.sort(), [...healed].sort(), 'the records are on the SASL cluster')
  const ready = await waitFor('GET /ready 200', async () => (await fetch(`${proxy.adminUrl}/ready`)).status === 200 ? true : undefined, 30_000, 500)
  t.ok(ready, 'GET /ready is 200 again')
})

t.test('no secret in the logs, /config_dump or /metrics', async t => {
  t.same(SECRETS.slice(0, 2), [alice.password, bob.password], 'the sandbox users\' passwords are the ones looked for')
  const dump = await (await fetch(`${proxy.adminUrl}/config_dump`)).text()
  const metrics = await proxy.metrics()
  const logs = logText()
  for (const secret of SECRETS) {
    t.notOk(dump.includes(secret), `${secret} not in /config_dump`)
    t.notOk(metrics.includes(secret), `${secret} not in /metrics`)
    t.notOk(logs.includes(secret), `${secret} not in the log (${proxy.logs.length} lines)`)
  }
  t.match(dump, /"passwordFile":\s*"\[redacted\]"/, '/config_dump shows the password file as redacted')
  t.match(dump, /"passwordEnv":\s*"\[redacted\]"/, 'and the environment variable name too')
  t.match(dump, /"mechanism":\s*"SCRAM-SHA-512"/, 'the mechanism is shown')
})
