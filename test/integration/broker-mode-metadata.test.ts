// Broker mode against a real 3-node cluster: every client sees only kproxy's host and ports.
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { Admin } from '@platformatic/kafka'
import { hasKcat, kafkaCluster, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { startBrokerProxy } from '../helpers/broker-proxy.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'

t.test('metadata through broker mode lists only kproxy addresses', async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const proxy = await startBrokerProxy(t, cluster.bootstrap)
  const realPorts = new Set(cluster.info.brokers.map(b => b.port))
  const ids = cluster.info.brokers.map(b => b.id).sort((a, b) => a - b)
  const expected = ids.map(id => ({ id, host: '127.0.0.1', port: proxy.portBase + id }))

  t.test('kcat -L', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
    const r = await kcat(['-L', '-b', proxy.bootstrap, '-m', '10'])
    t.equal(r.code, 0, r.stderr)
    const brokers = kcatBrokers(r.stdout)
    t.same(brokers, expected, 'exactly the 3 brokers at kproxy host and mapped ports')
    for (const b of brokers) t.notOk(realPorts.has(b.port), `port ${b.port} is not a real broker port`)
  })

  t.test('kafkajs admin', async t => {
    const kafka = new Kafka({ clientId: 'kproxy-test', brokers: [proxy.bootstrap], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    t.teardown(() => admin.disconnect())
    const topic = `bm-meta-${Date.now()}`
    await createTopicsAndWait(admin, [{ topic, numPartitions: 3, replicationFactor: 3 }])
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    t.equal(md.topics[0].partitions.length, 3)
    const cl = await admin.describeCluster()
    t.same(cl.brokers.map(b => ({ id: b.nodeId, host: b.host, port: b.port })).sort((a, b) => a.id - b.id), expected)
    for (const b of cl.brokers) t.notOk(realPorts.has(b.port))
  })

  t.test('@platformatic/kafka metadata', async t => {
    const admin = new Admin({ clientId: 'kproxy-test', bootstrapBrokers: [proxy.bootstrap] })
    t.teardown(() => admin.close())
    const md = await admin.metadata({ topics: [] })
    const brokers = [...md.brokers.entries()].map(([id, b]) => ({ id, host: b.host, port: b.port })).sort((a, b) => a.id - b.id)
    t.same(brokers, expected)
  })

  t.test('every connection went through the pipeline without decode failures', async t => {
    t.equal(proxy.metrics.decodeFailures, 0)
    t.ok(proxy.metrics.opened >= 3)
    t.same(proxy.discovered, [], 'nothing discovered beyond the initial directory')
  })
})
