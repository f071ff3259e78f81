// Issue 10's "the policy filters must work in mesh mode too", against real clusters: the mesh
// sandbox (`kproxy sandbox up --topology mesh`: clusters a, b, c and its own kproxy, unused here) and a
// `kproxy serve --workers 1` of this test in mesh mode over clusters a and b, with
//   - SASL termination toward clients (PLAIN, SCRAM-SHA-512) against a `kproxy users` file; the
//     users exist only at kproxy, the clusters have no SASL at all;
//   - ACLs on the client's topic names: carol may write apples-N (cluster a) and partition 0 of
//     berries-N (cluster b, where it is fruit.berries-N: the mesh renames it), nothing else; dave
//     may read every topic;
//   - a quota: dave's Metadata requests held at 2 per second;
//   - mesh.tls in mode permissive: the SASL clients above in plaintext (counted), one over TLS;
//     then a reload (POST /reload) to strict that also gives carol avocados-N: plaintext refused,
//     the new rule in force.
// Proven with kafkajs (SCRAM-SHA-512) and kcat (PLAIN, and SCRAM-SHA-512 for a topic list): the allowed records are read back through
// kproxy and directly from their own cluster under their upstream name; the denied produce gets
// TOPIC_AUTHORIZATION_FAILED and nothing of it reaches a cluster; carol's topic list shows only
// her topics; dave's Metadata answers carry throttle time (counted by kproxy).
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import type { MeshSandboxInfo } from '@kproxy/cli/sandbox/mesh-topology'
import { hasKcat, kcat } from '../helpers/kafka.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { freePort } from '../helpers/broker-proxy.ts'
import { collectOutput } from '../helpers/process-output.ts'
import { metricSum } from '../helpers/serve-kproxy.ts'
import { sandboxForTest } from '../helpers/sandbox-up.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))
const CAROL = { name: 'carol', password: 'carol-at-kproxy' }
const DAVE = { name: 'dave', password: 'dave-at-kproxy' }
const N = 200

t.setTimeout(900_000)

// one parent test: the sandbox, the files and kproxy live as long as it (root-level awaits of
// the set-up let the root test end early)
t.test('mesh mode with SASL termination, ACLs, quotas and TLS toward clients', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const run = await sandboxForTest<MeshSandboxInfo>(t, ['--topology', 'mesh'])
  const direct = Object.fromEntries(run.info.clusters.map(c => [c.name, c.bootstrap])) as Record<string, string>
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-mesh-policy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  const unique = Date.now()
  const apples = `apples-${unique}` // cluster a, same name
  const avocados = `avocados-${unique}` // cluster a, carol may not write
  const berries = `berries-${unique}` // cluster b, upstream fruit.berries-N
  const upstreamBerries = `fruit.berries-${unique}`

  for (const u of [CAROL, DAVE]) {
    const r = spawnSync(KPROXY, ['users', 'add', u.name, '--file', join(dir, 'users.yaml'), '--mechanism', 'plain', '--mechanism', 'scram-sha-512', '--password-stdin'], { input: `${u.password}\n`, encoding: 'utf8' })
    t.equal(r.status, 0, `kproxy users add ${u.name}: ${r.stderr}`)
  }
  const listenPort = await freePort()
  const adminPort = await freePort()
  const bootstrap = `127.0.0.1:${listenPort}`
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const ca = await createCa({ days: 2 })
  const server = await issueCertificate(ca, { name: 'kproxy', server: true, sans: ['IP:127.0.0.1', 'DNS:localhost'], days: 2 })
  writeFileSync(join(dir, 'server.crt'), server.chain)
  writeFileSync(join(dir, 'server.key'), server.key, { mode: 0o600 })
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  const configFile = join(dir, 'mesh.yaml')
  const config = (mode: string, extraRules: readonly string[] = []): string => [
    `admin: 127.0.0.1:${adminPort}`,
    'mesh:',
    `  listen: ${bootstrap}`,
    '  clusters:',
    `    - { name: a, bootstrap: [${direct.a}] }`,
    `    - { name: b, bootstrap: [${direct.b}] }`,
    '  routes:',
    '    - { prefix: a, cluster: a }',
    '    - { prefix: b, cluster: b, rename: fruit.b }',
    `  tls: { cert: ${join(dir, 'server.crt')}, key: ${join(dir, 'server.key')}, mode: ${mode} }`,
    'policy:',
    '  sasl:',
    '    mechanisms: [PLAIN, SCRAM-SHA-512]',
    '    credentialsFile: users.yaml',
    '  acl:',
    '    defaultDecision: deny',
    '    rules:',
    `      - { allow: [Write], principal: User:carol, topic: ${apples} }`,
    `      - { allow: [Write], principal: User:carol, topic: ${berries}, partitions: [0] }`,
    '      - { allow: [Read], principal: User:dave, topic: "*" }',
    ...extraRules,
    '  quotas:',
    '    entities:',
    '      - { user: dave, requests: [{ apis: [Metadata], perSecond: 2 }] }',
    ''
  ].join('\n')
  writeFileSync(configFile, config('permissive'))

  const check = spawnSync(KPROXY, ['check-config', configFile], { encoding: 'utf8' })
  t.equal(check.status, 0, `kproxy check-config accepts the policy section in mesh mode: ${check.stdout}${check.stderr}`)

  const child = spawn(KPROXY, ['serve', '--config', configFile, '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const output = collectOutput(child)
  const exited = new Promise<void>(resolve => child.on('exit', () => resolve()))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))])
  })
  t.teardown(() => {
    if (t.passing()) return
    for (const l of output.logs.filter(l => typeof l.level === 'number' && l.level >= 40).slice(-40)) t.comment(JSON.stringify(l))
  })
  const deadline = Date.now() + 90_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kproxy serve exited during start-up: ${output.stderr()}`)
    try {
      if ((await fetch(`${adminUrl}/ready`)).status === 200) break
    } catch {}
    if (Date.now() > deadline) throw new Error(`kproxy serve not ready after 90 s: ${output.stderr()}`)
    await sleep(200)
  }
  t.comment(`kproxy (mesh mode, policy) on ${bootstrap}`)

  // the topics, made directly on their clusters (nobody at kproxy may create topics)
  for (const [cluster, topics] of [[direct.a!, [apples, avocados]], [direct.b!, [upstreamBerries]]] as const) {
    const admin = new Kafka({ clientId: 'mesh-policy-setup', brokers: [cluster], logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    await createTopicsAndWait(admin, topics.map(topic => ({ topic, numPartitions: 3, replicationFactor: 1 })))
    await admin.disconnect()
  }

  const kafkaAs = (user: typeof CAROL, clientId: string, tls = false): Kafka => new Kafka({
    clientId,
    brokers: [bootstrap],
    ...(tls ? { ssl: { ca: [ca.cert], servername: 'localhost' } } : {}),
    sasl: { mechanism: 'scram-sha-512', username: user.name, password: user.password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 }
  })
  const sasl = (user: typeof CAROL): string[] => ['-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user.name}`, '-X', `sasl.password=${user.password}`]
  const values = (prefix: string): string[] => Array.from({ length: N }, (_, i) => `${prefix}-${i}`)
  const readDirect = async (cluster: string, topic: string, partition: number): Promise<string[]> => {
    const r = await kcat(['-C', '-b', cluster, '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%s\\n'], { timeoutMs: 30_000 })
    return r.stdout.split('\n').filter(Boolean)
  }
  const readThrough = async (topic: string, partition: number): Promise<{ code: number | null, values: string[], stderr: string }> => {
    const r = await kcat(['-C', '-b', bootstrap, '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%s\\n', ...sasl(DAVE)], { timeoutMs: 30_000 })
    return { code: r.code, values: r.stdout.split('\n').filter(Boolean), stderr: r.stderr }
  }

  t.test('kafkajs SCRAM-SHA-512 as carol: allowed produce on both clusters, denied produce refused with TOPIC_AUTHORIZATION_FAILED', async t => {
    const producer = kafkaAs(CAROL, 'mesh-policy-carol').producer({ allowAutoTopicCreation: false })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    await producer.send({ topic: apples, acks: -1, messages: values('kafkajs-apples').map(value => ({ partition: 1, value })) })
    t.pass(`${apples} (cluster a): ${N} records acknowledged`)
    await producer.send({ topic: berries, acks: -1, messages: values('kafkajs-berries').map(value => ({ partition: 0, value })) })
    t.pass(`${berries} partition 0 (cluster b, upstream ${upstreamBerries}): ${N} records acknowledged`)

    const denied = await producer.send({ topic: berries, acks: -1, messages: [{ partition: 2, value: 'must-not-land' }] }).then(() => null, (e: any) => e)
    t.match(String(denied?.type ?? denied?.cause?.type ?? denied?.message), /TOPIC_AUTHORIZATION_FAILED|Not authorized to access topics/, `${berries} partition 2: refused (${String(denied?.message)})`)
    const other = await producer.send({ topic: avocados, acks: -1, messages: [{ value: 'must-not-land' }] }).then(() => null, (e: any) => e)
    t.match(String(other?.type ?? other?.cause?.type ?? other?.message), /TOPIC_AUTHORIZATION_FAILED|Not authorized to access topics/, `${avocados} (cluster a, no rule): refused (${String(other?.message)})`)

    t.same(await readDirect(direct.a!, apples, 1), values('kafkajs-apples'), `the ${N} records are on cluster a, partition 1 of ${apples}`)
    t.same(await readDirect(direct.b!, upstreamBerries, 0), values('kafkajs-berries'), `the ${N} records are on cluster b, partition 0 of ${upstreamBerries}`)
    t.same(await readDirect(direct.b!, upstreamBerries, 2), [], 'nothing reached partition 2 of the renamed topic')
    t.same(await readDirect(direct.a!, avocados, 0).then(async a => [...a, ...await readDirect(direct.a!, avocados, 1), ...await readDirect(direct.a!, avocados, 2)]), [], `nothing reached ${avocados}`)
  })

  t.test('kcat PLAIN: carol\'s denied partition gets TOPIC_AUTHORIZATION_FAILED from kproxy, the allowed one is read back through kproxy by dave', async t => {
    const ok = await kcat(['-P', '-b', bootstrap, '-t', berries, '-p', '0', '-X', 'acks=all', ...sasl(CAROL)], { input: values('kcat-berries').join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(ok.code, 0, ok.stderr.slice(-2000))
    const bad = await kcat(['-P', '-b', bootstrap, '-t', berries, '-p', '1', '-X', 'acks=all', ...sasl(CAROL)], { input: 'must-not-land\n', timeoutMs: 60_000 })
    t.not(bad.code, 0, 'kcat -P to partition 1 fails')
    t.match(bad.stderr, /Topic authorization failed|TOPIC_AUTHORIZATION_FAILED/, 'with TOPIC_AUTHORIZATION_FAILED')
    const through = await readThrough(berries, 0)
    t.equal(through.code, 0, through.stderr.slice(-2000))
    t.same(through.values, [...values('kafkajs-berries'), ...values('kcat-berries')], `dave reads partition 0 of ${berries} through kproxy: kafkajs's and kcat's records, in order`)
    t.same((await readThrough(berries, 1)).values, [], 'partition 1 is empty')
    const applesBack = await readThrough(apples, 1)
    t.same(applesBack.values, values('kafkajs-apples'), `dave reads ${apples} (cluster a) through kproxy`)
  })

  t.test('carol\'s topic list shows only her topics; a wrong password is refused by kproxy', async t => {
    const admin = kafkaAs(CAROL, 'mesh-policy-carol-admin').admin()
    await admin.connect()
    t.teardown(() => admin.disconnect())
    const listed = (await admin.listTopics()).filter(n => n.endsWith(String(unique))).sort()
    t.same(listed, [apples, berries].sort(), `carol sees ${apples} and ${berries}, not ${avocados}`)
    const wrong = kafkaAs({ name: CAROL.name, password: 'not-the-password' }, 'mesh-policy-wrong').admin()
    const err = await wrong.connect().then(() => null, (e: any) => e)
    await wrong.disconnect().catch(() => {})
    t.equal(err?.name, 'KafkaJSSASLAuthenticationError', String(err?.message))
    const scram = await kcat(['-L', '-b', bootstrap, '-m', '10', '-t', apples, '-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', `sasl.username=${CAROL.name}`, '-X', `sasl.password=${CAROL.password}`], { timeoutMs: 30_000 })
    t.equal(scram.code, 0, `kcat (librdkafka) SCRAM-SHA-512 as carol: ${scram.stderr.slice(-1000)}`)
    t.match(scram.stdout, new RegExp(`topic "${apples}" with 3 partitions`), 'and sees her topic')
    const plain = await kcat(['-L', '-b', bootstrap, '-m', '5'], { timeoutMs: 20_000 })
    t.not(plain.code, 0, 'a client without SASL gets nothing (kcat -L fails)')
  })

  t.test('quota: dave\'s Metadata requests are held at 2/s with throttle_time_ms, counted by kproxy', async t => {
    const admin = kafkaAs(DAVE, 'mesh-policy-dave').admin()
    await admin.connect()
    t.teardown(() => admin.disconnect())
    // the rate is measured over the quota window (11 samples of 1 s, as Kafka): a burst has to
    // pass 2/s over that window (over 20 requests) before answers carry throttle time
    let metrics = ''
    let sent = 0
    while (sent < 80) {
      for (let i = 0; i < 10; i++, sent++) await admin.fetchTopicMetadata({ topics: [apples] })
      metrics = await (await fetch(`${adminUrl}/metrics`)).text()
      if (metricSum(metrics, 'kproxy_quota_throttled_responses_total', 'principal="dave"') > 0) break
    }
    t.comment(`${sent} Metadata requests sent by dave`)
    const throttled = metricSum(metrics, 'kproxy_quota_throttled_responses_total', 'principal="dave"')
    const seconds = metricSum(metrics, 'kproxy_quota_throttle_time_seconds_total', 'principal="dave"')
    t.comment(`dave: ${throttled} throttled answers, ${seconds.toFixed(3)} s of throttle time`)
    t.ok(throttled > 0, 'dave\'s Metadata answers carried throttle_time_ms')
    t.ok(seconds > 0, 'kproxy counts his throttle time')
    t.equal(metricSum(metrics, 'kproxy_quota_throttled_responses_total', 'principal="carol"'), 0, 'carol is never throttled')
  })

  t.test('mesh.tls permissive: SASL over TLS on the same port; plaintext counted; a reload to strict with a new ACL rule', async t => {
    const producer = kafkaAs(CAROL, 'mesh-policy-carol-tls', true).producer({ allowAutoTopicCreation: false })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    await producer.send({ topic: apples, acks: -1, messages: values('tls-apples').map(value => ({ partition: 2, value })) })
    t.same((await readThrough(apples, 2)).values, values('tls-apples'), 'carol over SASL_SSL wrote partition 2; dave reads it back in plaintext')
    const before = await (await fetch(`${adminUrl}/metrics`)).text()
    t.ok(metricSum(before, 'kproxy_plaintext_connections_total', 'listener="mesh"') > 0, 'the plaintext connections on the permissive mesh listener are counted')

    writeFileSync(configFile, config('strict', [`      - { allow: [Write], principal: User:carol, topic: ${avocados} }`]))
    const reload = await fetch(`${adminUrl}/reload`, { method: 'POST' })
    const body = await reload.text()
    t.equal(reload.status, 200, body)
    t.match(body, /mesh\.tls\.mode/, 'mesh.tls.mode applied live')
    t.match(body, /policy/, 'and the policy section')
    // the workers apply the reload after answering it
    let refused = null
    for (let i = 0; i < 50; i++) {
      refused = await kcat(['-L', '-b', bootstrap, '-m', '5', ...sasl(DAVE)], { timeoutMs: 20_000 })
      if (refused.code !== 0) break
      await sleep(200)
    }
    t.not(refused?.code, 0, 'a plaintext client is refused after the reload to strict')
    await producer.send({ topic: avocados, acks: -1, messages: values('tls-avocados').map(value => ({ partition: 0, value })) })
    t.same(await readDirect(direct.a!, avocados, 0), values('tls-avocados'), `the reloaded rule lets carol write ${avocados} (on cluster a), over the TLS connection she already had`)
  })
})
