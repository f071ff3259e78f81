// Produce and consume through broker mode with real clients against a 3-node cluster: kcat
// (librdkafka) and kafkajs, idempotent producers, consumer groups, exact count and content.
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { startBrokerProxy } from '../helpers/broker-proxy.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'

const N = 10_000

t.test('produce and consume through broker mode', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const proxy = await startBrokerProxy(t, cluster.bootstrap)
  const kafka = new Kafka({ clientId: 'kproxy-test', brokers: [proxy.bootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const unique = Date.now()
  const kcatTopic = `bm-kcat-${unique}`
  const jsTopic = `bm-kafkajs-${unique}`
  const acks0Topic = `bm-acks0-${unique}`
  const pltTopic = `bm-platformatic-${unique}`
  await createTopicsAndWait(admin, [kcatTopic, jsTopic, acks0Topic, pltTopic].map(topic => ({ topic, numPartitions: 3, replicationFactor: 3 })))

  // Reads `topic` through kproxy with a kafkajs consumer group until `count` messages arrived.
  async function kafkajsConsume (topic: string, count: number): Promise<string[]> {
    const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const values: string[] = []
    const next = new Map<number, string>() // partition -> next offset to commit
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} messages after 60 s`)), 60_000)
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          values.push(message.value!.toString())
          next.set(partition, String(BigInt(message.offset) + 1n))
          if (values.length >= count) { clearTimeout(timer); resolve() }
        }
      }).catch(reject)
    })
    // committed offsets go through kproxy and are fetched back through it
    await consumer.commitOffsets([...next].map(([partition, offset]) => ({ topic, partition, offset })))
    await consumer.disconnect()
    const offsets = await admin.fetchOffsets({ groupId: `g-${topic}`, topics: [topic] })
    const committed = offsets[0].partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0)
    t.equal(committed, count, `group g-${topic} committed ${count} offsets in total`)
    return values
  }

  t.test('kcat idempotent producer -> kafkajs consumer group', async t => {
    const expected = Array.from({ length: N }, (_, i) => `kcat-${i}-${'x'.repeat(i % 50)}`)
    const started = Date.now()
    const r = await kcat(['-P', '-b', proxy.bootstrap, '-t', kcatTopic, '-X', 'enable.idempotence=true', '-X', 'acks=all'], { input: expected.join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(r.code, 0, r.stderr)
    t.comment(`kcat produced ${N} records through kproxy in ${Date.now() - started} ms`)
    const got = await kafkajsConsume(kcatTopic, N)
    t.equal(got.length, N)
    t.same([...got].sort(), [...expected].sort(), 'exact content, no duplicates')
  })

  t.test('kafkajs idempotent producer -> kcat consumer group', async t => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const expected = Array.from({ length: N }, (_, i) => `kafkajs-${i}`)
    const started = Date.now()
    for (let i = 0; i < N; i += 1000) {
      await producer.send({ topic: jsTopic, acks: -1, messages: expected.slice(i, i + 1000).map((value, j) => ({ key: String(i + j), value })) })
    }
    await producer.disconnect()
    t.comment(`kafkajs produced ${N} records through kproxy in ${Date.now() - started} ms`)
    const r = await kcat(['-b', proxy.bootstrap, '-G', `g-${jsTopic}`, '-X', 'auto.offset.reset=earliest', '-c', String(N), '-f', '%s\n', jsTopic], { timeoutMs: 90_000 })
    t.equal(r.code, 0, r.stderr)
    const got = r.stdout.split('\n').filter(Boolean)
    t.equal(got.length, N)
    t.same(got.sort(), [...expected].sort(), 'exact content, no duplicates')
  })

  t.test('@platformatic/kafka idempotent producer -> @platformatic/kafka consumer group (current protocol versions)', async t => {
    const producer = new Producer({ clientId: 'kproxy-plt', bootstrapBrokers: [proxy.bootstrap], serializers: stringSerializers, idempotent: true, acks: -1 })
    t.teardown(() => producer.close())
    const expected = Array.from({ length: N }, (_, i) => `plt-${i}`)
    const started = Date.now()
    for (let i = 0; i < N; i += 1000) {
      await producer.send({ messages: expected.slice(i, i + 1000).map((value, j) => ({ topic: pltTopic, key: String(i + j), value })) })
    }
    t.comment(`@platformatic/kafka produced ${N} records through kproxy in ${Date.now() - started} ms`)
    const consumer = new Consumer({ groupId: `g-${pltTopic}`, clientId: 'kproxy-plt', bootstrapBrokers: [proxy.bootstrap], deserializers: stringDeserializers, maxWaitTime: 200 })
    t.teardown(() => consumer.close(true))
    const stream = await consumer.consume({ topics: [pltTopic], mode: 'earliest', autocommit: false })
    const got: string[] = []
    const timer = setTimeout(() => { stream.destroy(new Error(`only ${got.length} of ${N} messages after 60 s`)) }, 60_000)
    for await (const message of stream) {
      got.push(message.value as string)
      if (got.length >= N) break
    }
    clearTimeout(timer)
    t.equal(got.length, N)
    t.same([...got].sort(), [...expected].sort(), 'exact content, no duplicates')
    const versions = [...proxy.metrics.requestVersions.keys()]
    t.comment(`request versions seen: ${versions.sort().join(' ')}`)
  })

  t.test('acks=0 produce gets no response and leaves nothing in flight', async t => {
    const before = { req: proxy.metrics.count(proxy.metrics.requests, 0), res: proxy.metrics.count(proxy.metrics.responses, 0) }
    const logsBefore = proxy.logs().length
    const values = Array.from({ length: 2000 }, (_, i) => `acks0-${i}`)
    const r = await kcat(['-P', '-b', proxy.bootstrap, '-t', acks0Topic, '-X', 'acks=0', '-X', 'enable.idempotence=false', '-X', 'linger.ms=5', '-X', 'batch.num.messages=100'], { input: values.join('\n') + '\n' })
    t.equal(r.code, 0, r.stderr)
    const after = { req: proxy.metrics.count(proxy.metrics.requests, 0), res: proxy.metrics.count(proxy.metrics.responses, 0) }
    t.ok(after.req - before.req > 0, `${after.req - before.req} Produce requests with acks=0 went through`)
    t.equal(after.res - before.res, 0, 'no Produce response was waited for or forwarded')
    // the producer's connections closed with an empty request queue
    await new Promise(resolve => setTimeout(resolve, 300))
    const closes = proxy.logs().slice(logsBefore).filter(l => l.msg?.startsWith('connection closed'))
    t.ok(closes.length > 0, `${closes.length} producer connections closed`)
    for (const c of closes) t.equal(c.inFlight, 0, `closed with nothing in flight (${c.target})`)
    // the records arrived (librdkafka flushes before exiting; read them back without a group)
    const c = await kcat(['-C', '-b', proxy.bootstrap, '-t', acks0Topic, '-o', 'beginning', '-e', '-f', '%s\n'], { timeoutMs: 30_000 })
    t.equal(c.code, 0, c.stderr)
    t.same(c.stdout.split('\n').filter(Boolean).sort(), [...values].sort())
  })

  t.test('no decode failures, unknown APIs or denials on the way', async t => {
    t.equal(proxy.metrics.decodeFailures, 0)
    t.same([...proxy.metrics.unknown], [])
    t.same([...proxy.metrics.deniedKeys], [])
    const p50 = [...proxy.metrics.latencies].sort((a, b) => a - b)[proxy.metrics.latencies.length >> 1]
    t.comment(`${proxy.metrics.latencies.length} responses, median latency ${p50} µs; ${proxy.metrics.inBytes} bytes in, ${proxy.metrics.outBytes} bytes out`)
  })
})
