import t from 'tap'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { deniedResponse, inVersions, naturalAuthorizationError } from '../../src/filters/error-response.ts'

const brokers = [{ nodeId: 1, host: 'proxy', port: 30001 }]

function req (apiKey: number, version: number, body: Record<string, unknown>): Buffer {
  return Buffer.concat(encodeRequest({ apiKey, apiVersion: version, correlationId: 55, clientId: 'c' }, { ...getApi(apiKey).request.create(), ...body })).subarray(4)
}

function deny (apiKey: number, version: number, body: Record<string, unknown> = {}): any {
  const r = deniedResponse(req(apiKey, version, body), brokers)
  if (r === null) return null
  const d = decodeResponse(Buffer.concat(r.frame).subarray(4), apiKey, version)
  if (d.header.correlationId !== 55) throw new Error('correlation id')
  return { code: r.errorCode, body: d.body }
}

const s = (apiKey: number, name: string, f: Record<string, unknown>): any => ({ ...getApi(apiKey).request.structs[name]!(), ...f })

t.test('version specs', async t => {
  t.ok(inVersions('0+', 3))
  t.ok(inVersions('2-7', 7))
  t.notOk(inVersions('2-7', 8))
  t.ok(inVersions('3', 3))
  t.notOk(inVersions('none', 0))
  t.notOk(inVersions(undefined, 0))
})

t.test('top-level error codes with the natural authorization error', async t => {
  t.equal(deny(11, 5, { groupId: 'g', protocolType: 'consumer', protocols: [] }).body.errorCode, 30, 'JoinGroup: GROUP_AUTHORIZATION_FAILED')
  t.equal(deny(22, 4, { transactionalId: 't' }).body.errorCode, 53, 'InitProducerId: TRANSACTIONAL_ID_AUTHORIZATION_FAILED')
  t.equal(deny(60, 1, {}).body.errorCode, 31, 'DescribeCluster: CLUSTER_AUTHORIZATION_FAILED')
  t.equal(deny(18, 3, { clientSoftwareName: 'a', clientSoftwareVersion: '1' }).body.errorCode, 31, 'ApiVersions')
  t.equal(naturalAuthorizationError(10), 30)
})

t.test('per-entity errors', async t => {
  const produce = deny(0, 12, { acks: -1, topicData: [s(0, 'TopicProduceData', { name: 't', partitionData: [{ index: 0, records: null }, { index: 2, records: null }] })] })
  t.same(produce.body.responses[0].partitionResponses.map((p: any) => [p.index, p.errorCode]), [[0, 29], [2, 29]])
  const md = deny(3, 12, { topics: [s(3, 'MetadataRequestTopic', { name: 'a' }), s(3, 'MetadataRequestTopic', { name: 'b' })] })
  t.same(md.body.topics.map((x: any) => [x.name, x.errorCode]), [['a', 29], ['b', 29]])
  t.same(md.body.brokers.map((b: any) => [b.nodeId, b.host, b.port]), [[1, 'proxy', 30001]], 'advertised brokers, not real ones')
  const fetch6 = deny(1, 6, { topics: [s(1, 'FetchTopic', { topic: 't', partitions: [s(1, 'FetchPartition', { partition: 3 })] })] })
  t.same(fetch6.body.responses[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode]), [[3, 29]])
  const fetch17 = deny(1, 17, { topics: [] })
  t.equal(fetch17.body.errorCode, 31, 'Fetch v7+: top-level error')
  const lo = deny(2, 9, { topics: [s(2, 'ListOffsetsTopic', { name: 't', partitions: [s(2, 'ListOffsetsPartition', { partitionIndex: 1 })] })] })
  t.same(lo.body.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode]), [[1, 29]])
  const oc = deny(8, 9, { groupId: 'g', topics: [s(8, 'OffsetCommitRequestTopic', { name: 't', partitions: [s(8, 'OffsetCommitRequestPartition', { partitionIndex: 0 })] })] })
  t.same(oc.body.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode]), [[0, 30]])
  const of1 = deny(9, 1, { groupId: 'g', topics: [s(9, 'OffsetFetchRequestTopic', { name: 't', partitionIndexes: [0, 1] })] })
  t.same(of1.body.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode]), [[0, 30], [1, 30]])
  const of9 = deny(9, 9, { groups: [s(9, 'OffsetFetchRequestGroup', { groupId: 'g' })] })
  t.same(of9.body.groups.map((g: any) => [g.groupId, g.errorCode]), [['g', 30]])
  const ct = deny(19, 7, { topics: [s(19, 'CreatableTopic', { name: 'x' })] })
  t.same(ct.body.topics.map((x: any) => [x.name, x.errorCode]), [['x', 29]])
  const dt5 = deny(20, 5, { topicNames: ['x', 'y'] })
  t.same(dt5.body.responses.map((x: any) => [x.name, x.errorCode]), [['x', 29], ['y', 29]])
  const dt6 = deny(20, 6, { topics: [s(20, 'DeleteTopicState', { name: 'z' })] })
  t.same(dt6.body.responses.map((x: any) => [x.name, x.errorCode]), [['z', 29]])
})

t.test('no sensible response: null (the connection is closed)', async t => {
  t.equal(deny(32, 4, { resources: [] }), null, 'DescribeConfigs')
  t.equal(deny(37, 3, { topics: [] }), null, 'CreatePartitions')
})
