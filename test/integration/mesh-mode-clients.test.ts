// Issue 10 acceptance, the two points mesh-mode.test.ts does not cover, on the mesh sandbox
// (`kproxy sandbox up --topology mesh`: single-node clusters a, b, c behind `kproxy serve
// --workers 2` in mesh mode routing topics a*, b*, c*):
// 1. N records (100,000 in `pnpm test:full`, 10,000 in `pnpm test`) from each of the Java
//    producer, kafkajs, @platformatic/kafka and kcat, spread over one topic per cluster; each
//    client's records read back through kproxy by a consumer group of the same client kind
//    subscribed to its three topics (so every group spans the three clusters): exact count and
//    content, no duplicates; and the end offsets of every topic checked directly on its cluster.
// 2. Cluster c's broker killed (SIGKILL) while producers and a consumer group stream to and from
//    topics of a and b: they see no error, and every record is read exactly once, before, during
//    and after the outage.
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { runKafkaTool } from '@kproxy/cli'
import type { MeshSandboxInfo } from '@kproxy/cli/sandbox/mesh-topology'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import type { Admin, Producer as KafkajsProducer } from 'kafkajs'
import { Producer, stringSerializers } from '@platformatic/kafka'
import { groupCoordinatorReady, kafkajsGroupRead, kcatGroupRead, perSecond, pltGroupRead, tally, waitFor } from '../helpers/e2e-records.ts'
import type { Tally } from '../helpers/e2e-records.ts'
import { hasKcat, javaPidsMentioning, kcat } from '../helpers/kafka.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { sandboxForTest } from '../helpers/sandbox-up.ts'
import { count, scaled } from '../helpers/scale.ts'

const N = scaled(100_000, 10_000)
const CLUSTERS = ['a', 'b', 'c'] as const
type ClusterName = typeof CLUSTERS[number]
// partitions of every topic this file creates: a group then reads several partitions per cluster
const PARTITIONS = 3
// records per producer call of kafkajs and @platformatic/kafka
const SEND_CHUNK = 1000
// how long a client may take to write or read its N records on a loaded 2-core machine
const CLIENT_TIMEOUT_MS = scaled(300_000, 120_000)
// Kafka's console consumer stops once no record came for this long (it reads everything there
// is, so a duplicate or a stray beyond N would show)
const CONSOLE_IDLE_MS = 15_000

// exactly the records sent, each once; the message says what differs (the diff may be cut in CI)
function checkExact (t: Test, got: readonly string[], values: readonly string[], what = 'exact count and content, no duplicates'): void {
  const found = tally(got, values)
  const want: Tally = { count: values.length, missing: 0, duplicates: 0, unexpected: 0, examples: [] }
  t.same(found, want, `${what} (got ${count(found.count)}: ${found.missing} missing, ${found.duplicates} duplicates, ${found.unexpected} unexpected)`)
}

// three clusters, a kproxy, several JVM tool runs and 4 x N records on a shared machine
t.setTimeout(scaled(3_600_000, 1_200_000))
const run = await sandboxForTest<MeshSandboxInfo>(t, ['--topology', 'mesh'])
const info = run.info
const proxy = info.clientBootstrap
const clusterInfo = (name: ClusterName): MeshSandboxInfo['clusters'][number] => info.clusters.find(c => c.name === name)!
t.comment(`kproxy on ${proxy}`)

const kafka = new Kafka({ clientId: 'mesh-clients', brokers: [proxy], logLevel: logLevel.NOTHING })
const admin = kafka.admin()
await admin.connect()
// Admin clients straight at each cluster, for the checks that must not go through kproxy.
const directAdmins = Object.fromEntries(await Promise.all(CLUSTERS.map(async name => {
  const a = new Kafka({ clientId: `direct-${name}`, brokers: [clusterInfo(name).bootstrap], logLevel: logLevel.NOTHING }).admin()
  await a.connect()
  return [name, a] as const
}))) as Record<ClusterName, Admin>
t.teardown(async () => {
  await admin.disconnect()
  for (const a of Object.values(directAdmins)) await a.disconnect()
})

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

// Records in the log of `topic` on cluster `name`, asked of the cluster itself.
async function recordsOn (name: ClusterName, topic: string): Promise<number> {
  const offsets = await directAdmins[name].fetchTopicOffsets(topic)
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
}

// A client's N records: record i goes to the topic of cluster i mod 3, so every client writes to
// all three clusters, and carries the client's name and i, so every record is identifiable.
interface Spread {
  topics: string[]
  values: string[]
  byTopic: Map<string, string[]>
}

function spread (client: string): Spread {
  const topics = CLUSTERS.map(c => `${c}-${client}`)
  const values = Array.from({ length: N }, (_, i) => `${client}-${i}`)
  const byTopic = new Map(topics.map(topic => [topic, [] as string[]]))
  values.forEach((v, i) => byTopic.get(topics[i % topics.length]!)!.push(v))
  return { topics, values, byTopic }
}

// The records of each topic are on its own cluster, checked on the clusters directly: the end
// offsets of every partition add up to what was sent there, and no other cluster has the topic.
async function checkDirectly (t: Test, s: Spread): Promise<void> {
  for (const [i, topic] of s.topics.entries()) {
    const home = CLUSTERS[i]!
    const onHome = await recordsOn(home, topic)
    t.equal(onHome, s.byTopic.get(topic)!.length, `${topic}: ${count(s.byTopic.get(topic)!.length)} records on cluster ${home} (its end offsets, asked directly; found ${count(onHome)})`)
    for (const other of CLUSTERS.filter(c => c !== home)) {
      t.notOk((await directAdmins[other].listTopics()).includes(topic), `${topic} is not on cluster ${other}`)
    }
  }
}

t.test(`${count(N)} records from each client across the three clusters, read back by a group of each client`, async t => {
  const clients = ['java', 'kafkajs', 'plt', 'kcat']
  await createTopicsAndWait(admin, clients.flatMap(client => CLUSTERS.map(c => ({ topic: `${c}-${client}`, numPartitions: PARTITIONS }))))

  // Not ProducerPerformance: its --payload-monotonic values restart at 0 on every topic, and the
  // console consumer cannot print a record's topic, so one group reading the three topics could
  // not tell a duplicate from the same number on another cluster. The console producer is the
  // same Java producer (KafkaProducer) and writes the lines it is given: one run per cluster's
  // topic, the three at once.
  t.test('the Java producer (console producer, idempotent, acks=all) -> the console consumer with --group and --include', async t => {
    const s = spread('java')
    const started = Date.now()
    const runs = await Promise.all(s.topics.map(topic => runKafkaTool('org.apache.kafka.tools.ConsoleProducer', [
      '--bootstrap-server', proxy, '--topic', topic,
      '--producer-property', 'acks=all', '--producer-property', 'enable.idempotence=true', '--producer-property', 'linger.ms=5'
    ], { input: s.byTopic.get(topic)!.join('\n') + '\n', timeoutMs: CLIENT_TIMEOUT_MS })))
    for (const [i, r] of runs.entries()) t.equal(r.code, 0, `console producer to ${s.topics[i]!} (timed out: ${String(r.timedOut)}): ${r.stderr.slice(-2000)}`)
    t.comment(`the Java console producers wrote ${count(N)} records through kproxy: ${perSecond(N, Date.now() - started)} (JVM start-up included)`)
    await checkDirectly(t, s)
    const readAt = Date.now()
    const r = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server', proxy, '--include', '[abc]-java', '--group', 'g-java', '--from-beginning', '--timeout-ms', String(CONSOLE_IDLE_MS)
    ], { timeoutMs: CLIENT_TIMEOUT_MS })
    const got = r.stdout.split('\n').filter(Boolean)
    t.comment(`the console consumer group read ${count(got.length)} records back: ${perSecond(got.length, Date.now() - readAt - CONSOLE_IDLE_MS)} (without its ${CONSOLE_IDLE_MS} ms idle wait)`)
    t.equal(r.code, 0, `console consumer exit (timed out: ${String(r.timedOut)}): ${r.stderr.slice(-2000)}`)
    checkExact(t, got, s.values)
  })

  t.test('kafkajs (idempotent, acks -1, each call spanning the three clusters) -> a kafkajs consumer group', async t => {
    const s = spread('kafkajs')
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const started = Date.now()
    for (let i = 0; i < N; i += SEND_CHUNK) {
      const chunk = s.values.slice(i, i + SEND_CHUNK).map((value, j) => ({ topic: s.topics[(i + j) % s.topics.length]!, value }))
      await producer.sendBatch({
        acks: -1,
        topicMessages: s.topics.map(topic => ({ topic, messages: chunk.filter(m => m.topic === topic).map(m => ({ key: m.value, value: m.value })) }))
      })
    }
    t.comment(`kafkajs wrote ${count(N)} records through kproxy: ${perSecond(N, Date.now() - started)}`)
    await checkDirectly(t, s)
    const readAt = Date.now()
    const got = await kafkajsGroupRead(kafka, s.topics, 'g-kafkajs', N, CLIENT_TIMEOUT_MS)
    t.comment(`the kafkajs group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    checkExact(t, got, s.values)
  })

  t.test('@platformatic/kafka (idempotent, acks -1, each call spanning the three clusters) -> a @platformatic/kafka consumer group', async t => {
    const s = spread('plt')
    const producer = new Producer({ clientId: 'mesh-plt', bootstrapBrokers: [proxy], serializers: stringSerializers, idempotent: true, acks: -1 })
    t.teardown(() => producer.close())
    const started = Date.now()
    for (let i = 0; i < N; i += SEND_CHUNK) {
      await producer.send({ messages: s.values.slice(i, i + SEND_CHUNK).map((value, j) => ({ topic: s.topics[(i + j) % s.topics.length]!, key: value, value })) })
    }
    t.comment(`@platformatic/kafka wrote ${count(N)} records through kproxy: ${perSecond(N, Date.now() - started)}`)
    await checkDirectly(t, s)
    const readAt = Date.now()
    const got = await pltGroupRead(proxy, s.topics, 'g-plt', N, CLIENT_TIMEOUT_MS)
    t.comment(`the @platformatic/kafka group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    checkExact(t, got, s.values)
  })

  // kcat -P writes one topic per run: one run per cluster's topic, the three at once.
  t.test('kcat (idempotent, acks=all) -> a kcat consumer group (-G)', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
    const s = spread('kcat')
    const started = Date.now()
    const runs = await Promise.all(s.topics.map(topic => kcat(['-P', '-b', proxy, '-t', topic, '-X', 'enable.idempotence=true', '-X', 'acks=all', '-X', 'linger.ms=5'],
      { input: s.byTopic.get(topic)!.join('\n') + '\n', timeoutMs: CLIENT_TIMEOUT_MS })))
    for (const [i, r] of runs.entries()) t.equal(r.code, 0, `kcat -P to ${s.topics[i]!}: ${r.stderr.slice(-2000)}`)
    t.comment(`kcat wrote ${count(N)} records through kproxy: ${perSecond(N, Date.now() - started)}`)
    await checkDirectly(t, s)
    const readAt = Date.now()
    const got = await kcatGroupRead(proxy, s.topics, 'g-kcat', CLIENT_TIMEOUT_MS)
    t.comment(`the kcat group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    checkExact(t, got, s.values)
  })
})

// ---- 2. a cluster killed under load ----------------------------------------------------------

// Each a/b producer sends this many records per request, one request at a time, with this pause
// between: a steady stream that a loaded 2-core machine keeps up with.
const RECORDS_PER_SEND = 20
const SEND_PAUSE_MS = 10
// c's producer waits this long after a failed send before the next
const C_ERROR_PAUSE_MS = 200
// streaming before the kill, and after c is back
const BEFORE_MS = 5_000
const AFTER_MS = 10_000
// the sandbox's watchdog restarts a broker in a few seconds; allow for a loaded machine
const RESTART_TIMEOUT_MS = 120_000
// after c is back, kproxy must route to it again within this
const C_RECOVERY_MS = 60_000
// after the producers stop, the consumer must have every acknowledged record within this
const DRAIN_MS = 60_000
// the consumer keeps listening this long after the last expected record (a duplicate would show)
const LINGER_MS = 1_000
const CONSUMER_MAX_WAIT_MS = 500
// the group must be reading both topics within this of the load starting
const STREAMING_MS = 60_000

type Phase = 'before' | 'during' | 'after'
interface Stamped { value: string, at: number }

function byPhase (events: readonly Stamped[], killAt: number, backAt: number, prefix: string): Record<Phase, number> {
  const n: Record<Phase, number> = { before: 0, during: 0, after: 0 }
  for (const e of events) {
    if (!e.value.startsWith(prefix)) continue
    n[e.at < killAt ? 'before' : e.at < backAt ? 'during' : 'after']++
  }
  return n
}

// A kafkajs client through kproxy (retries 0 for the producers: a send fails at the first error)
// that keeps what it logs at WARN or worse (protocol errors in answers, lost connections, crashes)
// in `sink`.
function watchedKafka (clientId: string, sink: string[], retries: number): Kafka {
  return new Kafka({
    clientId,
    brokers: [proxy],
    retry: { retries },
    logLevel: logLevel.WARN,
    logCreator: () => entry => { sink.push(`${entry.log.timestamp} ${entry.namespace}: ${entry.log.message}${entry.log.error === undefined ? '' : ` (${String(entry.log.error)})`}`) }
  })
}

// Sends RECORDS_PER_SEND records at a time to `topic` until stopped, with acks -1; every record
// acknowledged goes to `acked`, every failed send to `errors`.
async function produceLoop (producer: KafkajsProducer, topic: string, stopped: () => boolean, acked: Stamped[], errors: string[], errorPauseMs: number): Promise<void> {
  let i = 0
  while (!stopped()) {
    const values = Array.from({ length: RECORDS_PER_SEND }, () => `${topic}-${i++}`)
    try {
      await producer.send({ topic, acks: -1, messages: values.map(value => ({ value })) })
      const at = Date.now()
      for (const value of values) acked.push({ value, at })
    } catch (err) {
      errors.push(`${new Date().toISOString()} ${(err as Error).name}: ${(err as Error).message}`)
      await sleep(errorPauseMs)
    }
    await sleep(SEND_PAUSE_MS)
  }
}

// What the sandbox does when a broker JVM dies: `kproxy sandbox up` watches its brokers
// (packages/cli/src/sandbox/broker-watchdog.ts) and restarts a dead one with the same node id,
// ports and data directory, logging "restarting Kafka node N of cluster c" and then "Kafka node N
// of cluster c is back after S s" on its stderr (the sandbox gives up after 5 deaths in 10
// minutes). So c is down from the kill until that line, then answers again on the same address:
// that line ends the "during" phase.
t.test('cluster c killed (SIGKILL) under load: the producers and the consumer group of a and b see no error', async t => {
  const topics = { a: 'a-steady', b: 'b-steady', c: 'c-steady' }
  await createTopicsAndWait(admin, Object.values(topics).map(topic => ({ topic, numPartitions: PARTITIONS })))
  const logAtStart = readFileSync(info.kproxy.log, 'utf8').length

  const logs = { a: [] as string[], b: [] as string[], c: [] as string[], consumer: [] as string[] }
  const errors = { a: [] as string[], b: [] as string[], c: [] as string[] }
  const acked = { a: [] as Stamped[], b: [] as Stamped[], c: [] as Stamped[] }
  const producers = {
    a: watchedKafka('steady-a', logs.a, 0).producer({ createPartitioner: Partitioners.DefaultPartitioner }),
    b: watchedKafka('steady-b', logs.b, 0).producer({ createPartitioner: Partitioners.DefaultPartitioner }),
    // c's own producer, so that c is under load too when it dies; its errors are expected
    c: watchedKafka('steady-c', logs.c, 0).producer({ createPartitioner: Partitioners.DefaultPartitioner })
  }
  // one group across a and b (its home, and so its coordinator, is cluster a: the mesh's first)
  const consumer = watchedKafka('steady-group', logs.consumer, 5).consumer({ groupId: 'g-steady', maxWaitTimeInMs: CONSUMER_MAX_WAIT_MS })
  const consumed: Stamped[] = []
  let joins = 0
  let crashes = 0
  consumer.on(consumer.events.GROUP_JOIN, () => { joins++ })
  consumer.on(consumer.events.CRASH, e => { crashes++; logs.consumer.push(`crash: ${String(e.payload.error)}`) })

  let stop = false
  let loops: Array<Promise<void>> = []
  t.teardown(async () => {
    stop = true
    await Promise.allSettled(loops)
    await Promise.allSettled([...Object.values(producers).map(p => p.disconnect()), consumer.disconnect()])
  })

  // the group's coordinator answers before the consumer joins, so that any error the consumer
  // logs is kproxy's (test 1 has already made each cluster's offsets topic)
  await groupCoordinatorReady(admin, 'g-steady')
  await consumer.connect()
  await consumer.subscribe({ topics: [topics.a, topics.b], fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const at = Date.now()
      for (const m of batch.messages) consumed.push({ value: m.value!.toString(), at })
    }
  })
  for (const p of Object.values(producers)) await p.connect()
  const loadAt = Date.now()
  loops = (['a', 'b', 'c'] as const).map(name => produceLoop(producers[name], topics[name], () => stop, acked[name], errors[name], name === 'c' ? C_ERROR_PAUSE_MS : 0))

  // streaming: the group reads both clusters' topics
  await waitFor('the group reading a-steady and b-steady', () => [topics.a, topics.b].every(topic => consumed.some(r => r.value.startsWith(`${topic}-`))) ? true : undefined, STREAMING_MS)
  await sleep(BEFORE_MS)

  const dataDir = clusterInfo('c').dataDir
  const pids = javaPidsMentioning(dataDir)
  t.equal(pids.length, 1, 'the JVM of cluster c')
  const stderrAtKill = run.stderr().length
  const killAt = Date.now()
  for (const pid of pids) process.kill(pid, 'SIGKILL')
  t.comment(`killed cluster c's broker (pid ${pids.join(', ')}) with ${count(acked.a.length + acked.b.length)} records of a and b acknowledged so far`)
  // Neither wait below throws: the a/b assertions at the end are the point of this test, and they
  // still say what happened if c does not come back.
  const backLine = await waitFor('the watchdog restarting cluster c', () => /Kafka node \d+ of cluster c is back after [\d.]+ s/.exec(run.stderr().slice(stderrAtKill))?.[0], RESTART_TIMEOUT_MS, 200).catch(() => null)
  const backAt = Date.now()
  t.ok(backLine !== null, `the sandbox restarted cluster c: ${backLine ?? run.stderr().slice(stderrAtKill).slice(-2000)} (${backAt - killAt} ms after the kill)`)
  const newPids = javaPidsMentioning(dataDir)
  t.ok(newPids.length === 1 && !pids.includes(newPids[0]!), `cluster c runs in a new JVM (pid ${newPids.join(', ')})`)

  // c takes records again through kproxy once it is back
  const recovered = await waitFor('a record acknowledged by cluster c after its restart', () => acked.c.find(r => r.at > backAt), C_RECOVERY_MS, 200).catch(() => null)
  t.ok(recovered !== null, recovered === null ? `c's producer is not acknowledged within ${C_RECOVERY_MS} ms of c being back; its last failure: ${errors.c.at(-1) ?? 'none'}` : `c's producer is acknowledged again ${recovered.at - backAt} ms after c is back`)
  await sleep(AFTER_MS)
  stop = true
  await Promise.all(loops)
  const stopAt = Date.now()

  const expected = [...acked.a, ...acked.b].map(r => r.value)
  // no throw on a timeout: the tally below says what is missing
  await waitFor(`the group reading all ${expected.length} records of a and b`, () => consumed.length >= expected.length ? true : undefined, DRAIN_MS, 200).catch(() => {})
  await sleep(LINGER_MS)
  await consumer.stop()

  t.comment(`a and b: ${count(expected.length)} records acknowledged in ${((stopAt - loadAt) / 1000).toFixed(0)} s (${perSecond(expected.length, stopAt - loadAt)}); c: ${count(acked.c.length)} acknowledged, ${errors.c.length} failed sends while it was down`)
  t.same(errors.a, [], 'the producer of a: no send failed')
  t.same(errors.b, [], 'the producer of b: no send failed')
  t.same(logs.a, [], 'the producer of a logged no error or warning')
  t.same(logs.b, [], 'the producer of b logged no error or warning')
  t.same(logs.consumer, [], 'the consumer group of a and b logged no error or warning')
  t.equal(crashes, 0, 'the consumer never crashed')
  t.equal(joins, 1, 'the consumer joined its group once (no error made it rejoin)')
  checkExact(t, consumed.map(r => r.value), expected, 'every acknowledged record of a and b consumed exactly once')
  for (const name of ['a', 'b'] as const) {
    const produced = byPhase(acked[name], killAt, backAt, topics[name])
    const read = byPhase(consumed, killAt, backAt, topics[name])
    t.comment(`${topics[name]}: acknowledged ${JSON.stringify(produced)}, consumed ${JSON.stringify(read)} (before the kill / while c was down / after)`)
    t.ok(produced.before > 0 && produced.during > 0 && produced.after > 0, `${topics[name]}: records acknowledged before, during and after c's outage`)
    t.ok(read.before > 0 && read.during > 0 && read.after > 0, `${topics[name]}: records consumed before, during and after c's outage`)
  }
  if (errors.c.length > 0) t.comment(`c's producer while c was down, first failure: ${errors.c[0]!}`)

  // kproxy's own view: it noticed c going, and never thought a or b were down
  const kproxyLog = readFileSync(info.kproxy.log, 'utf8').slice(logAtStart).split('\n').filter(Boolean)
  const warnings = (cluster: ClusterName): string[] => kproxyLog.filter(l => l.includes(`"cluster":"${cluster}"`) && /"level":(4|5|6)\d/.test(l))
  t.comment(`kproxy logged ${warnings('c').length} warning(s) about cluster c${warnings('c').length > 0 ? `, first: ${warnings('c')[0]!.slice(0, 400)}` : ''}`)
  t.same([...warnings('a'), ...warnings('b')], [], 'kproxy logged no warning or error about clusters a and b')
})
