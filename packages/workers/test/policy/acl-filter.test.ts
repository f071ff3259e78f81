import t from 'tap'
import { getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { decoded, request, tick } from '../session/session-harness.ts'
import { aclHarness, ALICE_BOB, fetch, fetchAnswer, produce, produceAnswer, sent } from './acl-test-kit.ts'

const P = ApiKey.Produce
const F = ApiKey.Fetch
const E29 = ErrorCode.TOPIC_AUTHORIZATION_FAILED

const slots = (body: any, list = 'responses', parts = 'partitionResponses', index = 'index', name = 'name'): Array<[string, number, number]> =>
  body[list].flatMap((t: any) => t[parts].map((p: any) => [t[name], p[index], p.errorCode]))

t.test('Produce: denied partitions get 29 in their own slots, the allowed ones of the same request go upstream, answers merged in order', async t => {
  const h = aclHarness(ALICE_BOB)
  h.socket.send(request(P, 12, 1, produce([['orders', [0, 5, 1, 7, 2, 3, 4, 6]], ['public', [0]]])))
  t.equal(h.route.forwarded.length, 1)
  const up = sent(h, 0)
  t.same(up.topicData.map((x: any) => [x.name, x.partitionData.map((p: any) => p.index)]), [['orders', [0, 1, 2, 3]], ['public', [0]]], 'only the allowed partitions went upstream')
  h.route.answer(0, produceAnswer(up))
  const [r] = h.socket.responses().map(p => decoded(p, P, 12))
  t.same(slots(r!.body), [['orders', 0, 0], ['orders', 5, E29], ['orders', 1, 0], ['orders', 7, E29], ['orders', 2, 0], ['orders', 3, 0], ['orders', 4, E29], ['orders', 6, E29], ['public', 0, 0]])
  t.equal(r!.body.responses[0].partitionResponses[0].baseOffset, 100n, 'the broker\'s answer for an allowed partition is kept')
  t.same(h.denials(), { 'User:alice Write topic': 4 })
})

t.test('Produce: everything denied is answered by kproxy without going upstream; acks=0 gets no answer at all', async t => {
  const h = aclHarness(ALICE_BOB, { principal: 'bob' })
  h.socket.send(request(P, 12, 1, produce([['orders', [0, 1]]])))
  h.socket.send(request(P, 12, 2, produce([['orders', [4]]], 0)))
  h.socket.send(request(P, 9, 3, produce([['orders', [5]]], 1)))
  t.equal(h.route.forwarded.length, 0, 'nothing reached the upstream')
  const out = h.socket.responses()
  t.equal(out.length, 2, 'the acks=0 request got no answer')
  t.same(slots(decoded(out[0]!, P, 12).body), [['orders', 0, E29], ['orders', 1, E29]])
  t.same(slots(decoded(out[1]!, P, 9).body), [['orders', 5, E29]])
  t.same(h.denials(), { 'User:bob Write topic': 4 })
})

t.test('Produce acks=0 partly denied: the allowed partitions go on, no answer', async t => {
  const h = aclHarness(ALICE_BOB)
  h.socket.send(request(P, 12, 1, produce([['orders', [3, 4]]], 0)))
  t.equal(h.route.forwarded.length, 1)
  t.same(sent(h, 0).topicData[0].partitionData.map((p: any) => p.index), [3])
  t.equal(h.route.forwarded[0]!.entry, null, 'no answer is waited for')
  t.equal(h.socket.responses().length, 0)
})

t.test('a request nothing denies goes upstream as the bytes that arrived', async t => {
  const h = aclHarness(ALICE_BOB)
  const frames = request(P, 12, 1, produce([['orders', [0, 1, 2, 3]]]))
  h.socket.send(frames)
  t.equal(h.route.forwarded.length, 1)
  t.equal(h.route.forwarded[0]!.frames, null, 'not re-encoded')
  t.same(h.route.forwarded[0]!.payload, Buffer.concat(frames).subarray(4))
})

t.test('Produce fast path: an allowed request is checked on its bytes, never decoded, at every version', async t => {
  const h = aclHarness(ALICE_BOB)
  const ordersId = 'b3JkZXJzb3JkZXJzb3JkZQ'
  h.topicIds.learn('orders', ordersId)
  let cid = 1
  for (let v = 3; v <= 13; v++) {
    h.socket.send(request(P, v, cid++, produce([['orders', [0, 3]], ['public', [0]]], 1, v === 13 ? { ids: { orders: ordersId, public: 'cHVibGljcHVibGljcHVibA' } } : {})))
  }
  // v13: public's id is unknown to the worker: the decoded path decides (and refuses it)
  await tick()
  const forwarded = h.route.forwarded
  t.equal(forwarded.length, 11)
  for (let i = 0; i < 10; i++) {
    t.equal(forwarded[i]!.frames, null, `v${i + 3}: the bytes that arrived`)
    t.equal(forwarded[i]!.entry!.request!.decoded, false, `v${i + 3}: not decoded`)
  }
  t.equal(forwarded[10]!.entry!.request!.decoded, true, 'v13 with an unknown id: decoded')
})

t.test('transactional produce needs Write on the transactional id (53)', async t => {
  const h = aclHarness(ALICE_BOB)
  const txBatch = Buffer.alloc(70)
  txBatch[16] = 2
  txBatch.writeInt16BE(0x10, 21)
  h.socket.send(request(P, 12, 1, produce([['orders', [0]]], -1, { transactionalId: 'tx-1', records: txBatch })))
  t.equal(h.route.forwarded.length, 0)
  const [r] = h.socket.responses().map(p => decoded(p, P, 12))
  t.same(slots(r!.body), [['orders', 0, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]])
  t.same(h.denials(), { 'User:alice Write transactionalId': 1 })
})

t.test('Fetch: denied partitions answered 29, the rest fetched; a split fetch goes sessionless', async t => {
  const h = aclHarness(ALICE_BOB, { principal: 'bob' })
  h.socket.send(request(F, 12, 1, fetch([['orders', [0, 1, 2, 3, 4, 5, 6, 7]]], { sessionEpoch: 0 })))
  t.equal(h.route.forwarded.length, 1)
  const up = sent(h, 0)
  t.same(up.topics[0].partitions.map((p: any) => p.partition), [4, 5, 6, 7])
  t.equal(up.sessionId, 0)
  t.equal(up.sessionEpoch, -1, 'no session is created for a split fetch')
  h.route.answer(0, fetchAnswer(up))
  const [r] = h.socket.responses().map(p => decoded(p, F, 12))
  t.same(slots(r!.body, 'responses', 'partitions', 'partitionIndex', 'topic'), [0, 1, 2, 3, 4, 5, 6, 7].map(i => ['orders', i, i < 4 ? E29 : 0]))
  const denied = r!.body.responses[0].partitions[0]
  t.same([denied.highWatermark, Buffer.isBuffer(denied.records) && denied.records.length], [-1n, 0], 'a denied partition as a broker writes it: empty records, not null (librdkafka refuses null)')
  t.same(h.denials(), { 'User:bob Read topic': 4 })
})

t.test('Fetch sessions: only the connection\'s own session, from the rules in force', async t => {
  const h = aclHarness(ALICE_BOB)
  // a session id this connection never got: sessionless
  h.socket.send(request(F, 12, 1, fetch([['orders', [0]]], { sessionId: 77, sessionEpoch: 3 })))
  t.equal(sent(h, 0).sessionId, 0)
  t.equal(sent(h, 0).sessionEpoch, -1)
  h.route.answer(0, fetchAnswer(sent(h, 0)))
  // a new session: forwarded untouched, its id learned from the answer
  h.socket.send(request(F, 12, 2, fetch([['orders', [0, 1]]], { sessionEpoch: 0 })))
  t.equal(h.route.forwarded[1]!.frames, null, 'untouched')
  h.route.answer(1, fetchAnswer(sent(h, 1), 1234))
  h.socket.send(request(F, 12, 3, fetch([], { sessionId: 1234, sessionEpoch: 1 })))
  t.equal(h.route.forwarded[2]!.frames, null, 'its own session continues untouched')
  h.route.answer(2, fetchAnswer(sent(h, 2), 1234))
  // the rules change: the session from before is not used again
  h.state.apply({ file: { acl: { rules: [{ allow: ['Read'], principal: 'User:alice', topic: 'orders', partitions: [0] }] } } as any, baseDir: '.' })
  h.socket.send(request(F, 12, 4, fetch([], { sessionId: 1234, sessionEpoch: 2 })))
  t.equal(sent(h, 3).sessionId, 0)
  t.equal(sent(h, 3).sessionEpoch, -1)
})

t.test('Fetch from a follower needs ClusterAction', async t => {
  const h = aclHarness(ALICE_BOB)
  const body = fetch([['orders', [0]]])
  body.replicaId = 2
  h.socket.send(request(F, 12, 1, body))
  t.equal(h.route.forwarded.length, 0)
  const [r] = h.socket.responses().map(p => decoded(p, F, 12))
  t.equal(r!.body.responses[0].partitions[0].errorCode, E29)
})

t.test('topic ids: learned from Metadata answers; unknown ids are looked up, then refused (never forwarded)', async t => {
  let lookups = 0
  const h = aclHarness(ALICE_BOB, { lookup: async () => { lookups++; return [{ name: 'public', id: 'cHVibGljcHVibGljcHVibA' }] } })
  const ordersId = 'b3JkZXJzb3JkZXJzb3JkZQ'
  // the directory learns orders' id from a Metadata answer passing through
  const md = getApi(ApiKey.Metadata)
  h.socket.send(request(ApiKey.Metadata, 12, 1, { ...md.request.create(), topics: [{ ...md.request.structs.MetadataRequestTopic!(), name: 'orders' }], allowAutoTopicCreation: false }))
  h.route.answer(0, { ...md.response.create(), topics: [{ ...md.response.structs.MetadataResponseTopic!(), name: 'orders', topicId: ordersId, errorCode: 0 }] })
  t.equal(h.topicIds.nameOf(ordersId), 'orders')
  h.socket.send(request(P, 13, 2, produce([['orders', [2, 6]]], -1, { ids: { orders: ordersId } })))
  await tick()
  t.equal(h.route.forwarded.length, 2)
  t.same(sent(h, 1).topicData.map((x: any) => [x.topicId, x.partitionData.map((p: any) => p.index)]), [[ordersId, [2]]])
  h.route.answer(1, produceAnswer(sent(h, 1)))
  // an id nobody knows: looked up upstream (once), then refused
  h.socket.send(request(P, 13, 3, produce([['ghost', [0]], ['public', [0]]], -1, { ids: { ghost: 'Z2hvc3RnaG9zdGdob3N0Zw', public: 'cHVibGljcHVibGljcHVibA' } })))
  await tick()
  await tick()
  t.equal(lookups, 1)
  t.equal(h.route.forwarded.length, 3)
  t.same(sent(h, 2).topicData.map((x: any) => x.topicId), ['cHVibGljcHVibGljcHVibA'], 'only the resolved, allowed topic went upstream')
  h.route.answer(2, produceAnswer(sent(h, 2)))
  const out = h.socket.responses()
  const r2 = decoded(out[1]!, P, 13).body
  t.same(r2.responses.map((x: any) => [x.topicId, x.partitionResponses.map((p: any) => [p.index, p.errorCode])]), [[ordersId, [[2, 0], [6, E29]]]])
  const r3 = decoded(out[2]!, P, 13).body
  t.same(r3.responses.map((x: any) => [x.topicId, x.partitionResponses.map((p: any) => p.errorCode)]), [['Z2hvc3RnaG9zdGdob3N0Zw', [ErrorCode.UNKNOWN_TOPIC_ID]], ['cHVibGljcHVibGljcHVibA', [0]]])
  // a second unknown id within the lookup interval: refused without asking again
  h.socket.send(request(F, 13, 4, fetch([['ghost2', [0]]], { ids: { ghost2: 'Z2hvc3QyZ2hvc3QyZ2hvcw' } })))
  await tick()
  t.equal(lookups, 1, 'rate limited')
  t.equal(h.route.forwarded.length, 3, 'not forwarded')
})

t.test('Metadata: undescribable topics are hidden from "all topics" and answered 29 when named; no auto-creation without Create', async t => {
  const h = aclHarness(ALICE_BOB, { principal: 'carol' })
  const md = getApi(ApiKey.Metadata)
  const topic = (name: string): any => ({ ...md.response.structs.MetadataResponseTopic!(), name, errorCode: 0, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' })
  h.socket.send(request(ApiKey.Metadata, 12, 1, { ...md.request.create(), topics: null, allowAutoTopicCreation: false }))
  h.route.answer(0, { ...md.response.create(), topics: [topic('orders'), topic('secret'), topic('public')] })
  h.socket.send(request(ApiKey.Metadata, 12, 2, { ...md.request.create(), topics: ['secret', 'orders'].map(name => ({ ...md.request.structs.MetadataRequestTopic!(), name })), allowAutoTopicCreation: true }))
  const up = sent(h, 1)
  t.same(up.topics.map((x: any) => x.name), ['orders'])
  t.equal(up.allowAutoTopicCreation, false, 'carol may not create orders')
  h.route.answer(1, { ...md.response.create(), topics: [topic('orders')] })
  // Metadata v0: an empty list means every topic
  h.socket.send(request(ApiKey.Metadata, 0, 3, { ...md.request.create(), topics: [] }))
  h.route.answer(2, { ...md.response.create(), topics: [topic('orders'), topic('secret')] })
  const [all, named, v0] = h.socket.responses().map((p, i) => decoded(p, ApiKey.Metadata, i === 2 ? 0 : 12).body)
  t.same(all!.topics.map((x: any) => x.name), ['orders', 'public'])
  t.same(named!.topics.map((x: any) => [x.name, x.errorCode]), [['secret', E29], ['orders', 0]])
  t.same(v0!.topics.map((x: any) => x.name), ['orders'])
})

t.test('groups (30), transactional ids (53) and the cluster (31): refused whole, nothing upstream', async t => {
  const h = aclHarness(ALICE_BOB)
  const jg = getApi(ApiKey.JoinGroup).request
  h.socket.send(request(ApiKey.JoinGroup, 9, 1, { ...jg.create(), groupId: 'payments-app', protocolType: 'consumer', protocols: [] }))
  h.socket.send(request(ApiKey.JoinGroup, 9, 2, { ...jg.create(), groupId: 'orders-app', protocolType: 'consumer', protocols: [] }))
  const ip = getApi(ApiKey.InitProducerId).request
  h.socket.send(request(ApiKey.InitProducerId, 5, 3, { ...ip.create(), transactionalId: 'tx', transactionTimeoutMs: 1000 }))
  const ca = getApi(ApiKey.CreateAcls).request
  h.socket.send(request(ApiKey.CreateAcls, 3, 4, { ...ca.create(), creations: [] }))
  const hb = getApi(ApiKey.ConsumerGroupHeartbeat).request
  h.socket.send(request(ApiKey.ConsumerGroupHeartbeat, 0, 5, { ...hb.create(), groupId: 'nope', memberId: 'm', memberEpoch: 0 }))
  t.equal(h.route.forwarded.length, 1, 'only the allowed JoinGroup went upstream')
  t.equal(sent(h, 0).groupId, 'orders-app')
  const out = h.socket.responses()
  t.equal(decoded(out[0]!, ApiKey.JoinGroup, 9).body.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED)
  // the allowed JoinGroup's answer is still to come: later answers wait for it (request order)
  h.route.answer(0, { ...getApi(ApiKey.JoinGroup).response.create(), errorCode: 0 })
  const all = h.socket.responses()
  t.equal(decoded(all[2]!, ApiKey.InitProducerId, 5).body.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  t.equal(decoded(all[3]!, ApiKey.CreateAcls, 3).body.results.length, 0)
  t.equal(decoded(all[4]!, ApiKey.ConsumerGroupHeartbeat, 0).body.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED)
  t.same(h.denials(), { 'User:alice Read group': 2, 'User:alice Write transactionalId': 1, 'User:alice Alter cluster': 1 })
})

t.test('CreateTopics, DeleteTopics and DescribeConfigs per entry', async t => {
  const h = aclHarness({ rules: [{ allow: ['Create', 'Delete', 'DescribeConfigs'], principal: 'User:alice', topic: { prefix: 'team.' } }] })
  const ct = getApi(ApiKey.CreateTopics)
  h.socket.send(request(ApiKey.CreateTopics, 7, 1, { ...ct.request.create(), topics: ['x', 'team.a', 'y'].map(name => ({ ...ct.request.structs.CreatableTopic!(), name, numPartitions: 1, replicationFactor: 1 })) }))
  t.same(sent(h, 0).topics.map((x: any) => x.name), ['team.a'])
  h.route.answer(0, { ...ct.response.create(), topics: [{ ...ct.response.structs.CreatableTopicResult!(), name: 'team.a', errorCode: 0 }] })
  const dt = getApi(ApiKey.DeleteTopics)
  h.socket.send(request(ApiKey.DeleteTopics, 5, 2, { ...dt.request.create(), topicNames: ['team.b', 'z'] }))
  t.same(sent(h, 1).topicNames, ['team.b'])
  h.route.answer(1, { ...dt.response.create(), responses: [{ ...dt.response.structs.DeletableTopicResult!(), name: 'team.b', errorCode: 0 }] })
  const dc = getApi(ApiKey.DescribeConfigs)
  h.socket.send(request(ApiKey.DescribeConfigs, 4, 3, { ...dc.request.create(), resources: [{ ...dc.request.structs.DescribeConfigsResource!(), resourceType: 4, resourceName: '1', configurationKeys: null }, { ...dc.request.structs.DescribeConfigsResource!(), resourceType: 2, resourceName: 'team.c', configurationKeys: null }] }))
  t.same(sent(h, 2).resources.map((x: any) => x.resourceName), ['team.c'])
  h.route.answer(2, { ...dc.response.create(), results: [{ ...dc.response.structs.DescribeConfigsResult!(), resourceType: 2, resourceName: 'team.c', errorCode: 0, configs: [] }] })
  const [c, d, cfg] = h.socket.responses()
  t.same(decoded(c!, ApiKey.CreateTopics, 7).body.topics.map((x: any) => [x.name, x.errorCode]), [['x', E29], ['team.a', 0], ['y', E29]])
  t.same(decoded(d!, ApiKey.DeleteTopics, 5).body.responses.map((x: any) => [x.name, x.errorCode]), [['team.b', 0], ['z', E29]])
  t.same(decoded(cfg!, ApiKey.DescribeConfigs, 4).body.results.map((x: any) => [x.resourceName, x.errorCode]), [['1', ErrorCode.CLUSTER_AUTHORIZATION_FAILED], ['team.c', 0]])
})

t.test('ListOffsets, OffsetForLeaderEpoch, DeleteRecords, OffsetCommit and OffsetFetch per partition', async t => {
  const h = aclHarness({
    rules: [
      { allow: ['Describe', 'Read', 'Delete'], principal: 'User:alice', topic: 'orders', partitions: ['0-1'] },
      { allow: ['Read', 'Describe'], principal: 'User:alice', group: 'g' }
    ]
  })
  const lo = getApi(ApiKey.ListOffsets)
  h.socket.send(request(ApiKey.ListOffsets, 9, 1, { ...lo.request.create(), replicaId: -1, topics: [{ ...lo.request.structs.ListOffsetsTopic!(), name: 'orders', partitions: [0, 2, 1].map(partitionIndex => ({ ...lo.request.structs.ListOffsetsPartition!(), partitionIndex, timestamp: -1n })) }] }))
  t.same(sent(h, 0).topics[0].partitions.map((p: any) => p.partitionIndex), [0, 1])
  h.route.answer(0, { ...lo.response.create(), topics: [{ ...lo.response.structs.ListOffsetsTopicResponse!(), name: 'orders', partitions: [0, 1].map(partitionIndex => ({ ...lo.response.structs.ListOffsetsPartitionResponse!(), partitionIndex, offset: 5n })) }] })
  const oe = getApi(ApiKey.OffsetForLeaderEpoch)
  h.socket.send(request(ApiKey.OffsetForLeaderEpoch, 4, 2, { ...oe.request.create(), replicaId: -1, topics: [{ ...oe.request.structs.OffsetForLeaderTopic!(), topic: 'orders', partitions: [3].map(partition => ({ ...oe.request.structs.OffsetForLeaderPartition!(), partition })) }] }))
  const dr = getApi(ApiKey.DeleteRecords)
  h.socket.send(request(ApiKey.DeleteRecords, 2, 3, { ...dr.request.create(), topics: [{ ...dr.request.structs.DeleteRecordsTopic!(), name: 'orders', partitions: [1, 5].map(partitionIndex => ({ ...dr.request.structs.DeleteRecordsPartition!(), partitionIndex, offset: 1n })) }] }))
  t.same(sent(h, 1).topics[0].partitions.map((p: any) => p.partitionIndex), [1])
  h.route.answer(1, { ...dr.response.create(), topics: [{ ...dr.response.structs.DeleteRecordsTopicResult!(), name: 'orders', partitions: [{ ...dr.response.structs.DeleteRecordsPartitionResult!(), partitionIndex: 1 }] }] })
  const oc = getApi(ApiKey.OffsetCommit)
  h.socket.send(request(ApiKey.OffsetCommit, 9, 4, { ...oc.request.create(), groupId: 'g', topics: [{ ...oc.request.structs.OffsetCommitRequestTopic!(), name: 'orders', partitions: [0, 7].map(partitionIndex => ({ ...oc.request.structs.OffsetCommitRequestPartition!(), partitionIndex, committedOffset: 1n })) }] }))
  t.same(sent(h, 2).topics[0].partitions.map((p: any) => p.partitionIndex), [0])
  h.route.answer(2, { ...oc.response.create(), topics: [{ ...oc.response.structs.OffsetCommitResponseTopic!(), name: 'orders', partitions: [{ ...oc.response.structs.OffsetCommitResponsePartition!(), partitionIndex: 0 }] }] })
  const of = getApi(ApiKey.OffsetFetch)
  h.socket.send(request(ApiKey.OffsetFetch, 7, 5, { ...of.request.create(), groupId: 'g', topics: [{ ...of.request.structs.OffsetFetchRequestTopic!(), name: 'orders', partitionIndexes: [4, 0] }] }))
  t.same(sent(h, 3).topics[0].partitionIndexes, [0])
  h.route.answer(3, { ...of.response.create(), topics: [{ ...of.response.structs.OffsetFetchResponseTopic!(), name: 'orders', partitions: [{ ...of.response.structs.OffsetFetchResponsePartition!(), partitionIndex: 0, committedOffset: 3n }] }] })
  const [l, e, d, c, f] = h.socket.responses()
  t.same(slots(decoded(l!, ApiKey.ListOffsets, 9).body, 'topics', 'partitions', 'partitionIndex'), [['orders', 0, 0], ['orders', 2, E29], ['orders', 1, 0]])
  t.same(slots(decoded(e!, ApiKey.OffsetForLeaderEpoch, 4).body, 'topics', 'partitions', 'partition', 'topic'), [['orders', 3, E29]])
  t.same(slots(decoded(d!, ApiKey.DeleteRecords, 2).body, 'topics', 'partitions', 'partitionIndex'), [['orders', 1, 0], ['orders', 5, E29]])
  t.same(slots(decoded(c!, ApiKey.OffsetCommit, 9).body, 'topics', 'partitions', 'partitionIndex'), [['orders', 0, 0], ['orders', 7, E29]])
  t.same(slots(decoded(f!, ApiKey.OffsetFetch, 7).body, 'topics', 'partitions', 'partitionIndex'), [['orders', 4, E29], ['orders', 0, 0]])
  t.equal(h.route.forwarded.length, 4, 'the OffsetForLeaderEpoch with only a denied partition never went upstream')
})

t.test('ListGroups: groups the principal may not Describe are left out', async t => {
  const h = aclHarness(ALICE_BOB)
  const lg = getApi(ApiKey.ListGroups)
  h.socket.send(request(ApiKey.ListGroups, 4, 1, { ...lg.request.create(), statesFilter: [] }))
  h.route.answer(0, { ...lg.response.create(), groups: ['orders-a', 'payments'].map(groupId => ({ ...lg.response.structs.ListedGroup!(), groupId, protocolType: 'consumer' })) })
  const [r] = h.socket.responses().map(p => decoded(p, ApiKey.ListGroups, 4).body)
  t.same(r!.groups.map((g: any) => g.groupId), ['orders-a'])
})

t.test('a super user and a principal from SASL or a certificate (with or without User:)', async t => {
  const h = aclHarness({ superUsers: ['User:admin'], rules: [] }, { principal: 'User:admin' })
  h.socket.send(request(P, 12, 1, produce([['anything', [0, 1]]])))
  t.equal(h.route.forwarded.length, 1)
  t.equal(h.route.forwarded[0]!.frames, null)
  const anon = aclHarness({ rules: [{ allow: ['Write'], principal: 'User:ANONYMOUS', topic: 'open' }] }, { principal: null })
  anon.socket.send(request(P, 12, 1, produce([['open', [0]], ['closed', [0]]])))
  t.same(sent(anon, 0).topicData.map((x: any) => x.name), ['open'])
})

t.test('FindCoordinator v4+: a group the principal may not Describe gets 30 in its own slot', async t => {
  const h = aclHarness(ALICE_BOB)
  const fc = getApi(ApiKey.FindCoordinator)
  h.socket.send(request(ApiKey.FindCoordinator, 6, 1, { ...fc.request.create(), keyType: 0, coordinatorKeys: ['orders-a', 'payments'] }))
  t.same(sent(h, 0).coordinatorKeys, ['orders-a'])
  h.route.answer(0, { ...fc.response.create(), coordinators: [{ ...fc.response.structs.Coordinator!(), key: 'orders-a', nodeId: 1, host: 'b1', port: 9092 }] })
  h.socket.send(request(ApiKey.FindCoordinator, 6, 2, { ...fc.request.create(), keyType: 0, coordinatorKeys: ['payments'] }))
  t.equal(h.route.forwarded.length, 1, 'a request with only denied keys never goes upstream')
  const [a, b] = h.socket.responses().map(p => decoded(p, ApiKey.FindCoordinator, 6).body)
  t.same(a!.coordinators.map((c: any) => [c.key, c.errorCode]), [['orders-a', 0], ['payments', ErrorCode.GROUP_AUTHORIZATION_FAILED]])
  t.same(b!.coordinators.map((c: any) => [c.key, c.errorCode]), [['payments', ErrorCode.GROUP_AUTHORIZATION_FAILED]])
})

t.test('OffsetFetch v8+: a group asking for all its topics gets only those the principal may Describe', async t => {
  const h = aclHarness({ rules: [{ allow: ['Describe'], principal: 'User:alice', group: '*' }, { allow: ['Describe'], principal: 'User:alice', topic: 'orders' }] })
  const of = getApi(ApiKey.OffsetFetch)
  const g = (groupId: string, topics: any): any => ({ ...of.request.structs.OffsetFetchRequestGroup!(), groupId, topics })
  h.socket.send(request(ApiKey.OffsetFetch, 9, 1, { ...of.request.create(), groups: [g('a', null), g('b', [{ ...of.request.structs.OffsetFetchRequestTopics!(), name: 'orders', partitionIndexes: [0] }])] }))
  const rt = (name: string): any => ({ ...of.response.structs.OffsetFetchResponseTopics!(), name, partitions: [] })
  h.route.answer(0, { ...of.response.create(), groups: [{ ...of.response.structs.OffsetFetchResponseGroup!(), groupId: 'a', topics: [rt('orders'), rt('secret')] }, { ...of.response.structs.OffsetFetchResponseGroup!(), groupId: 'b', topics: [rt('orders')] }] })
  const [r] = h.socket.responses().map(p => decoded(p, ApiKey.OffsetFetch, 9).body)
  t.same(r!.groups.map((x: any) => [x.groupId, x.topics.map((y: any) => y.name)]), [['a', ['orders']], ['b', ['orders']]])
})
