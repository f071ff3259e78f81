// Issue 8 acceptance: the built-in topicPolicy filter through `kproxy serve --workers 2` in front of
// a real 3-node cluster, driven by Kafka's own kafka-topics.sh (org.apache.kafka.tools.TopicCommand).
// A create with too few replicas is refused with the rule's message (as the tool prints it) and
// leaves no topic behind; a conforming create succeeds and the topic exists on the cluster with
// what was asked for.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kafkaCluster } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'

const TOPIC_COMMAND = 'org.apache.kafka.tools.TopicCommand'
const RULE_MESSAGE = 'topics under orders. need 3 replicas; ask the data platform team for exceptions'

t.test('topicPolicy refuses kafka-topics.sh --create with too few replicas and lets a conforming one through', async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-topic-policy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const configFile = join(dir, 'kproxy.yaml')
  writeFileSync(configFile, [
    'brokerMode:',
    `  upstream: ${cluster.bootstrap}`,
    '  filters:',
    '    - name: topicPolicy',
    '      config:',
    '        rules:',
    "          - topics: 'orders.*'",
    '            minReplicationFactor: 3',
    '            partitions: { min: 3, max: 12 }',
    `            message: ${RULE_MESSAGE}`,
    ''
  ].join('\n'))
  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', configFile] })
  const unique = Date.now()

  // What the cluster itself says, not kproxy: the topic list and a topic's description.
  async function topicsOnCluster (): Promise<string[]> {
    const r = await cluster.runKafkaTool(TOPIC_COMMAND, ['--bootstrap-server', cluster.bootstrap, '--list'])
    if (r.code !== 0) throw new Error(`kafka-topics --list on the cluster: ${r.stderr}`)
    return r.stdout.split('\n').filter(Boolean)
  }

  t.test('too few replicas: refused with the rule\'s message, nothing created', async t => {
    const topic = `orders.thin-${unique}`
    const r = await cluster.runKafkaTool(TOPIC_COMMAND, ['--bootstrap-server', kproxy.bootstrap, '--create', '--topic', topic, '--partitions', '3', '--replication-factor', '2'], { timeoutMs: 60_000 })
    const output = `${r.stdout}\n${r.stderr}`
    t.comment(`kafka-topics exit ${String(r.code)}: ${output.split('\n').find(l => l.includes('PolicyViolation')) ?? output.trim().slice(0, 400)}`)
    t.equal(r.code, 1, 'kafka-topics exits 1')
    t.match(output, /org\.apache\.kafka\.common\.errors\.PolicyViolationException/, 'the Java admin client got POLICY_VIOLATION')
    t.ok(output.includes(`topic '${topic}' breaks topicPolicy rule 1 (topics: 'orders.*'): `), 'the message names the topic and the rule')
    t.match(output, /replication factor 2/, 'and what was asked')
    t.ok(output.includes(RULE_MESSAGE), 'and ends with the rule\'s own message')
    t.notOk((await topicsOnCluster()).includes(topic), 'the topic does not exist on the cluster')
  })

  t.test('no replication factor given (the broker default): refused, since the rule bounds it', async t => {
    const topic = `orders.default-${unique}`
    const r = await cluster.runKafkaTool(TOPIC_COMMAND, ['--bootstrap-server', kproxy.bootstrap, '--create', '--topic', topic, '--partitions', '3'], { timeoutMs: 60_000 })
    const output = `${r.stdout}\n${r.stderr}`
    t.comment(`kafka-topics exit ${String(r.code)}: ${output.split('\n').find(l => l.includes('PolicyViolation')) ?? output.trim().slice(0, 400)}`)
    t.equal(r.code, 1)
    t.match(output, /PolicyViolationException/)
    t.ok(output.includes(RULE_MESSAGE))
    t.notOk((await topicsOnCluster()).includes(topic))
  })

  t.test('a conforming create succeeds; the cluster has the topic as asked', async t => {
    const topic = `orders.ok-${unique}`
    const r = await cluster.runKafkaTool(TOPIC_COMMAND, ['--bootstrap-server', kproxy.bootstrap, '--create', '--topic', topic, '--partitions', '4', '--replication-factor', '3'], { timeoutMs: 60_000 })
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, `Created topic ${topic}.`)
    t.ok((await topicsOnCluster()).includes(topic), 'the topic exists on the cluster')
    const d = await cluster.runKafkaTool(TOPIC_COMMAND, ['--bootstrap-server', cluster.bootstrap, '--describe', '--topic', topic])
    t.equal(d.code, 0, d.stderr)
    t.match(d.stdout, /PartitionCount: 4\s+ReplicationFactor: 3/, 'with 4 partitions of 3 replicas')
  })

  t.test('a topic the rule does not match is left alone', async t => {
    const topic = `scratch-${unique}`
    const r = await cluster.runKafkaTool(TOPIC_COMMAND, ['--bootstrap-server', kproxy.bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1'], { timeoutMs: 60_000 })
    t.equal(r.code, 0, r.stderr)
    t.ok((await topicsOnCluster()).includes(topic))
  })

  t.test('/metrics: the two refused topics are counted', async t => {
    const m = await kproxy.metrics()
    t.equal(metricSum(m, 'kproxy_filter_events_total', 'filter="topicPolicy",event="CreateTopics:refused"'), 2)
    t.ok(metricSum(m, 'kproxy_requests_total', 'api="create_topics"') >= 4, 'every create went through kproxy')
  })
})
