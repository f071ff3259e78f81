// The sandbox against real clients: kcat (librdkafka) and Kafka's own Java tools.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { startCluster } from '@kproxy/cli/sandbox/cluster'
import { javaPidsMentioning, kafkaCluster, kcat, kcatBrokers, kcatTlsArgs } from '../helpers/kafka.ts'


t.test('one broker: metadata, produce and consume with kcat, Java tools, restart', async t => {
  const cluster = await kafkaCluster(t, { brokers: 1 })
  const { info } = cluster
  t.equal(info.brokers.length, 1)
  t.equal(info.bootstrap, `127.0.0.1:${info.brokers[0]!.port}`)
  t.equal(info.tls, undefined)
  t.same(JSON.parse(readFileSync(`${info.dataDir}/sandbox.json`, 'utf8')), info, 'sandbox.json holds the info')

  const meta = await kcat(['-L', '-b', info.bootstrap, '-m', '10'])
  t.equal(meta.code, 0, meta.stderr)
  t.same(kcatBrokers(meta.stdout), [{ id: 1, host: '127.0.0.1', port: info.brokers[0]!.port }])

  const produced = await kcat(['-P', '-b', info.bootstrap, '-t', 'sandbox-smoke', '-m', '15'], { input: 'one\ntwo\nthree\n' })
  t.equal(produced.code, 0, produced.stderr)
  const consumed = await kcat(['-C', '-b', info.bootstrap, '-t', 'sandbox-smoke', '-o', 'beginning', '-c', '3', '-e', '-m', '15'])
  t.equal(consumed.code, 0, consumed.stderr)
  t.same(consumed.stdout.trim().split('\n'), ['one', 'two', 'three'])

  const topics = await cluster.runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', info.bootstrap, '--list'])
  t.equal(topics.code, 0, topics.stderr)
  t.match(topics.stdout, /^sandbox-smoke$/m, 'the Java admin client sees the topic')

  const pid = cluster.pids().get(1)
  t.type(pid, 'number')
  // KPROXY_SANDBOX_JVM (jvm-profile.ts): the suite runs lean brokers, `kproxy sandbox up` G1 + C2
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  if (process.env.KPROXY_SANDBOX_JVM === 'lean') t.ok(args.includes('-XX:TieredStopAtLevel=1') && args.includes('-XX:+UseSerialGC') && !args.includes('-XX:+UseG1GC'), `the lean broker runs C1 only with the serial collector: ${args.filter(a => a.startsWith('-XX')).join(' ')}`)
  else t.ok(args.includes('-XX:+UseG1GC') && !args.includes('-XX:TieredStopAtLevel=1'), `the default broker runs G1 and the full JIT: ${args.filter(a => a.startsWith('-XX')).join(' ')}`)
  await cluster.killBroker(1)
  t.equal(cluster.pids().size, 0, 'no live node after killBroker')
  const down = await kcat(['-L', '-b', info.bootstrap, '-m', '3'])
  t.not(down.code, 0, 'metadata fails while the only broker is down')
  await cluster.startBroker(1)
  t.not(cluster.pids().get(1), pid, 'a new JVM')
  const again = await kcat(['-C', '-b', info.bootstrap, '-t', 'sandbox-smoke', '-o', 'beginning', '-c', '3', '-e', '-m', '15'])
  t.same(again.stdout.trim().split('\n'), ['one', 'two', 'three'], 'data survives the restart')
})

t.test('three brokers with mutual TLS', async t => {
  const cluster = await kafkaCluster(t, { brokers: 3, tls: true })
  const { info } = cluster
  t.same(info.brokers.map(b => b.id), [1, 2, 3])
  t.ok(info.tls !== undefined)
  const ports = info.brokers.map(b => b.tlsPort!)
  t.equal(new Set([...ports, ...info.brokers.map(b => b.port)]).size, 6, 'distinct ports')
  t.equal(info.tls!.bootstrap, ports.map(p => `127.0.0.1:${p}`).join(','))
  t.match(readFileSync(info.tls!.clientKey, 'utf8'), /^-----BEGIN PRIVATE KEY-----/)

  const plain = await kcat(['-L', '-b', info.bootstrap, '-m', '10'])
  t.equal(plain.code, 0, plain.stderr)
  t.same(kcatBrokers(plain.stdout).map(b => b.id), [1, 2, 3], 'plaintext metadata lists 3 brokers')

  const secure = await kcat(['-L', '-b', info.tls!.bootstrap, '-m', '10', ...kcatTlsArgs(info)])
  t.equal(secure.code, 0, secure.stderr)
  t.same(kcatBrokers(secure.stdout).map(b => b.port), ports, 'the TLS listener advertises the TLS ports')

  const refused = await kcat(['-L', '-b', info.tls!.bootstrap, '-m', '6', ...kcatTlsArgs(info, false)])
  t.not(refused.code, 0, 'no client certificate: refused')
  t.notMatch(refused.stdout, /broker \d+ at/)

  const javaTls = await cluster.runKafkaTool('org.apache.kafka.tools.TopicCommand',
    ['--bootstrap-server', info.tls!.bootstrap, '--command-config', info.tls!.clientProperties, '--create', '--topic', 'tls-topic', '--partitions', '3'])
  t.equal(javaTls.code, 0, javaTls.stderr)
  const described = await cluster.runKafkaTool('org.apache.kafka.tools.TopicCommand',
    ['--bootstrap-server', info.bootstrap, '--describe', '--topic', 'tls-topic'])
  t.match(described.stdout, /ReplicationFactor: 3/, 'topics replicate 3 ways')

  // An orderly stop of one node: the others fence it and still serve; it comes back.
  await cluster.killBroker(2, 'SIGTERM')
  t.same([...cluster.pids().keys()].sort(), [1, 3])
  let ids: number[] = []
  for (let i = 0; i < 50 && ids.join() !== '1,3'; i++) {
    const m = await kcat(['-L', '-b', info.bootstrap, '-m', '5'])
    ids = kcatBrokers(m.stdout).map(b => b.id)
    if (ids.join() !== '1,3') await sleep(200)
  }
  t.same(ids, [1, 3], 'two brokers while node 2 is down')
  await cluster.startBroker(2)
  const back = await kcat(['-L', '-b', info.bootstrap, '-m', '10'])
  t.same(kcatBrokers(back.stdout).map(b => b.id), [1, 2, 3], 'node 2 is back')
})

t.test('one TLS broker; stop() leaves no JVM and no directory behind', async t => {
  const cluster = await startCluster({ brokers: 1, tls: true })
  const dir = cluster.dataDir
  t.match(dir, /kproxy-sandbox-/)
  t.equal(javaPidsMentioning(dir).length, 1, 'one JVM while running')
  const secure = await kcat(['-L', '-b', cluster.info.tls!.bootstrap, '-m', '10', ...kcatTlsArgs(cluster.info)])
  t.equal(secure.code, 0, secure.stderr)
  t.same(kcatBrokers(secure.stdout).map(b => b.port), [cluster.info.brokers[0]!.tlsPort], 'TLS metadata')
  await cluster.stop()
  t.same(javaPidsMentioning(dir), [])
  t.notOk(existsSync(dir), 'data directory removed')
  await cluster.stop()
  t.pass('stop() is idempotent')
})
