// Issue 3 acceptance: one broker is killed (SIGKILL) mid-stream while an idempotent producer
// (Kafka's ProducerPerformance, throughput-limited) and a kafkajs consumer group run through
// `kproxy serve --workers 2`; both carry on to the new leaders, and afterwards every acknowledged
// record is in the log exactly once and was consumed. A real 3-node cluster; replication factor
// 3, min.insync.replicas 2. (kafkajs 2.2.4's idempotent producer was tried first: after the kill
// every later send failed with OUT_OF_ORDER_SEQUENCE_NUMBER — just as often directly against
// the brokers, so a client limitation, not kproxy's.)
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { hasKcat, kafkaCluster, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics, tally, waitFor } from '../helpers/e2e-records.ts'

const PARTITIONS = 6
// records per second the producer is limited to, and how many it sends (about 18 s worth)
const RATE = 3000
const N = RATE * 18

// Bounds a step that has no timeout of its own (kafkajs disconnects, a broker restart).
async function within<T> (what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

// Where a slow recovery comes from, in kproxy's own log: how soon the connections open to the
// killed broker were closed, and how many new connections to its port kproxy accepted and then
// dropped because the broker refused (kafkajs 2.2.4 keeps retrying a dead group coordinator that
// way — measured up to 67 s — where a refused connect would make it look up the new one).
function deadBrokerSummary (logs: ReadonlyArray<Record<string, unknown>>, victim: number, killedAt: number): string {
  const target = `broker-${victim}`
  const after = logs.filter(l => l.target === target && typeof l.time === 'number' && l.time >= killedAt)
  const at = (l: Record<string, unknown>): number => (l.time as number) - killedAt
  const died = after.filter(l => l.code === 'KPROXY_ERR_UPSTREAM_SOCKET' || l.code === 'KPROXY_ERR_UPSTREAM_CLOSED')
  const dropped = after.filter(l => l.code === 'KPROXY_ERR_UPSTREAM_CONNECT')
  const span = (xs: typeof after): string => xs.length === 0 ? '-' : `${at(xs[0]!)}..${at(xs[xs.length - 1]!)} ms after the kill`
  return `${died.length} open connection(s) closed because the broker went away (${span(died)}); ${dropped.length} new connection(s) to its port accepted and dropped as the broker refused (${span(dropped)})`
}

t.test('a broker killed mid-stream: producer and consumer carry on through kproxy', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const testStarted = Date.now()
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2 })
  const kafka = new Kafka({
    clientId: 'e2e-failover',
    brokers: [kproxy.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 2000 }
  })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => within('admin.disconnect', admin.disconnect(), 15_000).catch(() => {}))
  const topic = `e2e-failover-${Date.now()}`
  await createDurableTopics(admin, [topic], PARTITIONS)
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  const leaders = new Map(md.topics[0]!.partitions.map(p => [p.partitionId, p.leader]))
  // the broker leading partition 0 (and whatever else it leads) goes down
  const victim = leaders.get(0)!
  const moved = [...leaders].filter(([, leader]) => leader === victim).map(([p]) => p)
  t.comment(`leaders ${JSON.stringify([...leaders])}; broker ${victim} (leader of ${moved.join(',')}) will be killed`)

  // Consumer group: commits after each batch; counts every delivery (a redelivery after the
  // coordinator moved would show as a repeat here, while the log check below must be exact).
  const consumed = new Map<string, number>()
  const consumedAt: Array<{ at: number, partition: number, seq: number }> = []
  const consumer = kafka.consumer({ groupId: `g-${topic}`, heartbeatInterval: 500, sessionTimeout: 10_000, maxWaitTimeInMs: 200 })
  let consumerRunning = true
  let consumerCrashes = 0
  consumer.on(consumer.events.CRASH, () => { consumerCrashes++ })
  t.teardown(async () => { if (consumerRunning) await within('consumer.disconnect', consumer.disconnect(), 15_000).catch(() => {}) })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const at = Date.now()
      for (const m of batch.messages) {
        const v = m.value!.toString()
        consumed.set(v, (consumed.get(v) ?? 0) + 1)
        consumedAt.push({ at, partition: batch.partition, seq: Number(v) })
      }
      if (batch.messages.length > 0) {
        await consumer.commitOffsets([{ topic, partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) }])
      }
    }
  })

  // Producer: Kafka's ProducerPerformance, idempotent, acks=all, throughput-limited; record i
  // carries the text of i (--payload-monotonic). A record whose send fails for good is printed
  // with its exception; none may be.
  const perfStarted = Date.now()
  const perf = cluster.runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', topic, '--num-records', String(N), '--throughput', String(RATE), '--payload-monotonic',
    '--reporting-interval', '1000',
    '--producer-props', `bootstrap.servers=${kproxy.bootstrap}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5'
  ], { timeoutMs: 120_000 })

  await waitFor('records flow before the kill', () => consumed.size >= RATE * 4 ? true : undefined, 60_000)
  const seqAtKill = Math.max(...consumedAt.map(c => c.seq))
  const killedAt = Date.now()
  await cluster.killBroker(victim, 'SIGKILL')
  t.comment(`broker ${victim} killed (SIGKILL) ${killedAt - perfStarted} ms after ProducerPerformance started, ${consumed.size} records consumed by then`)
  const r = await perf
  t.equal(r.code, 0, `ProducerPerformance exit (timed out: ${String(r.timedOut)}): ${r.stderr.slice(-2000)}`)
  const sendFailures = r.stderr.split('\n').filter(l => /^org\.apache\.kafka\.\S+Exception/.test(l))
  t.same(sendFailures.slice(0, 5), [], 'no send failed for good')
  const summary = r.stdout.split('\n').find(l => l.startsWith(`${N} records sent`))
  t.ok(summary !== undefined, `every record acknowledged: ${r.stdout.slice(-400)}`)
  const maxLatency = Math.max(0, ...[...r.stdout.matchAll(/([\d.]+) ms max latency/g)].map(m => Number(m[1])))
  t.comment(`producer: ${summary ?? '?'}`)
  t.comment(`producer: longest produce latency ${maxLatency} ms (the stall while leadership moved)`)

  // The consumer catches up with every record.
  t.comment(`${Date.now() - testStarted} ms into the test: producer done, waiting for the consumer`)
  await waitFor(`the consumer has all ${N} records`, () => consumed.size >= N ? true : undefined, 60_000, 200)
  const after = consumedAt.filter(c => c.at >= killedAt && c.seq > seqAtKill && moved.includes(c.partition))
  t.ok(after.length > 0, 'the consumer read new records from the partitions whose leader was killed')
  const onMoved = consumedAt.filter(c => moved.includes(c.partition)).map(c => c.at)
  const gap = onMoved.reduce((g, at, i) => i === 0 ? g : Math.max(g, at - onMoved[i - 1]!), 0)
  const repeats = [...consumed.values()].filter(n => n > 1).length
  t.comment(`consumer: first new record on a moved partition ${after.length > 0 ? after[0]!.at - killedAt : '-'} ms after the kill; longest pause on those partitions ${gap} ms; ${consumed.size} distinct records, ${repeats} delivered more than once, ${consumerCrashes} consumer restarts`)
  t.comment(`kproxy and the dead broker: ${deadBrokerSummary(kproxy.logs, victim, killedAt)}`)
  const expected = Array.from({ length: N }, (_, i) => String(i))
  t.equal(expected.filter(v => !consumed.has(v)).length, 0, 'every acknowledged record was consumed')
  t.equal([...consumed.keys()].filter(v => !/^\d+$/.test(v) || Number(v) >= N).length, 0, 'nothing else was consumed')
  consumerRunning = false
  await within('consumer.disconnect', consumer.disconnect(), 20_000)

  // The log itself, read through kproxy without a group: every record exactly once.
  t.comment(`${Date.now() - testStarted} ms into the test: consumer done, reading the log`)
  const log = await kcat(['-C', '-b', kproxy.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { timeoutMs: 60_000 })
  t.equal(log.code, 0, log.stderr)
  t.same(tally(log.stdout.split('\n').filter(Boolean), expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] },
    'every record is in the log exactly once (idempotent producer through kproxy)')

  // The broker comes back; kproxy serves it again without a restart.
  const restartAt = Date.now()
  t.comment(`${Date.now() - testStarted} ms into the test: restarting broker ${victim}`)
  await within(`restart of broker ${victim}`, cluster.startBroker(victim), 60_000)
  const listed = await waitFor('kcat -L through kproxy lists 3 brokers again', async () => {
    const r = await kcat(['-L', '-b', kproxy.bootstrap, '-m', '5'])
    return r.code === 0 && kcatBrokers(r.stdout).length === 3 ? kcatBrokers(r.stdout) : undefined
  }, 30_000, 500)
  t.same(listed.map(b => b.port), [1, 2, 3].map(id => kproxy.listenPort + 1 + id), 'kproxy ports only')
  t.comment(`broker ${victim} back and listed through kproxy ${Date.now() - restartAt} ms after its restart`)
  // While the broker was dead, a worker whose connect to it was refused stopped listening on its
  // port (clients were refused as by the broker itself); Metadata listing it again reopens it.
  const closedPort = kproxy.logs.filter(l => l.code === 'KPROXY_WARN_BROKER_PORT_CLOSED' && l.nodeId === victim).length
  const victimPort = kproxy.listenPort + 1 + victim
  const reopenedMs = await waitFor(`broker ${victim}'s own port serves again`, async () => {
    await kcat(['-L', '-b', kproxy.bootstrap, '-m', '5'])
    const results = await Promise.all([0, 1, 2, 3].map(() => kcat(['-L', '-b', `127.0.0.1:${victimPort}`, '-m', '5'])))
    return results.every(x => x.code === 0) ? Date.now() - restartAt : undefined
  }, 30_000, 500)
  t.comment(`port ${victimPort} of broker ${victim}: closed by ${closedPort} worker(s) while it was dead; serving every connection again ${reopenedMs} ms after the restart`)
  t.same(kproxy.logs.filter(l => typeof l.level === 'number' && l.level >= 50 && l.code !== 'KPROXY_ERR_UPSTREAM_CONNECT'), [], 'no error logs other than connects to the dead broker')
  t.same(await kproxy.stop(), { code: 0, signal: null }, 'SIGTERM: exit 0')
})
