// Issue 8 acceptance: faultInjection answers 30% of Produce requests with NOT_LEADER_OR_FOLLOWER,
// through `kproxy serve --workers 2` in front of a real 3-node cluster. Kafka's Java producer
// (ProducerPerformance, idempotent, acks=all) and kafkajs (idempotent, acks -1) each deliver
// 100,000 records anyway (`pnpm test:full`; 20,000 in `pnpm test`), and a consumer group reads every one back exactly once. The injected
// errors show in /metrics, both as the filter's events and as kproxy's response errors.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { hasKcat, kafkaCluster } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics, kcatGroupRead, perSecond, tally } from '../helpers/e2e-records.ts'
import { count, scaled } from '../helpers/scale.ts'

const N = scaled(100_000, 20_000)
const PERCENT = 30
const NOT_LEADER_OR_FOLLOWER = 6
const EVENT = 'filter="faultInjection",event="Produce:error:NOT_LEADER_OR_FOLLOWER"'

t.test(`faultInjection: ${PERCENT}% of Produce requests get NOT_LEADER_OR_FOLLOWER; ${count(N)} records per producer arrive exactly once`, { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-fault-injection-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const configFile = join(dir, 'kproxy.yaml')
  writeFileSync(configFile, [
    'brokerMode:',
    `  upstream: ${cluster.bootstrap}`,
    '  filters:',
    '    - name: faultInjection',
    '      config:',
    '        rules:',
    '          - match: { apiKeys: [Produce] }',
    `            percent: ${PERCENT}`,
    '            action: { error: NOT_LEADER_OR_FOLLOWER }',
    ''
  ].join('\n'))
  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', configFile] })
  const admin = new Kafka({ clientId: 'setup', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const unique = Date.now()
  const topics = { java: `faults-java-${unique}`, kafkajs: `faults-kafkajs-${unique}` }
  await createDurableTopics(admin, Object.values(topics), 3)

  // What the brokers hold, asked directly (not through kproxy).
  async function endOffsetsSum (topic: string): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  }

  // Produce requests kproxy read, and how many of them the filter answered with the error.
  async function produceCounts (): Promise<{ requests: number, injected: number }> {
    const m = await kproxy.metrics()
    return { requests: metricSum(m, 'kproxy_requests_total', 'api="produce"'), injected: metricSum(m, 'kproxy_filter_events_total', EVENT) }
  }

  function faultShare (before: { requests: number, injected: number }, after: { requests: number, injected: number }): string {
    const requests = after.requests - before.requests
    const injected = after.injected - before.injected
    return `${injected} of ${requests} Produce requests (${(100 * injected / Math.max(requests, 1)).toFixed(1)}%) got NOT_LEADER_OR_FOLLOWER`
  }

  t.test('Java producer (ProducerPerformance, idempotent, acks=all) -> kcat consumer group', async t => {
    const before = await produceCounts()
    // --payload-monotonic: record i carries the text of i, so every record is identifiable.
    // One request in flight per connection: with more, a fault injected into the FIRST batch of a
    // partition lets the next batch (sent meanwhile) be the first the broker writes — a broker
    // with no state for the producer id accepts any first sequence — and the refused batch is
    // then retried against OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout (KAFKA-14359;
    // seen with Kafka 4.3.1 in about half the runs with the default of 5: every retry of a
    // partition's first batch got OUT_OF_ORDER_SEQUENCE_NUMBER from the broker for 120 s, and
    // those records, never acknowledged, expired).
    const r = await cluster.runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
      '--topic', topics.java, '--num-records', String(N), '--throughput', '-1', '--payload-monotonic',
      '--producer-props', `bootstrap.servers=${kproxy.bootstrap}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5', 'max.in.flight.requests.per.connection=1'
    ], { timeoutMs: 240_000 })
    t.equal(r.code, 0, r.code === 0 ? 'ProducerPerformance exits 0' : `ProducerPerformance exit (timed out: ${String(r.timedOut)}): ${r.stderr.slice(-2000)}`)
    const summary = r.stdout.trim().split('\n').find(l => l.startsWith(`${N} records sent`))
    t.ok(summary !== undefined, summary !== undefined ? `a summary line for ${N} records` : r.stdout.slice(-500))
    t.comment(`the producer logged ${(r.stderr.match(/Error: NOT_LEADER_OR_FOLLOWER/g) ?? []).length} NOT_LEADER_OR_FOLLOWER and ${(r.stderr.match(/Error: OUT_OF_ORDER_SEQUENCE_NUMBER/g) ?? []).length} OUT_OF_ORDER_SEQUENCE_NUMBER retries (the broker's answer to a later batch whose predecessor was refused by kproxy)`)
    const after = await produceCounts()
    t.comment(`ProducerPerformance through kproxy: ${summary ?? '?'}`)
    t.comment(faultShare(before, after))
    t.ok(after.injected - before.injected > 0, 'faults were injected into this producer\'s requests')
    t.equal(await endOffsetsSum(topics.java), N, 'the log holds exactly N records')
    const readAt = Date.now()
    const got = await kcatGroupRead(kproxy.bootstrap, topics.java, `g-${topics.java}`)
    t.comment(`kcat group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    const expected = Array.from({ length: N }, (_, i) => String(i))
    t.same(tally(got, expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('kafkajs (idempotent, acks -1, more retries; one partition per send) -> kcat consumer group', async t => {
    const before = await produceCounts()
    // kafkajs gives up a send after 5 retries by default; at 30% faults per request a run of six
    // in a row is likely over a few hundred requests, so the client is told to retry longer (a
    // client setting, as an application facing such errors would choose).
    //
    // Each send() carries the records of ONE partition. kafkajs 2.2.4 duplicates records when a
    // send spans several leaders and one of them answers with a retriable error while another's
    // request is still in flight: Promise.all rejects at once, the retry finds the other leader
    // still without an answer and sends its records again under the next sequence numbers (its
    // sequence was advanced before the first request went out), so the broker's idempotence
    // cannot drop them (producer/sendMessages.js). Seen here with sends over all 3 partitions:
    // 333 to 1648 duplicates per run, each pair in consecutive batches of the same producer id
    // with different base sequences (DumpLogSegments) — sent twice by the client, not replayed by
    // kproxy, which forwards a Produce request's bytes unchanged. The Java producer above has no
    // such race.
    const kafka = new Kafka({ clientId: 'faults-kafkajs', brokers: [kproxy.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 1000 } })
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const expected = Array.from({ length: N }, (_, i) => `kafkajs-${i}`)
    const started = Date.now()
    const perSend = 1000
    for (let i = 0; i < N; i += perSend) {
      const partition = (i / perSend) % 3
      await producer.send({ topic: topics.kafkajs, acks: -1, messages: expected.slice(i, i + perSend).map((value, j) => ({ key: String(i + j), value, partition })) })
    }
    const after = await produceCounts()
    t.comment(`kafkajs produced ${N} records through kproxy: ${perSecond(N, Date.now() - started)}`)
    t.comment(faultShare(before, after))
    t.ok(after.injected - before.injected > 0, 'faults were injected into this producer\'s requests')
    t.equal(await endOffsetsSum(topics.kafkajs), N, 'the log holds exactly N records')
    const readAt = Date.now()
    const got = await kcatGroupRead(kproxy.bootstrap, topics.kafkajs, `g-${topics.kafkajs}`)
    t.comment(`kcat group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    t.same(tally(got, expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('/metrics: the injected errors, as the filter\'s events and as kproxy\'s response errors', async t => {
    const m = await kproxy.metrics()
    const injected = metricSum(m, 'kproxy_filter_events_total', EVENT)
    const answered = metricSum(m, 'kproxy_response_errors_total', `api="produce",code="${NOT_LEADER_OR_FOLLOWER}"`)
    const requests = metricSum(m, 'kproxy_requests_total', 'api="produce"')
    t.comment(`kproxy_filter_events_total{${EVENT}} ${injected}; kproxy_response_errors_total{api="produce",code="6"} ${answered}; Produce requests ${requests}`)
    t.ok(injected > 0, 'kproxy_filter_events_total counts the injected errors')
    t.equal(answered, injected, 'kproxy_response_errors_total{api="produce",error NOT_LEADER_OR_FOLLOWER} counts each of them')
    t.match(m, /kproxy_response_errors_total\{api="produce",code="6",error="NOT_LEADER_OR_FOLLOWER"\} \d+/, 'labelled with the error name')
    // The producers batch well, so there are only a few dozen Produce requests (42 in one CI run):
    // the fixed 15-45% window this test had fails by chance alone in 4.2% of runs at 42 requests.
    // The number injected is binomial; 4 standard deviations around PERCENT% fail by chance in
    // 0.007% of runs at 42, and still refuse a filter injecting into none or all of them.
    const p = PERCENT / 100
    const expected = requests * p
    const margin = 4 * Math.sqrt(requests * p * (1 - p))
    t.ok(requests >= 30, `enough Produce requests to judge the share: ${requests}`)
    t.ok(Math.abs(injected - expected) <= margin, `about ${PERCENT}% of all Produce requests: ${injected} of ${requests} (${(100 * injected / requests).toFixed(1)}%), expected ${expected.toFixed(1)} ± ${margin.toFixed(1)}`)
    t.same(kproxy.logs.filter(l => typeof l.level === 'number' && l.level >= 50), [], 'no error logs')
  })
})
