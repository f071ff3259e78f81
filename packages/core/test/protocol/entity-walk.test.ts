import t from 'tap'
import { collectEntities } from '../../src/protocol/entity-walk.ts'
import { getApi } from '../../src/protocol/codec.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'

t.test('topics of a Produce request, in order', async t => {
  const api = getApi(ApiKey.Produce)
  const body = api.request.create()
  body.transactionalId = 'tx-1'
  body.topicData = [{ ...api.request.structs.TopicProduceData!(), name: 'a' }, { ...api.request.structs.TopicProduceData!(), name: 'b' }]
  t.same(collectEntities(api.request.schema, body, 'topicName', 12), ['a', 'b'])
  t.same(collectEntities(api.request.schema, body, 'transactionalId', 12), ['tx-1'])
  t.same(collectEntities(api.request.schema, body, 'groupId', 12), [])
  t.same(collectEntities(api.request.schema, body, 'topicName', 13), [], 'v13 names topics by id only')
})

t.test('version ranges as Kafka writes them', async t => {
  const { inVersions } = await import('../../src/protocol/entity-walk.ts')
  t.ok(inVersions('0+', 5)); t.ok(inVersions('2-7', 7)); t.notOk(inVersions('2-7', 8)); t.ok(inVersions('3', 3))
  t.notOk(inVersions('3', 4)); t.notOk(inVersions('none', 0)); t.notOk(inVersions(undefined, 0)); t.notOk(inVersions('', 0))
})

t.test('nested groups and topics (OffsetFetch v8+), and string arrays (DeleteTopics v0-5)', async t => {
  const of = getApi(ApiKey.OffsetFetch)
  const body = of.request.create()
  body.groups = [{ ...of.request.structs.OffsetFetchRequestGroup!(), groupId: 'g1', topics: [{ ...of.request.structs.OffsetFetchRequestTopics!(), name: 't1' }] }]
  t.same(collectEntities(of.request.schema, body, 'groupId', 8), ['g1'])
  t.same(collectEntities(of.request.schema, body, 'topicName', 8), ['t1'])
  const dt = getApi(ApiKey.DeleteTopics)
  const del = dt.request.create()
  del.topicNames = ['x', 'y']
  t.same(collectEntities(dt.request.schema, del, 'topicName', 5), ['x', 'y'])
})

t.test('null topics (Metadata: all topics) and non-objects are skipped', async t => {
  const md = getApi(ApiKey.Metadata)
  const body = md.request.create()
  body.topics = null
  t.same(collectEntities(md.request.schema, body, 'topicName', 12), [])
  t.same(collectEntities(md.request.schema, null, 'topicName', 12), [])
})
