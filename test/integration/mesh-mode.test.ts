// Mesh mode against three real clusters (`kproxy sandbox up --topology mesh`: clusters a, b, c and
// `kproxy serve --workers 2` in mesh mode routing topics a*, b*, c*). The seed example of issue 10
// with Kafka's console tools, each topic checked directly on its own cluster; then what Envoy's
// mesh filter could not do: consume through the proxy, list topics, describe a group whose
// offsets live on three clusters; then kcat and kafkajs across the clusters.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { runKafkaTool } from '@kproxy/cli'
import type { MeshSandboxInfo } from '@kproxy/cli/sandbox/mesh-topology'
import { Kafka, logLevel } from 'kafkajs'
import { Producer, stringSerializers } from '@platformatic/kafka'
import { tally } from '../helpers/e2e-records.ts'
import { freezer, hasKcat, javaPidsMentioning, kcat } from '../helpers/kafka.ts'
import { sandboxForTest } from '../helpers/sandbox-up.ts'

// three clusters, a kproxy and many JVM tool runs on a shared machine
t.setTimeout(1_200_000)
const run = await sandboxForTest<MeshSandboxInfo>(t, ['--topology', 'mesh'])
const info = run.info
const proxy = info.clientBootstrap
const direct = Object.fromEntries(info.clusters.map(c => [c.name, c.bootstrap])) as Record<'a' | 'b' | 'c', string>
t.comment(`kproxy on ${proxy}`)

function readLog (): string {
  try { return readFileSync(info.kproxy.log, 'utf8') } catch { return '' }
}

async function topicsOn (bootstrap: string): Promise<string[]> {
  const r = await runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', bootstrap, '--list'])
  if (r.code !== 0) throw new Error(`kafka-topics --list on ${bootstrap} failed: ${r.stderr}`)
  return r.stdout.split('\n').filter(l => l !== '' && !l.startsWith('__')).sort()
}

async function readDirect (bootstrap: string, topic: string, count: number): Promise<string[]> {
  const r = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer',
    ['--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning', '--max-messages', String(count), '--timeout-ms', '20000'], { timeoutMs: 60_000 })
  return r.stdout.split('\n').filter(Boolean).sort()
}

t.test('sandbox.json names kproxy and each cluster', async t => {
  t.match(proxy, /^127\.0\.0\.1:\d+$/)
  t.same(info.clusters.map(c => c.name), ['a', 'b', 'c'])
  t.equal(info.kproxy.workers, 2)
  t.ok(info.clusters.every(c => c.bootstrap !== proxy))
})

const SEED: Record<string, { cluster: 'a' | 'b' | 'c', values: string[] }> = {
  apples: { cluster: 'a', values: ['apple', 'twoapples'] },
  berries: { cluster: 'b', values: ['berry', 'twoberries'] },
  cherries: { cluster: 'c', values: ['cherry', 'twocherries'] }
}

t.test('the seed example: the Java console producer through kproxy, each topic only on its own cluster', async t => {
  for (const [topic, { values }] of Object.entries(SEED)) {
    const p = await runKafkaTool('org.apache.kafka.tools.ConsoleProducer', ['--bootstrap-server', proxy, '--topic', topic, '--producer-property', 'acks=all'],
      { input: values.join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(p.code, 0, p.code === 0 ? `produced ${values.join(', ')} to ${topic}` : p.stderr.slice(-3000))
  }
  t.same(await topicsOn(direct.a), ['apples'], 'cluster a has apples only')
  t.same(await topicsOn(direct.b), ['berries'], 'cluster b has berries only')
  t.same(await topicsOn(direct.c), ['cherries'], 'cluster c has cherries only')
  for (const [topic, { cluster, values }] of Object.entries(SEED)) {
    t.same(await readDirect(direct[cluster], topic, values.length), [...values].sort(), `${topic} read directly from cluster ${cluster}`)
  }
})

t.test('what Envoy could not: consume, list topics, describe the group through kproxy', async t => {
  const c = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer',
    ['--bootstrap-server', proxy, '--include', 'apples|berries|cherries', '--from-beginning', '--max-messages', '6', '--timeout-ms', '30000', '--group', 'fruit-salad'], { timeoutMs: 90_000 })
  t.equal(c.code, 0, c.stderr.slice(-3000))
  t.same(c.stdout.split('\n').filter(Boolean).sort(), Object.values(SEED).flatMap(s => s.values).sort(), 'all six records read back through kproxy by one group across three clusters')

  const list = await topicsOn(proxy)
  t.same(list, ['apples', 'berries', 'cherries'], 'kafka-topics --list through kproxy lists the three clusters\' topics')

  const d = await runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', proxy, '--describe', '--group', 'fruit-salad'], { timeoutMs: 60_000 })
  t.equal(d.code, 0, d.stderr.slice(-3000))
  t.comment(d.stdout)
  for (const topic of Object.keys(SEED)) {
    t.match(d.stdout, new RegExp(`fruit-salad\\s+${topic}\\s+0\\s+2\\s+2\\s+0`), `${topic}: committed offset 2, end offset 2, lag 0`)
  }
  // the offsets live on each topic's own cluster
  for (const [topic, { cluster }] of Object.entries(SEED)) {
    const o = await runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', direct[cluster], '--describe', '--group', 'fruit-salad', '--offsets'], { timeoutMs: 60_000 })
    t.match(o.stdout, new RegExp(`fruit-salad\\s+${topic}\\s+0\\s+2\\b`), `the group's offset of ${topic} is stored on cluster ${cluster}`)
  }
  const g = await runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', proxy, '--list'], { timeoutMs: 60_000 })
  t.match(g.stdout, /fruit-salad/, 'kafka-consumer-groups --list through kproxy')
})

t.test('kcat produces and consumes across the three clusters', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const topics = { avocados: 'a', blueberries: 'b', cranberries: 'c' } as const
  for (const topic of Object.keys(topics)) {
    const r = await kcat(['-b', proxy, '-t', topic, '-P', '-K', ':', '-z', 'lz4', '-X', 'acks=all'], { input: Array.from({ length: 100 }, (_, i) => `k${i}:${topic}-${i}`).join('\n') + '\n' })
    t.equal(r.code, 0, r.stderr.slice(-2000))
  }
  for (const [topic, cluster] of Object.entries(topics)) {
    const through = await kcat(['-b', proxy, '-t', topic, '-C', '-e', '-o', 'beginning', '-f', '%s\\n'])
    t.equal(through.code, 0, through.stderr.slice(-2000))
    const got = through.stdout.split('\n').filter(Boolean).sort()
    t.same(got, Array.from({ length: 100 }, (_, i) => `${topic}-${i}`).sort(), `${topic}: 100 records back through kproxy`)
    const d = await kcat(['-b', direct[cluster], '-t', topic, '-C', '-e', '-o', 'beginning', '-f', '%s\\n'])
    t.equal(d.stdout.split('\n').filter(Boolean).length, 100, `${topic}: the 100 records are on cluster ${cluster}`)
  }
  const l = await kcat(['-b', proxy, '-L'])
  t.match(l.stdout, /1 brokers:/, 'kcat -L: one broker (kproxy)')
})

t.test('admin tools through kproxy, routed by name; acks=0', async t => {
  const describe = await runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', proxy, '--describe', '--topic', 'berries'])
  t.equal(describe.code, 0, describe.stderr.slice(-2000))
  t.match(describe.stdout, /Topic: berries\s+Partition: 0\s+Leader: 0\s+Replicas: 0\s+Isr: 0/, 'kafka-topics --describe: kproxy (node 0) leads berries')
  const offsets = await runKafkaTool('org.apache.kafka.tools.GetOffsetShell', ['--bootstrap-server', proxy, '--topic', 'apples|berries|cherries'])
  t.equal(offsets.code, 0, offsets.stderr.slice(-2000))
  t.same(offsets.stdout.split('\n').filter(Boolean).sort(), ['apples:0:2', 'berries:0:2', 'cherries:0:2'], 'kafka-get-offsets: the end offsets of all three clusters')
  const alter = await runKafkaTool('kafka.admin.ConfigCommand', ['--bootstrap-server', proxy, '--entity-type', 'topics', '--entity-name', 'berries', '--alter', '--add-config', 'retention.ms=3600000'])
  t.equal(alter.code, 0, alter.stderr.slice(-2000))
  const onB = await runKafkaTool('kafka.admin.ConfigCommand', ['--bootstrap-server', direct.b, '--entity-type', 'topics', '--entity-name', 'berries', '--describe'])
  t.match(onB.stdout, /retention\.ms=3600000/, 'kafka-configs --alter through kproxy changed berries on cluster b')
  const create = await runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', proxy, '--create', '--topic', 'bananas', '--partitions', '2'])
  t.equal(create.code, 0, create.stderr.slice(-2000))
  t.ok((await topicsOn(direct.b)).includes('bananas'), 'kafka-topics --create through kproxy: bananas is on cluster b')
  const del = await runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', proxy, '--delete', '--topic', 'bananas'])
  t.equal(del.code, 0, del.stderr.slice(-2000))
  let gone = false
  for (let i = 0; i < 30 && !gone; i++) {
    gone = !(await topicsOn(direct.b)).includes('bananas')
    if (!gone) await new Promise(resolve => setTimeout(resolve, 500))
  }
  t.ok(gone, 'kafka-topics --delete through kproxy: bananas is gone from cluster b')
  if (hasKcat()) {
    const p0 = await kcat(['-b', proxy, '-t', 'cloudberries', '-P', '-X', 'acks=0'], { input: Array.from({ length: 50 }, (_, i) => `zero-${i}`).join('\n') + '\n' })
    t.equal(p0.code, 0, p0.stderr.slice(-2000))
    let got: string[] = []
    for (let i = 0; i < 10 && got.length < 50; i++) {
      const r = await kcat(['-b', direct.c, '-t', 'cloudberries', '-C', '-e', '-o', 'beginning', '-f', '%s\n'])
      got = r.stdout.split('\n').filter(Boolean)
    }
    t.equal(got.length, 50, 'acks=0 through kproxy (no answers): the 50 records are on cluster c')
  }
})

t.test('kafkajs: one producer, one consumer group subscribed across clusters', async t => {
  const kafka = new Kafka({ clientId: 'mesh-kafkajs', brokers: [proxy], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const topics = ['apricots', 'bilberries', 'clementines']
  await admin.createTopics({ topics: topics.map(topic => ({ topic, numPartitions: 3 })), waitForLeaders: true })
  t.same((await admin.listTopics()).filter(x => topics.includes(x)).sort(), topics, 'created through kproxy')
  await admin.disconnect()
  t.ok((await topicsOn(direct.a)).includes('apricots'), 'apricots landed on cluster a')
  t.notOk((await topicsOn(direct.b)).includes('apricots'), 'and not on cluster b')
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const N = 3000
  const expected: string[] = []
  for (let batch = 0; batch < 30; batch++) {
    const messages = Array.from({ length: N / 30 }, (_, i) => ({ key: `k${batch}-${i}`, value: `v${batch * (N / 30) + i}` }))
    await producer.sendBatch({ acks: -1, topicMessages: topics.map(topic => ({ topic, messages: messages.map(m => ({ ...m, value: `${topic}:${m.value}` })) })) })
    for (const topic of topics) for (const m of messages) expected.push(`${topic}:${m.value}`)
  }
  await producer.disconnect()
  const consumer = kafka.consumer({ groupId: 'mesh-kafkajs-group' })
  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: true })
  const seen: string[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${expected.length} records after 90 s`)), 90_000)
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString())
        if (seen.length >= expected.length) { clearTimeout(timer); resolve() }
      }
    })
  })
  await consumer.disconnect()
  t.equal(seen.length, expected.length, `${expected.length} records consumed`)
  t.same([...seen].sort(), [...expected].sort(), 'each exactly once')
})

t.test('transactions on one cluster through kproxy: aborted records unseen, committed ones exactly once; a second cluster is refused', async t => {
  const topic = 'almonds'
  const N = 5000
  const perf = await runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', topic, '--num-records', String(N), '--throughput', '-1', '--payload-monotonic',
    '--transactional-id', 'mesh-perf', '--transaction-duration-ms', '300',
    '--producer-props', `bootstrap.servers=${proxy}`, 'acks=all', 'linger.ms=5'
  ], { timeoutMs: 120_000 })
  t.equal(perf.code, 0, `ProducerPerformance: ${perf.stderr.slice(-2000)}`)
  const producer = new Producer({ clientId: 'mesh-txn', bootstrapBrokers: [proxy], idempotent: true, transactionalId: 'mesh-plt', serializers: stringSerializers })
  t.teardown(() => producer.close())
  const aborted = Array.from({ length: 300 }, (_, i) => `aborted-${i}`)
  const committed = Array.from({ length: 300 }, (_, i) => `committed-${i}`)
  const tx1 = await producer.beginTransaction()
  await tx1.send({ messages: aborted.map(value => ({ topic, key: value, value })) })
  await tx1.abort()
  const tx2 = await producer.beginTransaction()
  await tx2.send({ messages: committed.map(value => ({ topic, key: value, value })) })
  await tx2.commit()
  const expected = [...Array.from({ length: N }, (_, i) => String(i)), ...committed]
  const cc = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', proxy, '--topic', topic, '--group', 'mesh-txn-reader', '--from-beginning',
    '--isolation-level', 'read_committed', '--timeout-ms', '10000'
  ], { timeoutMs: 120_000 })
  const got = cc.stdout.split('\n').filter(Boolean)
  t.same(tally(got, expected), { count: expected.length, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'read_committed through kproxy: exactly the committed records')
  const direct = await kcat(['-C', '-b', info.clusters[0]!.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_uncommitted', '-f', '%s\n'], { timeoutMs: 60_000 })
  t.equal(direct.stdout.split('\n').filter(v => v.startsWith('aborted-')).length, aborted.length, 'the aborted records are in cluster a\'s log (read_uncommitted, directly)')

  // a transaction homed on a (the first cluster) that adds a partition of b is refused (kafkajs:
  // it fails the send on INVALID_TXN_STATE at once)
  const kafka = new Kafka({ clientId: 'mesh-txn-cross', brokers: [proxy], logLevel: logLevel.NOTHING, retry: { retries: 1 } })
  const cross = kafka.producer({ transactionalId: 'mesh-cross', idempotent: true, maxInFlightRequests: 1 })
  await cross.connect()
  t.teardown(() => cross.disconnect())
  const tx3 = await cross.transaction()
  await t.rejects(tx3.send({ topic: 'berries', messages: [{ value: 'cross' }] }), /invalid state/, 'adding a partition of cluster b to a transaction of cluster a fails with INVALID_TXN_STATE')
  // the workers log asynchronously: give the line a moment to reach the file
  let line: string | undefined
  for (let i = 0; i < 50 && line === undefined; i++) {
    line = readLog().split('\n').find(l => l.includes('KPROXY_WARN_MESH_TRANSACTION_CROSSES_CLUSTERS'))
    if (line === undefined) await new Promise(resolve => setTimeout(resolve, 200))
  }
  t.match(line, /"home":"a".*"other":"b"/, 'and kproxy logs why, naming both clusters')

  // @platformatic/kafka too, at once: it adds the partition (AddPartitionsToTxn v3) before the
  // first Produce, once it has the topic's metadata (berries exists since the seed example; for a
  // topic that does not exist yet and no autocreateTopics it asks Metadata again every second,
  // through kproxy as straight at a broker, and never gets that far)
  const crossPlt = new Producer({ clientId: 'mesh-txn-cross-plt', bootstrapBrokers: [proxy], idempotent: true, transactionalId: 'mesh-cross-plt', serializers: stringSerializers })
  t.teardown(() => crossPlt.close())
  const tx4 = await crossPlt.beginTransaction()
  const refused = await tx4.send({ messages: [{ topic: 'berries', key: 'k', value: 'cross-plt' }] }).then(() => null, (err: unknown) => err)
  const codes: string[] = []
  for (let e: any = refused, i = 0; e != null && i < 6; e = e.errors?.[0] ?? e.cause, i++) if (typeof e.apiId === 'string') codes.push(e.apiId)
  t.same(codes, ['INVALID_TXN_STATE'], '@platformatic/kafka\'s send to cluster b in a transaction of cluster a fails with INVALID_TXN_STATE')
})

t.test('cluster c frozen (SIGSTOP): producers and consumers of a and b carry on; c\'s topics fail, then recover', async t => {
  const pids = javaPidsMentioning(info.clusters.find(c => c.name === 'c')!.dataDir)
  t.equal(pids.length, 1, 'the JVM of cluster c')
  const { freeze, resume } = freezer(pids)
  t.teardown(resume)
  freeze()
  const kafka = new Kafka({ clientId: 'mesh-frozen', brokers: [proxy], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
  const producer = kafka.producer()
  await producer.connect()
  let errors = 0
  for (let i = 0; i < 50; i++) {
    for (const topic of ['apples', 'berries']) {
      try {
        await producer.send({ topic, acks: -1, messages: [{ value: `frozen-${topic}-${i}` }] })
      } catch (err) {
        errors++
        t.comment(`${topic}: ${(err as Error).message}`)
      }
    }
  }
  t.equal(errors, 0, '100 sends to apples and berries while cluster c is frozen, no error')
  const c = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer',
    ['--bootstrap-server', proxy, '--include', 'apples|berries', '--from-beginning', '--max-messages', '104', '--timeout-ms', '30000'], { timeoutMs: 90_000 })
  const frozenRead = c.stdout.split('\n').filter(l => l.startsWith('frozen-')).length
  t.equal(frozenRead, 100, frozenRead === 100 ? 'and read back through kproxy while c is frozen' : `and read back through kproxy while c is frozen; the console consumer (exit ${c.code}) said: ${c.stderr.slice(-3000)}`)
  // Once a worker found c unanswering (8 s), it answers Metadata for every topic at once from what
  // it knew instead of waiting 8 s for c again each time: kcat's 5 s metadata timeout is met. The
  // kernel spreads connections over the two workers, so one of the three may be a worker's first.
  let listed = 0
  for (let i = 0; i < 3; i++) {
    const l = await kcat(['-b', proxy, '-L', '-m', '5'], { timeoutMs: 30_000 })
    if (l.stdout.includes('topic "apples"') && l.stdout.includes('topic "berries"')) listed++
  }
  t.ok(listed >= 2, `Metadata for every topic answered within kcat's 5 s at least twice of three while c is frozen (${listed})`)
  const stuck = await kcat(['-b', proxy, '-t', 'cherries', '-P', '-X', 'message.timeout.ms=10000'], { input: 'frozen-cherry\n', timeoutMs: 30_000 })
  t.not(stuck.code, 0, 'a produce to cherries fails while c is frozen')
  resume()
  let ok = false
  for (let i = 0; i < 20 && !ok; i++) {
    const r = await kcat(['-b', proxy, '-t', 'cherries', '-P', '-X', 'message.timeout.ms=20000'], { input: 'thawed-cherry\n', timeoutMs: 40_000 })
    ok = r.code === 0
  }
  t.ok(ok, 'cherries takes records again once c answers')
  await producer.disconnect()
})
