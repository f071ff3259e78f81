// `kproxy sandbox up --replicas 3`: three kproxy processes behind HAProxy in front of a 3-node
// cluster. Every replica advertises the same (HAProxy's) addresses; one replica is killed with
// SIGKILL while Kafka's VerifiableProducer (idempotent, acks=all) writes and VerifiableConsumer
// (a consumer group) reads through HAProxy: the clients reconnect through the load balancer to
// the other replicas, and every acknowledged record is in the topic exactly once and consumed
// exactly once — counted from the clients' own reports and read back directly from the brokers.
import t from 'tap'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runKafkaTool } from '@kproxy/cli'
import { parseHaproxyStats } from '@kproxy/cli/sandbox/haproxy-config'
import type { ServerStat } from '@kproxy/cli/sandbox/haproxy-config'
import type { ReplicasInfo } from '@kproxy/cli/sandbox/replicas'
import { startJavaClient } from '../helpers/kafka-java-client.ts'
import { javaPidsMentioning, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { sandboxUp } from '../helpers/sandbox-up.ts'
import { watchSandboxFile } from '../helpers/sandbox-file-watch.ts'

const RECORDS = 30_000
const RATE = 1_500 // records/s: the kill lands in the middle of a 20 s run
const TOPIC = 'replica-kill'

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-sandbox-replicas-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

async function stats (info: ReplicasInfo): Promise<ServerStat[]> {
  const res = await fetch(`${info.loadBalancer.statsUrl};csv`)
  return parseHaproxyStats(await res.text()).filter(s => s.server.startsWith('replica-'))
}

async function until (what: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (what()) return true
    await sleep(100)
  }
  return what()
}

// Produce requests a replica has relayed, from its own /metrics.
async function produceRequests (adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text()
  let n = 0
  for (const m of text.matchAll(/^kproxy_requests_total\{[^}]*api="produce"[^}]*\} (\d+)/gm)) n += Number(m[1])
  return n
}

function values (events: Array<Record<string, unknown>>, name: string): string[] {
  return events.filter(e => e.name === name).map(e => String(e.value))
}

function duplicates (list: readonly string[]): number {
  return list.length - new Set(list).size
}

t.test('three replicas behind HAProxy: same addresses everywhere; a replica killed under load loses and duplicates nothing', async t => {
  const dir = join(scratch, 'replicas')
  const watch = watchSandboxFile(dir)
  const run = await sandboxUp<ReplicasInfo>(['--replicas', '3', '--dir', dir])
  t.teardown(() => { run.child.kill('SIGKILL') })
  t.comment(`3 brokers, 3 replicas and HAProxy ready in ${run.readyMs} ms`)
  const seen = await watch.stop()
  t.equal(seen.partial.length, 0, 'a watcher never read a partial sandbox.json')
  t.equal(seen.versions.length, 1, 'sandbox.json appeared once, complete')
  t.same(JSON.parse(seen.versions[0]!), run.info, 'and it is what was printed')

  const { info } = run
  t.equal(info.topology, 'replicas')
  t.same(info.brokers.map(b => b.id), [1, 2, 3], 'three brokers by default')
  t.equal(info.replicas.length, 3)
  t.equal(info.clientBootstrap, info.loadBalancer.bootstrap)

  // Every replica, asked directly, and HAProxy give the same broker list: HAProxy's ports.
  const expected = info.brokers.map(b => ({ id: b.id, host: '127.0.0.1', port: info.loadBalancer.brokerPorts[String(b.id)]! }))
  for (const bootstrap of [info.clientBootstrap, ...info.replicas.map(r => r.listen)]) {
    const meta = await kcat(['-L', '-b', bootstrap, '-m', '10'])
    t.equal(meta.code, 0, meta.stderr)
    t.same(kcatBrokers(meta.stdout), expected, `${bootstrap} advertises HAProxy's addresses`)
  }

  const created = await runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', info.bootstrap, '--create', '--topic', TOPIC,
    '--partitions', '3', '--replication-factor', '3', '--config', 'min.insync.replicas=2'])
  t.equal(created.code, 0, created.stderr)

  const producerConfig = join(scratch, 'producer.properties')
  writeFileSync(producerConfig, [
    // VerifiableProducer sets retries=0 unless told otherwise, which idempotence refuses
    'enable.idempotence=true', 'acks=all', 'retries=2147483647', 'max.in.flight.requests.per.connection=5',
    'delivery.timeout.ms=120000', 'request.timeout.ms=15000', 'linger.ms=5', 'reconnect.backoff.max.ms=1000'
  ].join('\n') + '\n')
  const consumerConfig = join(scratch, 'consumer.properties')
  writeFileSync(consumerConfig, 'reconnect.backoff.max.ms=1000\n')

  // Kafka's clients say at INFO when a connection is lost and which in-flight requests it took.
  const log4j = join(scratch, 'clients-log4j2.properties')
  writeFileSync(log4j, [
    'status = error', 'appender.err.type = Console', 'appender.err.name = STDERR', 'appender.err.target = SYSTEM_ERR',
    'appender.err.layout.type = PatternLayout', 'appender.err.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = WARN', 'rootLogger.appenderRef.err.ref = STDERR',
    'logger.net.name = org.apache.kafka.clients.NetworkClient', 'logger.net.level = INFO'
  ].join('\n') + '\n')
  const consumer = await startJavaClient('org.apache.kafka.tools.VerifiableConsumer', ['--bootstrap-server', info.clientBootstrap,
    '--topic', TOPIC, '--group-id', 'replica-kill-group', '--reset-policy', 'earliest', '--verbose', '--command-config', consumerConfig], { log4jFile: log4j })
  t.teardown(() => { consumer.child.kill('SIGKILL') })
  t.ok(await until(() => consumer.events.some(e => e.name === 'partitions_assigned' && Array.isArray(e.partitions) && e.partitions.length === 3), 60_000),
    `the consumer group got its 3 partitions through HAProxy\n${consumer.stderr()}`)

  const producer = await startJavaClient('org.apache.kafka.tools.VerifiableProducer', ['--bootstrap-server', info.clientBootstrap,
    '--topic', TOPIC, '--max-messages', String(RECORDS), '--throughput', String(RATE), '--command-config', producerConfig], { log4jFile: log4j })
  t.teardown(() => { producer.child.kill('SIGKILL') })
  let producerDone = false
  void producer.exited.then(() => { producerDone = true })
  t.ok(await until(() => producerDone || values(producer.events, 'producer_send_success').length >= RECORDS / 3, 60_000) && !producerDone,
    `a third acknowledged\n${producer.stderr()}`)

  // The replica that carries the most produce requests dies: the producer's in-flight requests
  // on it are cut, which is where a record could be lost or written twice.
  const before = await stats(info)
  const load = await Promise.all(info.replicas.map(async r => ({
    r,
    produce: await produceRequests(r.adminUrl),
    sessions: before.filter(s => s.server === r.name).reduce((n, s) => n + s.current, 0)
  })))
  const victim = [...load].sort((x, y) => y.produce - x.produce)[0]!
  t.comment(`before the kill: ${load.map(l => `${l.r.name} ${l.produce} produce requests, ${l.sessions} connections`).join('; ')}`)
  t.ok(victim.produce > 0, `${victim.r.name} carries produce traffic when it is killed`)
  const ackedAtKill = values(producer.events, 'producer_send_success').length
  const totalBefore = new Map(info.replicas.map(r => [r.name, before.filter(s => s.server === r.name).reduce((n, s) => n + s.total, 0)]))
  process.kill(victim.r.pid, 'SIGKILL')
  t.comment(`killed ${victim.r.name} (pid ${victim.r.pid}) after ${ackedAtKill} acknowledged records`)

  const produced = await producer.exited
  t.same(produced, { code: 0, signal: null }, `the producer finished\n${producer.stderr()}`)
  const acked = values(producer.events, 'producer_send_success')
  const failed = values(producer.events, 'producer_send_error')
  t.equal(failed.length, 0, `no send failed (${failed.slice(0, 5).join(', ')})`)
  t.equal(acked.length, RECORDS, 'every record acknowledged')
  t.equal(duplicates(acked), 0)
  t.ok(acked.length > ackedAtKill, 'acknowledgements went on after the kill')

  const ackedSet = new Set(acked)
  const consumedAll = (): boolean => {
    const got = new Set(values(consumer.events, 'record_data'))
    for (const v of ackedSet) if (!got.has(v)) return false
    return true
  }
  t.ok(await until(consumedAll, 90_000), `the group consumed every acknowledged record\n${consumer.stderr()}`)
  consumer.child.kill('SIGTERM')
  await consumer.exited
  const consumed = values(consumer.events, 'record_data')
  t.equal(consumed.length, acked.length, `consumed exactly as many records as were acknowledged (${consumed.length})`)
  t.equal(duplicates(consumed), 0, 'none consumed twice')
  t.ok(consumed.every(v => ackedSet.has(v)), 'none consumed that was not acknowledged')

  // What the brokers hold, read directly (not through kproxy): each acknowledged record once.
  const direct = await kcat(['-C', '-b', info.bootstrap, '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%s\n', '-m', '60'], { timeoutMs: 120_000 })
  t.equal(direct.code, 0, direct.stderr)
  const stored = direct.stdout.split('\n').filter(l => l !== '')
  t.equal(stored.length, acked.length, `the topic holds ${stored.length} records, as many as were acknowledged`)
  t.equal(duplicates(stored), 0, 'no record is stored twice')
  t.ok(stored.every(v => ackedSet.has(v)), 'the stored records are the acknowledged ones')

  // The clients came back through HAProxy to the other replicas.
  const after = await stats(info)
  t.ok(after.filter(s => s.server === victim.r.name).every(s => s.status.startsWith('DOWN')), `HAProxy marked ${victim.r.name} down`)
  const reconnects = info.replicas.filter(r => r !== victim.r)
    .map(r => after.filter(s => s.server === r.name).reduce((n, s) => n + s.total, 0) - totalBefore.get(r.name)!)
  t.ok(reconnects.reduce((a, b) => a + b, 0) > 0, `the surviving replicas took new connections (${reconnects.join(', ')})`)
  t.match(run.stderr(), `the ${victim.r.name} kproxy`, 'the sandbox reports the dead replica')
  // What the clients themselves said about the kill.
  const said = [...producer.stderr().split('\n').map(l => `producer: ${l}`), ...consumer.stderr().split('\n').map(l => `consumer: ${l}`)]
    .filter(l => /disconnected/i.test(l))
  t.comment(`client lines about lost connections (${said.length}):\n${said.slice(0, 10).join('\n')}`)
  t.ok(said.some(l => /^producer: .*Node \d+ disconnected/.test(l)), 'the producer lost a broker connection (its log says so)')

  run.child.kill('SIGTERM')
  t.same(await run.exited, { code: 0, signal: null }, run.stderr())
  t.same(javaPidsMentioning(dir), [], 'no JVM left')
  const alive = [info.loadBalancer.pid, ...info.replicas.map(r => r.pid)].filter(pid => {
    try { process.kill(pid, 0); return true } catch { return false }
  })
  t.same(alive, [], 'no kproxy or HAProxy left')
  t.notOk(existsSync(dir), 'the directory it created is gone')
})
