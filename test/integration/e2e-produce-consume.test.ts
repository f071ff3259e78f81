// Issue 3 acceptance (at full size in `pnpm test:full`; 20,000 in `pnpm test`): 100,000 records produced through `kproxy serve --workers 2` by each of kcat,
// kafkajs, @platformatic/kafka and Kafka's ProducerPerformance (acks=all, idempotence on), each
// consumed back through kproxy by a consumer group: exact count and content, no duplicates.
// A real 3-node cluster; topics with replication factor 3 and min.insync.replicas 2.
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { Producer, stringSerializers } from '@platformatic/kafka'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics, kafkajsGroupRead, kcatGroupRead, perSecond, tally } from '../helpers/e2e-records.ts'
import { count, scaled } from '../helpers/scale.ts'

const N = scaled(100_000, 20_000)

t.test(`${count(N)} records per producer through kproxy serve, read back by consumer groups`, { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2 })
  const kafka = new Kafka({ clientId: 'e2e', brokers: [kproxy.bootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const unique = Date.now()
  const topics = { kcat: `e2e-kcat-${unique}`, kafkajs: `e2e-kafkajs-${unique}`, plt: `e2e-plt-${unique}`, perf: `e2e-perf-${unique}` }
  await createDurableTopics(admin, Object.values(topics), 3)

  async function endOffsetsSum (topic: string): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  }

  t.test('kcat, idempotent, acks=all -> kafkajs consumer group', async t => {
    const expected = Array.from({ length: N }, (_, i) => `kcat-${i}-${'k'.repeat(i % 37)}`)
    const started = Date.now()
    const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', topics.kcat, '-X', 'enable.idempotence=true', '-X', 'acks=all', '-X', 'linger.ms=5'],
      { input: expected.join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(r.code, 0, r.stderr)
    t.comment(`kcat produced ${N} records through kproxy: ${perSecond(N, Date.now() - started)}`)
    t.equal(await endOffsetsSum(topics.kcat), N, 'the log holds exactly N records')
    const readAt = Date.now()
    const got = await kafkajsGroupRead(kafka, topics.kcat, `g-${topics.kcat}`, N)
    t.comment(`kafkajs group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    const result = tally(got, expected)
    t.same(result, { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('kafkajs, idempotent, acks -1 -> kcat consumer group', async t => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const expected = Array.from({ length: N }, (_, i) => `kafkajs-${i}`)
    const started = Date.now()
    for (let i = 0; i < N; i += 5000) {
      await producer.send({ topic: topics.kafkajs, acks: -1, messages: expected.slice(i, i + 5000).map((value, j) => ({ key: String(i + j), value })) })
    }
    t.comment(`kafkajs produced ${N} records through kproxy: ${perSecond(N, Date.now() - started)}`)
    t.equal(await endOffsetsSum(topics.kafkajs), N, 'the log holds exactly N records')
    const readAt = Date.now()
    const got = await kcatGroupRead(kproxy.bootstrap, topics.kafkajs, `g-${topics.kafkajs}`)
    t.comment(`kcat group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    t.same(tally(got, expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('@platformatic/kafka, idempotent, acks -1 -> kafkajs consumer group', async t => {
    const producer = new Producer({ clientId: 'e2e-plt', bootstrapBrokers: [kproxy.bootstrap], serializers: stringSerializers, idempotent: true, acks: -1 })
    t.teardown(() => producer.close())
    const expected = Array.from({ length: N }, (_, i) => `plt-${i}`)
    const started = Date.now()
    for (let i = 0; i < N; i += 5000) {
      await producer.send({ messages: expected.slice(i, i + 5000).map((value, j) => ({ topic: topics.plt, key: String(i + j), value })) })
    }
    t.comment(`@platformatic/kafka produced ${N} records through kproxy: ${perSecond(N, Date.now() - started)}`)
    t.equal(await endOffsetsSum(topics.plt), N, 'the log holds exactly N records')
    const readAt = Date.now()
    const got = await kafkajsGroupRead(kafka, topics.plt, `g-${topics.plt}`, N)
    t.comment(`kafkajs group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    t.same(tally(got, expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('Kafka ProducerPerformance, acks=all, idempotence on -> kcat consumer group', async t => {
    // --payload-monotonic: record i carries the text of i, so every record is identifiable.
    const r = await cluster.runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
      '--topic', topics.perf, '--num-records', String(N), '--throughput', '-1', '--payload-monotonic',
      '--producer-props', `bootstrap.servers=${kproxy.bootstrap}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5'
    ], { timeoutMs: 90_000 })
    t.equal(r.code, 0, `ProducerPerformance exit (timed out: ${String(r.timedOut)}): ${r.stderr.slice(-2000)}`)
    const summary = r.stdout.trim().split('\n').find(l => l.startsWith(`${N} records sent`))
    t.ok(summary !== undefined, `a summary line for ${N} records: ${r.stdout.slice(-500)}`)
    t.comment(`ProducerPerformance through kproxy: ${summary ?? '?'}`)
    t.equal(await endOffsetsSum(topics.perf), N, 'the log holds exactly N records')
    const readAt = Date.now()
    const got = await kcatGroupRead(kproxy.bootstrap, topics.perf, `g-${topics.perf}`)
    t.comment(`kcat group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    const expected = Array.from({ length: N }, (_, i) => String(i))
    t.same(tally(got, expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('kproxy saw no bad frames, unknown APIs or denials, and serves on both workers', async t => {
    const m = await kproxy.metrics()
    t.equal(metricSum(m, 'kproxy_decode_failures_total'), 0)
    t.equal(metricSum(m, 'kproxy_unknown_api_requests_total'), 0)
    t.equal(metricSum(m, 'kproxy_denied_requests_total'), 0)
    t.ok(metricSum(m, 'kproxy_requests_total', 'api="produce"') > 0)
    t.match(m, /^kproxy_workers 2$/m)
    const workers = new Set(kproxy.logs.filter(l => l.msg === 'connection open').map(l => l.worker))
    t.comment(`connections opened on workers ${[...workers].join(', ')}; ${metricSum(m, 'kproxy_received_bytes_total')} bytes in, ${metricSum(m, 'kproxy_sent_bytes_total')} bytes out`)
    const errors = kproxy.logs.filter(l => typeof l.level === 'number' && l.level >= 50)
    t.same(errors, [], 'no error logs')
    const stopped = await kproxy.stop()
    t.same(stopped, { code: 0, signal: null }, 'SIGTERM: exit 0')
  })
})
