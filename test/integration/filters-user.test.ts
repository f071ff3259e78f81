// Issue 8 acceptance: a user filter loaded from a path (test/fixtures/filters/deny-topic.ts, the
// example of docs/filters.md) through `kproxy serve --workers 2 --config FILE` in front of a real
// 3-node cluster. kcat (librdkafka) and Kafka's Java console producer are refused Produce to the
// denied topic with TOPIC_AUTHORIZATION_FAILED and produce to another topic as usual; the
// filter's counters in /metrics match what kproxy itself counted. A filter that is broken
// (test/fixtures/filters/misbehave-on-topic.ts: throws, rejects, returns junk, never settles) fails
// only the request it broke, as docs/filters.md says, while another client produces and consumes
// through the same kproxy without an error and no worker restarts. And the three ways a filter
// entry can be wrong stop `check-config` and `serve` with one sentence naming the file, the key
// and the filter.
import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import type { Cluster, ProcessResult, TeardownHost } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics, tally } from '../helpers/e2e-records.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { eventually } from '../helpers/eventually.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))
const FIXTURE = fileURLToPath(new URL('../fixtures/filters/deny-topic.ts', import.meta.url))
const MISBEHAVING = fileURLToPath(new URL('../fixtures/filters/misbehave-on-topic.ts', import.meta.url))

// One 3-node cluster for the tests of this file that need one, stopped when the file ends.
let cluster3: Promise<Cluster> | null = null
function sharedCluster (): Promise<Cluster> {
  return (cluster3 ??= kafkaCluster(t, { brokers: 3 }))
}

function kproxyCli (args: readonly string[], timeoutMs = 30_000): Promise<ProcessResult> {
  return new Promise(resolve => {
    execFile(KPROXY, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

function tempDir (t: TeardownHost): string {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-filters-user-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('a filter module from the config file: kcat and the Java console producer through kproxy serve --workers 2', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await sharedCluster()
  const unique = Date.now()
  const denied = `payments-${unique}`
  const open = `orders-${unique}`
  const dir = tempDir(t)
  const configFile = join(dir, 'kproxy.yaml')
  // plaintext clients have no certificate: their principal is ANONYMOUS
  writeFileSync(configFile, [
    'brokerMode:',
    `  upstream: ${cluster.bootstrap}`,
    '  filters:',
    `    - module: ${FIXTURE}`,
    '      config:',
    `        topic: ${denied}`,
    '        principal: ANONYMOUS',
    ''
  ].join('\n'))

  const checked = await kproxyCli(['check-config', configFile])
  t.equal(checked.code, 0, `check-config accepts it: ${checked.stderr}`)
  t.match(checked.stdout, /filters .*deny-topic\.ts/, 'and names the filter in its summary')

  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', configFile] })
  const direct = new Kafka({ clientId: 'setup', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING })
  const admin = direct.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  await createDurableTopics(admin, [denied, open], 3)

  // Everything a topic holds, read directly from the cluster (not through kproxy).
  async function stored (t: Test, topic: string): Promise<string[]> {
    const r = await kcat(['-C', '-b', cluster.bootstrap, '-t', topic, '-e', '-q', '-f', '%s\n'], { timeoutMs: 30_000 })
    t.equal(r.code, 0, `kcat -C ${topic} on the cluster: ${r.stderr}`)
    return r.stdout.split('\n').filter(Boolean)
  }

  t.test('kcat: produce to the denied topic fails with "Topic authorization failed"', async t => {
    const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', denied, '-X', 'acks=all'], { input: 'kcat-denied-1\nkcat-denied-2\n', timeoutMs: 30_000 })
    t.comment(`kcat exit ${String(r.code)}; stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
    t.match(r.stderr, /Topic authorization failed/, 'librdkafka reports the Kafka error (TOPIC_AUTHORIZATION_FAILED)')
    t.not(r.code, 0, 'and kcat exits non-zero')
  })

  t.test('kcat: produce to another topic works', async t => {
    const values = Array.from({ length: 500 }, (_, i) => `kcat-open-${i}`)
    const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', open, '-X', 'acks=all'], { input: values.join('\n') + '\n', timeoutMs: 30_000 })
    t.equal(r.code, 0, r.stderr)
    t.same(tally((await stored(t, open)).filter(v => v.startsWith('kcat-')), values), { count: 500, missing: 0, duplicates: 0, unexpected: 0, examples: [] })
  })

  t.test('Java console producer: produce to the denied topic fails with TopicAuthorizationException', async t => {
    const r = await cluster.runKafkaTool('org.apache.kafka.tools.ConsoleProducer', [
      '--bootstrap-server', kproxy.bootstrap, '--topic', denied, '--producer-property', 'acks=all'
    ], { input: 'java-denied-1\njava-denied-2\n', timeoutMs: 60_000 })
    const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter(l => /Authoriz/.test(l))
    t.comment(`ConsoleProducer exit ${String(r.code)}; ${lines.slice(0, 2).join(' | ')}`)
    t.match(r.stderr, new RegExp(`TopicAuthorizationException: Not authorized to access topics: \\[${denied}\\]`), 'the Java client reports TOPIC_AUTHORIZATION_FAILED for the topic')
    t.notOk(r.timedOut, 'and does not hang')
  })

  t.test('Java console producer: produce to another topic works', async t => {
    const values = Array.from({ length: 500 }, (_, i) => `java-open-${i}`)
    const r = await cluster.runKafkaTool('org.apache.kafka.tools.ConsoleProducer', [
      '--bootstrap-server', kproxy.bootstrap, '--topic', open, '--producer-property', 'acks=all'
    ], { input: values.join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(r.code, 0, r.stderr.slice(-2000))
    t.same(tally((await stored(t, open)).filter(v => v.startsWith('java-')), values), { count: 500, missing: 0, duplicates: 0, unexpected: 0, examples: [] })
  })

  t.test('nothing reached the denied topic; /metrics counts match the filter\'s log and kproxy\'s own counts', async t => {
    t.same(await stored(t, denied), [], 'the denied topic is empty on the cluster')
    const m = await kproxy.metrics()
    const deniedCount = metricSum(m, 'kproxy_filter_events_total', 'filter="denyTopic",event="denied"')
    const passedCount = metricSum(m, 'kproxy_filter_events_total', 'filter="denyTopic",event="passed"')
    const produces = metricSum(m, 'kproxy_requests_total', 'api="produce"')
    const deniedLogs = kproxy.logs.filter(l => l.msg === 'produce denied' && l.filter === 'denyTopic' && l.topic === denied)
    t.comment(`denyTopic: denied ${deniedCount}, passed ${passedCount}; kproxy saw ${produces} Produce requests; ${deniedLogs.length} 'produce denied' log lines`)
    t.ok(deniedCount >= 2, 'at least one denied Produce per client')
    t.equal(deniedCount, deniedLogs.length, 'one log line per denied request')
    t.ok(passedCount >= 2, 'at least one passed Produce per client')
    t.equal(deniedCount + passedCount, produces, 'every Produce kproxy read passed the filter once: denied + passed = kproxy_requests_total{api="produce"}')
    t.equal(metricSum(m, 'kproxy_response_errors_total', 'api="produce",code="29"'), deniedCount, 'each denial in kproxy_response_errors_total as TOPIC_AUTHORIZATION_FAILED')
    const versions = [...m.matchAll(/^kproxy_requests_total\{api="produce",api_key="0",version="(\d+)"\} (\d+)$/gm)].map(x => `v${x[1]}: ${x[2]}`)
    t.comment(`Produce requests by version: ${versions.join(', ')}`)
    t.equal(metricSum(m, 'kproxy_requests_total', 'api="produce",api_key="0",version="13"'), 0, 'no client sent Produce v13 (topic ids): the filter advertises at most v12')
    const workers = new Set(deniedLogs.map(l => l.worker))
    t.comment(`denials logged by worker(s) ${[...workers].join(', ')}`)
    t.same(kproxy.logs.filter(l => l.code === 'KPROXY_ERR_FILTER_FAILED'), [], 'the filter never failed')
  })
})

// What a kafkajs call failed with: the Kafka error type of the first error in its cause chain
// that has one (UNKNOWN is UNKNOWN_SERVER_ERROR), else that chain's first error class.
function kafkajsFailure (err: unknown): string {
  const seen: string[] = []
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.shift() as { name?: string, type?: string, cause?: unknown, errors?: unknown[], originalError?: unknown } | null
    if (e === null || typeof e !== 'object') continue
    if (typeof e.type === 'string') return e.type
    if (typeof e.name === 'string') seen.push(e.name)
    queue.push(e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : []))
  }
  return seen.at(-1) ?? String(err)
}

// A filter that is broken on some topics through `kproxy serve --workers 2`: each way of failing
// gets the error docs/filters.md promises for that request only, on a connection that stays usable
// until the filter's third failure on it, while another client produces and consumes without a
// single error, and no worker restarts.
t.test('a filter that throws, rejects, returns junk or never settles fails only that request: another client carries on, no worker restarts', async t => {
  const cluster = await sharedCluster()
  const unique = Date.now()
  const topics = {
    throw: `boom-${unique}`,
    reject: `reject-${unique}`,
    junk: `junk-${unique}`,
    badFrames: `frames-${unique}`,
    stall: `stall-${unique}`
  }
  const plain = `plain-${unique}`
  const steady = `steady-${unique}`
  const HOLD_MS = 1500
  const dir = tempDir(t)
  const configFile = join(dir, 'kproxy.yaml')
  writeFileSync(configFile, [
    'brokerMode:',
    `  upstream: ${cluster.bootstrap}`,
    `  filterHoldTimeoutMs: ${HOLD_MS}`,
    '  filters:',
    `    - module: ${MISBEHAVING}`,
    '      name: misbehaving',
    '      config:',
    '        topics:',
    ...Object.entries(topics).map(([way, topic]) => `          ${topic}: ${way}`),
    ''
  ].join('\n'))

  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', configFile] })
  const direct = new Kafka({ clientId: 'setup', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING })
  const admin = direct.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  // one partition each, all led by one broker: a client's Produce requests to the broken topics
  // all go on one connection (to that broker), where the filter's failures add up
  const ids = cluster.info.brokers.map(b => b.id)
  await createTopicsAndWait(admin, Object.values(topics).map(topic => ({
    topic,
    replicaAssignment: [{ partition: 0, replicas: ids }],
    configEntries: [{ name: 'min.insync.replicas', value: '2' }]
  })))
  await createDurableTopics(admin, [plain], 1)
  await createDurableTopics(admin, [steady], 3)

  // kafkajs through kproxy, with no retries: every error a request gets reaches the test
  const viaKproxy = (clientId: string, retries = 0): Kafka => new Kafka({ clientId, brokers: [kproxy.bootstrap], logLevel: logLevel.NOTHING, retry: { retries } })
  async function producerOnItsOwnConnections (t: Test, clientId: string) {
    const producer = viaKproxy(clientId).producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    return producer
  }

  // The other client: its own connections, producing to and consuming from `steady` the whole time.
  // (the consumer keeps kafkajs's retries: the cluster's first group waits for __consumer_offsets)
  const steadyProducer = viaKproxy('steady').producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } })
  const steadyConsumer = viaKproxy('steady', 5).consumer({ groupId: `steady-${unique}`, maxWaitTimeInMs: 200 })
  await steadyProducer.connect()
  t.teardown(() => steadyProducer.disconnect())
  await steadyConsumer.connect()
  t.teardown(() => steadyConsumer.disconnect())
  const consumed: string[] = []
  const steadyErrors: string[] = []
  await steadyConsumer.subscribe({ topics: [steady], fromBeginning: true })
  // errors count once the consumer has joined its group: the cluster's first group may first
  // meet COORDINATOR_LOAD_IN_PROGRESS, before any filter has failed
  let joined = false
  steadyConsumer.on(steadyConsumer.events.GROUP_JOIN, () => { joined = true })
  steadyConsumer.on(steadyConsumer.events.CRASH, e => {
    if (joined) steadyErrors.push(`consumer crashed: ${String(e.payload.error)}`)
    else t.comment(`steady consumer, before joining its group: ${String(e.payload.error)} (restart: ${String(e.payload.restart)})`)
  })
  await steadyConsumer.run({ eachMessage: async ({ message }) => { consumed.push(message.value!.toString()) } })
  let sent = 0
  let stopSteady = false
  const steadyLoop = (async () => {
    while (!stopSteady) {
      const batch = Array.from({ length: 10 }, (_, i) => ({ value: `steady-${sent + i}` }))
      try {
        await steadyProducer.send({ topic: steady, acks: -1, messages: batch })
        sent += batch.length
      } catch (err) {
        steadyErrors.push(`produce: ${kafkajsFailure(err)}: ${(err as Error).message}`)
        return
      }
      await sleep(20)
    }
  })()
  t.teardown(async () => { stopSteady = true; await steadyLoop })
  t.ok(await eventually(() => sent > 0 && joined && consumed.length > 0, 60_000, 50), 'the steady client produces and consumes before the broken filter is hit')

  // kproxy's log lines come from its worker threads through a pipe: they may trail the answers
  async function logsSince (from: number, code: string, count: number): Promise<Array<Record<string, unknown>>> {
    const matching = (): Array<Record<string, unknown>> => kproxy.logs.slice(from).filter(l => l.code === code)
    await eventually(() => matching().length >= count, 15_000, 50)
    await sleep(200) // and no more than that
    return matching()
  }

  // One way of failing, on a producer of its own: the documented error for that request, a
  // coded log line naming the filter, and the same connection still produces to another topic.
  async function failsOnce (t: Test, way: keyof typeof topics, expected: string, code: string, logged: RegExp) {
    const producer = await producerOnItsOwnConnections(t, `kafkajs-${way}`)
    const logsBefore = kproxy.logs.length
    const started = Date.now()
    const err = await producer.send({ topic: topics[way], acks: -1, messages: [{ value: `${way}-1` }] }).then(() => null, (e: unknown) => e)
    const tookMs = Date.now() - started
    t.comment(`kafkajs, ${way}: ${err === null ? 'no error' : `${kafkajsFailure(err)} (${(err as Error).message})`} after ${tookMs} ms`)
    t.equal(err === null ? 'no error' : kafkajsFailure(err), expected, `kafkajs gets ${expected}`)
    const steadyAtFailure = sent
    const consumedAtFailure = consumed.length
    const lines = await logsSince(logsBefore, code, 1)
    t.equal(lines.length, 1, `one ${code} log line`)
    t.equal(lines[0]?.filter, 'misbehaving', 'naming the filter')
    t.match(String(lines[0]?.msg), logged)
    t.same(kproxy.logs.slice(logsBefore).filter(l => l.code === 'KPROXY_ERR_FILTER_FAILING'), [], 'the connection is not closed for one failure')
    await producer.send({ topic: plain, acks: -1, messages: [{ value: `${way}-after` }] })
    t.pass('the same producer then produces to another topic')
    t.ok(await eventually(() => sent >= steadyAtFailure + 30, 15_000, 50), `the steady client went on producing (${sent - steadyAtFailure} more records since)`)
    t.ok(await eventually(() => consumed.length >= consumedAtFailure + 30, 15_000, 50), `and consuming (${consumed.length - consumedAtFailure} more records since)`)
    t.same(steadyErrors, [], 'without an error')
    return tookMs
  }

  t.test('throws: UNKNOWN_SERVER_ERROR, KPROXY_ERR_FILTER_FAILED', async t => {
    await failsOnce(t, 'throw', 'UNKNOWN', 'KPROXY_ERR_FILTER_FAILED', /^filter misbehaving failed in onRequest: boom$/)
  })
  t.test('rejects: UNKNOWN_SERVER_ERROR, KPROXY_ERR_FILTER_FAILED', async t => {
    await failsOnce(t, 'reject', 'UNKNOWN', 'KPROXY_ERR_FILTER_FAILED', /^filter misbehaving failed in onRequest: async boom$/)
  })
  t.test('returns something that is not an action: UNKNOWN_SERVER_ERROR, KPROXY_ERR_FILTER_FAILED', async t => {
    await failsOnce(t, 'junk', 'UNKNOWN', 'KPROXY_ERR_FILTER_FAILED', /^filter misbehaving failed in onRequest: returned .*which is not a request action/)
  })
  t.test('answers with bytes that are not a response: never written; UNKNOWN_SERVER_ERROR, KPROXY_ERR_FILTER_FAILED', async t => {
    await failsOnce(t, 'badFrames', 'UNKNOWN', 'KPROXY_ERR_FILTER_FAILED', /^filter misbehaving failed in onRequest: returned response frames that /)
  })
  t.test(`never settles: REQUEST_TIMED_OUT after filterHoldTimeoutMs (${HOLD_MS} ms), KPROXY_ERR_FILTER_TIMEOUT`, async t => {
    const tookMs = await failsOnce(t, 'stall', 'REQUEST_TIMED_OUT', 'KPROXY_ERR_FILTER_TIMEOUT', new RegExp(`^filter misbehaving held a Produce request for more than ${HOLD_MS} ms; answered with REQUEST_TIMED_OUT$`))
    t.ok(tookMs >= HOLD_MS - 50 && tookMs < HOLD_MS + 5_000, `answered at the hold deadline (${tookMs} ms)`)
  })

  t.test('kcat (librdkafka): a Produce the filter throws on is refused with the Kafka error', async t => {
    const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', topics.throw, '-X', 'acks=all', '-X', 'message.send.max.retries=0'], { input: 'kcat-1\n', timeoutMs: 30_000 })
    t.comment(`kcat exit ${String(r.code)}; stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
    t.match(r.stderr, /Unknown broker error/, 'librdkafka reports UNKNOWN_SERVER_ERROR (-1)')
    t.not(r.code, 0, 'and kcat exits non-zero')
  })

  t.test(`the filter's third failure on one connection, of whatever kind, closes that connection; a new connection counts from zero`, async t => {
    const producer = await producerOnItsOwnConnections(t, 'kafkajs-three-strikes')
    const logsBefore = kproxy.logs.length
    const ways = ['throw', 'stall', 'junk', 'throw'] as const
    const got: string[] = []
    for (const [i, way] of ways.entries()) {
      const started = Date.now()
      const err = await producer.send({ topic: topics[way], acks: -1, messages: [{ value: `strike-${i}` }] }).then(() => null, (e: unknown) => e)
      got.push(err === null ? 'no error' : kafkajsFailure(err))
      t.comment(`send ${i + 1} (${way}): ${got.at(-1)!} after ${Date.now() - started} ms`)
    }
    t.comment(`kafkajs, sends that make the filter ${ways.join(', ')}: ${got.join(', ')}`)
    t.same(got.slice(0, 2), ['UNKNOWN', 'REQUEST_TIMED_OUT'], 'the first two failures (a throw, a hold past the deadline) are answered')
    t.match(got[2], /^KafkaJSConnection(Closed)?Error$/, 'the third is not answered: kproxy closes the connection')
    t.equal(got[3], 'UNKNOWN', 'the client reconnects, and the filter\'s failure on the new connection is answered again')
    const closes = await logsSince(logsBefore, 'KPROXY_ERR_FILTER_FAILING', 1)
    t.equal(closes.length, 1, 'one connection closed with KPROXY_ERR_FILTER_FAILING')
    t.equal(closes[0]?.reason, 'filter misbehaving failed 3 times on this connection', 'the reason names the filter')
    const failures = await logsSince(logsBefore, 'KPROXY_ERR_FILTER_FAILED', 3)
    t.same(failures.map(l => l.filter), ['misbehaving', 'misbehaving', 'misbehaving'], 'the throws and the junk logged, naming the filter')
    t.equal((await logsSince(logsBefore, 'KPROXY_ERR_FILTER_TIMEOUT', 1)).length, 1, 'the hold past the deadline logged')
    await producer.send({ topic: plain, acks: -1, messages: [{ value: 'after-three-strikes' }] })
    t.pass('the same producer then produces to another topic')
  })

  t.test('the steady client: no error, every record stored once and consumed once; no worker restarted', async t => {
    stopSteady = true
    await steadyLoop
    t.same(steadyErrors, [], 'no produce or consume error while the filter failed')
    const offsets = await admin.fetchTopicOffsets(steady)
    const stored = offsets.reduce((n, p) => n + Number(p.high), 0)
    t.comment(`steady: ${sent} records sent, end offsets ${offsets.map(p => `${p.partition}:${p.high}`).join(' ')}`)
    t.ok(sent >= 500, `the steady client kept producing (${sent} records)`)
    t.equal(stored, sent, 'the end offsets on the cluster add up to exactly the records sent')
    await eventually(() => consumed.length >= sent, 60_000, 50)
    await sleep(500) // anything more would be a duplicate
    t.same(tally(consumed, Array.from({ length: sent }, (_, i) => `steady-${i}`)), { count: sent, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'consumed through kproxy exactly once')
    const failedOn = new Set(kproxy.logs.filter(l => typeof l.code === 'string' && l.code.startsWith('KPROXY_ERR_FILTER_')).map(l => l.worker))
    t.comment(`the filter failed on worker(s) ${[...failedOn].join(', ')}`)
    const m = await kproxy.metrics()
    t.equal(metricSum(m, 'kproxy_worker_restarts_total'), 0, 'kproxy_worker_restarts_total is 0')
    t.equal(metricSum(m, 'kproxy_workers'), 2, 'both workers answer /metrics')
    t.same(kproxy.logs.filter(l => l.code === 'KPROXY_ERR_WORKER_EXIT' || l.code === 'KPROXY_ERR_INTERNAL'), [], 'no worker exited, no internal error')
    t.equal(kproxy.child.exitCode, null, 'kproxy serve still runs')
    // every failure was answered with its error but the one that closed a connection
    const failed = kproxy.logs.filter(l => l.code === 'KPROXY_ERR_FILTER_FAILED').length
    const timedOut = kproxy.logs.filter(l => l.code === 'KPROXY_ERR_FILTER_TIMEOUT').length
    t.comment(`the filter failed ${failed} times and held past the deadline ${timedOut} times`)
    t.equal(metricSum(m, 'kproxy_response_errors_total', 'api="produce",code="-1"'), failed - 1, 'kproxy_response_errors_total: one UNKNOWN_SERVER_ERROR per failure, less the one that closed the connection')
    t.equal(metricSum(m, 'kproxy_response_errors_total', 'api="produce",code="7"'), timedOut, 'and one REQUEST_TIMED_OUT per hold past the deadline')
    for (const topic of Object.values(topics)) {
      t.same((await admin.fetchTopicOffsets(topic)).map(p => p.high), ['0'], `nothing reached ${topic}`)
    }
  })
})

t.test('a filter entry that cannot be used: check-config and serve exit 1 with one sentence naming the file, the key and the filter', async t => {
  const dir = tempDir(t)
  const notAFilter = join(dir, 'not-a-filter.ts')
  writeFileSync(notAFilter, 'export const threshold = 3\n')
  const cases = [
    {
      what: 'a module path that does not exist',
      entry: ['    - module: ./filters/missing.ts', '      name: denyPayments', '      config: { topic: payments, principal: ANONYMOUS }'],
      sentence: (file: string) => `${file}: brokerMode.filters[0].module: cannot load the module ${join(dir, 'filters/missing.ts')} of filter denyPayments: the file does not exist`,
      code: 'KPROXY_ERR_FILTER_MODULE'
    },
    {
      what: 'a module that exports no filter',
      entry: ['    - module: ./not-a-filter.ts', '      name: denyPayments'],
      sentence: (file: string) => `${file}: brokerMode.filters[0].module: the module ${notAFilter} of filter denyPayments does not export a filter: its default export (or export \`filter\`) must be an object with a name and create(config, env), and optionally parseConfig(config)`,
      code: 'KPROXY_ERR_FILTER_MODULE'
    },
    {
      what: 'a config the filter refuses',
      entry: [`    - module: ${FIXTURE}`, '      config: { topic: payments }'],
      sentence: (file: string) => `${file}: brokerMode.filters[0].config: filter denyTopic refuses its config: principal: allowed: a principal, e.g. User:alice or ANONYMOUS`,
      code: 'KPROXY_ERR_FILTER_CONFIG'
    }
  ]
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `case-${i}.yaml`)
    writeFileSync(file, ['brokerMode:', '  upstream: 127.0.0.1:9', '  filters:', ...c.entry, ''].join('\n'))
    const check = await kproxyCli(['check-config', file])
    t.equal(check.code, 1, `check-config, ${c.what}: exit 1`)
    t.equal(check.stderr, `${c.sentence(file)}\n`, `check-config, ${c.what}: the one sentence`)
    t.equal(check.stdout, '')
    // serve stops before it listens or dials (the upstream is a closed port)
    const serve = await kproxyCli(['serve', '--config', file, '--listen', '127.0.0.1:1'])
    t.equal(serve.code, 1, `serve, ${c.what}: exit 1`)
    t.equal(serve.stderr, `kproxy: ${c.sentence(file)} [${c.code}]\n`, `serve, ${c.what}: the same sentence with its code`)
  }
})
