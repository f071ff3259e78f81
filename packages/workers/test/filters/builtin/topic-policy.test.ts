import t from 'tap'
import type { Test } from 'tap'
import { getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { createTopicPolicy, parseTopicPolicyConfig } from '../../../src/filters/builtin/topic-policy.ts'
import { decoded, harness, request } from '../../session/session-harness.ts'

const CT = ApiKey.CreateTopics
const policy = () => createTopicPolicy(parseTopicPolicyConfig({
  rules: [
    { topics: 'orders.*', partitions: { min: 3, max: 12 }, minReplicationFactor: 3, requiredConfigs: { 'min.insync.replicas': '2' }, forbiddenConfigs: ['unclean.leader.election.enable'], message: 'ask #data' },
    { topics: '*', minReplicationFactor: 2 }
  ]
}))

function create (topics: Array<{ name: string, numPartitions: number, replicationFactor: number, configs?: Record<string, string> }>): any {
  const api = getApi(CT).request
  return {
    ...api.create(),
    timeoutMs: 1000,
    topics: topics.map(x => ({ ...api.structs.CreatableTopic!(), name: x.name, numPartitions: x.numPartitions, replicationFactor: x.replicationFactor, configs: Object.entries(x.configs ?? {}).map(([name, value]) => ({ ...api.structs.CreatableTopicConfig!(), name, value })) }))
  }
}

t.test('a mixed create: the conforming topics go to the broker, the others get POLICY_VIOLATION, in the client\'s order', async t => {
  const h = harness({ filters: [policy()] })
  h.socket.send(request(CT, 7, 1, create([
    { name: 'orders.eu', numPartitions: 6, replicationFactor: 1 },
    { name: 'logs', numPartitions: 1, replicationFactor: 2 },
    { name: 'orders.us', numPartitions: 6, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
    { name: 'tmp', numPartitions: 1, replicationFactor: -1 }
  ])))
  t.equal(h.route.forwarded.length, 1)
  const sent = h.route.forwarded[0]!
  t.ok(sent.frames !== null, 'the request was changed')
  const resp = getApi(CT).response
  h.route.answer(0, { ...resp.create(), topics: ['logs', 'orders.us'].map(name => ({ ...resp.structs.CreatableTopicResult!(), name, numPartitions: 1, replicationFactor: 2 })) })
  const [r] = h.socket.responses().map(p => decoded(p, CT, 7))
  t.same(r!.body.topics.map((x: any) => [x.name, x.errorCode]), [['orders.eu', 44], ['logs', 0], ['orders.us', 0], ['tmp', 44]])
  t.match(r!.body.topics[0].errorMessage, /topic 'orders.eu' breaks topicPolicy rule 1 \(topics: 'orders.\*'\): replication factor 1 is below the minimum 3; config min.insync.replicas is required \(= 2\). ask #data/)
  t.match(r!.body.topics[3].errorMessage, /replication factor is left to the broker's default; set it explicitly \(allowed: at least 2\)/)
})

t.test('every topic refused: kproxy answers alone', async t => {
  const h = harness({ filters: [policy()] })
  h.socket.send(request(CT, 7, 1, create([{ name: 'orders.x', numPartitions: 100, replicationFactor: 3, configs: { 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'true' } }])))
  t.equal(h.route.forwarded.length, 0)
  const [r] = h.socket.responses().map(p => decoded(p, CT, 7))
  t.equal(r!.body.topics[0].errorCode, 44)
  t.match(r!.body.topics[0].errorMessage, /it would have 100 partitions; allowed: from 3 to 12; config unclean.leader.election.enable may not be set/)
})

t.test('CreatePartitions and (Incremental)AlterConfigs', async t => {
  const h = harness({ filters: [policy()] })
  const cp = getApi(ApiKey.CreatePartitions).request
  h.socket.send(request(ApiKey.CreatePartitions, 3, 1, { ...cp.create(), topics: [{ ...cp.structs.CreatePartitionsTopic!(), name: 'orders.eu', count: 20, assignments: null }] }))
  const iac = getApi(ApiKey.IncrementalAlterConfigs).request
  h.socket.send(request(ApiKey.IncrementalAlterConfigs, 1, 2, { ...iac.create(), resources: [{ ...iac.structs.AlterConfigsResource!(), resourceType: 2, resourceName: 'orders.eu', configs: [{ ...iac.structs.AlterableConfig!(), name: 'min.insync.replicas', configOperation: 1, value: null }] }] }))
  const ac = getApi(ApiKey.AlterConfigs).request
  h.socket.send(request(ApiKey.AlterConfigs, 2, 3, { ...ac.create(), resources: [{ ...ac.structs.AlterConfigsResource!(), resourceType: 2, resourceName: 'orders.eu', configs: [{ ...ac.structs.AlterableConfig!(), name: 'retention.ms', value: '1000' }] }] }))
  t.equal(h.route.forwarded.length, 0, 'all three refused')
  const [a, b, c] = h.socket.responses()
  t.match(decoded(a!, ApiKey.CreatePartitions, 3).body.results[0], { name: 'orders.eu', errorCode: 44, errorMessage: /it would have 20 partitions/ })
  t.match(decoded(b!, ApiKey.IncrementalAlterConfigs, 1).body.responses[0], { resourceName: 'orders.eu', errorCode: 44, errorMessage: /required and may not be deleted/ })
  t.match(decoded(c!, ApiKey.AlterConfigs, 2).body.responses[0], { resourceName: 'orders.eu', errorCode: 44, errorMessage: /would be removed/ })
})

t.test('config problems listed with paths', async t => {
  expectProblems(t, () => parseTopicPolicyConfig({ rules: [{ topics: 5, partitions: { min: 5, max: 2 }, minReplicationFactor: 0, forbiddenConfigs: 'x', bogus: 1 }] }), (err: Error) => {
    const m = err.message
    return /rules\[0\].topics/.test(m) && /min 5 is above max 2/.test(m) && /minReplicationFactor/.test(m) && /forbiddenConfigs/.test(m) && /bogus: unknown key/.test(m)
  })
})

function expectProblems (t: Test, fn: () => unknown, check: (err: Error) => boolean): void {
  try {
    fn()
    t.fail('no error')
  } catch (err) {
    t.ok(check(err as Error), (err as Error).message)
  }
}

t.test('every refused topic is counted per API', async t => {
  const { MetricsRegistry } = await import('@kproxy/core/metrics/metrics-registry')
  const metrics = new MetricsRegistry()
  const counted = createTopicPolicy(parseTopicPolicyConfig({ rules: [{ topics: '*', minReplicationFactor: 2 }] }), { counter: e => metrics.filterCounter('topicPolicy', e) })
  const h = harness({ filters: [counted] })
  h.socket.send(request(CT, 7, 1, create([{ name: 'a', numPartitions: 1, replicationFactor: 1 }, { name: 'b', numPartitions: 1, replicationFactor: 3 }, { name: 'c', numPartitions: 1, replicationFactor: 1 }])))
  h.socket.send(request(CT, 7, 2, create([{ name: 'd', numPartitions: 1, replicationFactor: 2 }])))
  const events = (metrics.snapshot().filterEvents ?? []).filter(([, , n]) => n > 0)
  t.same(events, [['topicPolicy', 'CreateTopics:refused', 2]], 'two topics refused, the conforming ones not counted')
})
