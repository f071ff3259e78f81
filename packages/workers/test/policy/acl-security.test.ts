// Attempts to get around the ACLs: every one is refused, counted, and nothing denied reaches the
// (scripted) upstream.
import t from 'tap'
import { decodeRequest, ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decoded, request, tick } from '../session/session-harness.ts'
import { aclHarness, fetch, fetchAnswer, produce, produceAnswer, sent } from './acl-test-kit.ts'
import type { AclHarness } from './acl-test-kit.ts'

const P = ApiKey.Produce
const F = ApiKey.Fetch
const E29 = ErrorCode.TOPIC_AUTHORIZATION_FAILED
// alice may write partitions 0-3 of orders and read 0-3; nothing else (default deny)
const RULES = {
  rules: [
    { allow: ['Write', 'Read'], principal: 'User:alice', topic: 'orders', partitions: ['0-3'] }
  ]
}

// every (topic, partition) that went upstream in Produce / Fetch requests
function upstreamPartitions (h: AclHarness): string[] {
  const out: string[] = []
  for (const f of h.route.forwarded) {
    const { apiKey, body } = decodeRequest(f.payload, 'decodable') as any
    const topics = apiKey === P ? body.topicData : body.topics
    for (const tp of topics) {
      const parts = apiKey === P ? tp.partitionData.map((p: any) => p.index) : tp.partitions.map((p: any) => p.partition)
      for (const p of parts) out.push(`${tp.name ?? tp.topic ?? ''}|${tp.topicId}|${p}`)
    }
  }
  return out
}

t.test('a denied partition inside a request with allowed ones never goes upstream', async t => {
  const h = aclHarness(RULES)
  h.socket.send(request(P, 12, 1, produce([['orders', [3, 4]]])))
  h.socket.send(request(F, 12, 2, fetch([['orders', [4, 0]]])))
  t.same(upstreamPartitions(h).map(x => x.split('|')[2]), ['3', '0'])
  t.same(h.denials(), { 'User:alice Write topic': 1, 'User:alice Read topic': 1 })
})

t.test('the same topic twice in one request: every occurrence is checked', async t => {
  const h = aclHarness(RULES)
  h.socket.send(request(P, 12, 1, produce([['orders', [0]], ['orders', [5]], ['orders', [1, 6]]])))
  h.socket.send(request(F, 12, 2, fetch([['orders', [2]], ['orders', [7]]])))
  t.same(upstreamPartitions(h).map(x => x.split('|')[2]), ['0', '1', '2'])
  h.route.answer(0, produceAnswer(sent(h, 0)))
  h.route.answer(1, fetchAnswer(sent(h, 1)))
  const [pr, fr] = h.socket.responses()
  t.same(decoded(pr!, P, 12).body.responses.map((x: any) => [x.name, x.partitionResponses.map((p: any) => [p.index, p.errorCode])]),
    [['orders', [[0, 0]]], ['orders', [[5, E29]]], ['orders', [[1, 0], [6, E29]]]], 'answers in the client\'s slots')
  t.same(decoded(fr!, F, 12).body.responses.map((x: any) => [x.topic, x.partitions.map((p: any) => [p.partitionIndex, p.errorCode])]),
    [['orders', [[2, 0]]], ['orders', [[7, E29]]]])
  t.same(h.denials(), { 'User:alice Write topic': 2, 'User:alice Read topic': 1 })
})

t.test('topic ids instead of names (Produce v13, Fetch v13+): resolved before the check; unknown or zero ids never go upstream', async t => {
  const ordersId = 'b3JkZXJzb3JkZXJzb3JkZQ'
  const secretId = 'c2VjcmV0c2VjcmV0c2VjcQ'
  let lookups = 0
  const h = aclHarness(RULES, { lookup: async () => { lookups++; return [{ name: 'orders', id: ordersId }, { name: 'secret', id: secretId }] } })
  h.socket.send(request(P, 13, 1, produce([['orders', [0, 4]], ['secret', [0]]], -1, { ids: { orders: ordersId, secret: secretId } })))
  await tick()
  await tick()
  t.equal(lookups, 1, 'the ids were looked up upstream')
  t.same(upstreamPartitions(h), [`|${ordersId}|0`])
  h.route.answer(0, produceAnswer(sent(h, 0)))
  for (const v of [13, 15, 17, 18]) h.socket.send(request(F, v, 10 + v, fetch([['secret', [0]], ['orders', [5]]], { ids: { secret: secretId, orders: ordersId } })))
  // the zero id with no name, and ids nobody knows
  h.socket.send(request(P, 13, 30, produce([['x', [0]]], -1, { ids: { x: 'AAAAAAAAAAAAAAAAAAAAAA' } })))
  h.socket.send(request(F, 17, 31, fetch([['y', [0]]], { ids: { y: 'eXl5eXl5eXl5eXl5eXl5eQ' } })))
  await tick()
  await tick()
  t.same(upstreamPartitions(h), [`|${ordersId}|0`], 'nothing else went upstream')
  const answers = h.socket.responses()
  t.equal(answers.length, 7, 'every request was answered')
  const last = decoded(answers[6]!, F, 17).body
  t.equal(last.responses[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_ID)
  t.ok((h.denials()['User:alice Read topic'] ?? 0) >= 9)
})

t.test('mixed-case and unicode look-alike names are other names: denied', async t => {
  const h = aclHarness(RULES)
  const lookalikes = ['Orders', 'ORDERS', '\u043erders', 'orders\u200b', 'orders ', ' orders', 'ordérs', 'orders\u0000']
  for (const [i, name] of lookalikes.entries()) h.socket.send(request(P, 12, i + 1, produce([[name, [0]]])))
  t.equal(h.route.forwarded.length, 0)
  const answers = h.socket.responses().map(p => decoded(p, P, 12).body)
  t.same(answers.map(a => [a.responses[0].name, a.responses[0].partitionResponses[0].errorCode]), lookalikes.map(n => [n, E29]))
  t.same(h.denials(), { 'User:alice Write topic': lookalikes.length })
})

t.test('a huge number of partitions in one request', async t => {
  const h = aclHarness(RULES)
  const parts = Array.from({ length: 50_000 }, (_, i) => i)
  h.socket.send(request(P, 12, 1, produce([['orders', parts]], -1, { records: Buffer.alloc(0) })))
  t.same(upstreamPartitions(h).map(x => x.split('|')[2]), ['0', '1', '2', '3'])
  h.route.answer(0, produceAnswer(sent(h, 0)))
  const [r] = h.socket.responses().map(p => decoded(p, P, 12).body)
  const slots = r!.responses[0].partitionResponses
  t.equal(slots.length, 50_000, 'every partition answered')
  t.ok(slots.every((p: any, i: number) => p.index === i && p.errorCode === (i < 4 ? 0 : E29)), 'in order, denied ones 29')
  t.same(h.denials(), { 'User:alice Write topic': 49_996 })
})

t.test('old API versions are checked the same way', async t => {
  const h = aclHarness(RULES)
  let cid = 1
  const produceApi = getApi(P)
  const fetchApi = getApi(F)
  const pVersions: number[] = []
  const fVersions: number[] = []
  for (let v = 0; v <= 12; v++) if (produceApi.decodes(v)) pVersions.push(v)
  for (let v = 0; v <= 12; v++) if (fetchApi.decodes(v)) fVersions.push(v)
  t.ok(pVersions.includes(0) && pVersions.includes(3), 'bridged Produce v0 and the oldest current version')
  for (const v of pVersions) h.socket.send(request(P, v, cid++, produce([['orders', [7]], ['secret', [0]]], 1)))
  for (const v of fVersions) h.socket.send(request(F, v, cid++, fetch([['orders', [6]]])))
  const lo = getApi(ApiKey.ListOffsets).request
  h.socket.send(request(ApiKey.ListOffsets, 0, cid++, { ...lo.create(), replicaId: -1, topics: [{ ...lo.structs.ListOffsetsTopic!(), name: 'secret', partitions: [{ ...lo.structs.ListOffsetsPartition!(), partitionIndex: 0, timestamp: -1n, maxNumOffsets: 1 }] }] }))
  const md = getApi(ApiKey.Metadata).request
  h.socket.send(request(ApiKey.Metadata, 0, cid++, { ...md.create(), topics: [{ ...md.structs.MetadataRequestTopic!(), name: 'secret' }] }))
  t.equal(h.route.forwarded.length, 0, 'nothing reached the upstream')
  t.equal(h.socket.responses().length, pVersions.length + fVersions.length + 2, 'each one answered')
  t.equal(h.denials()['User:alice Write topic'], pVersions.length * 2)
  t.equal(h.denials()['User:alice Read topic'], fVersions.length)
})

t.test('a rules change applies to the next request of an open connection', async t => {
  const h = aclHarness(RULES)
  h.socket.send(request(P, 12, 1, produce([['orders', [0]]])))
  t.equal(h.route.forwarded.length, 1)
  h.route.answer(0, produceAnswer(sent(h, 0)))
  h.state.apply({ file: { acl: { rules: [] } } as any, baseDir: '.' })
  h.socket.send(request(P, 12, 2, produce([['orders', [0]]])))
  t.equal(h.route.forwarded.length, 1, 'refused under the new rules')
})

t.test('SaslHandshake v0 (which would make the connection an opaque relay past the filters) is refused', async t => {
  const h = aclHarness(RULES)
  const sh = getApi(ApiKey.SaslHandshake).request
  h.socket.send(request(ApiKey.SaslHandshake, 0, 1, { ...sh.create(), mechanism: 'PLAIN' }))
  h.socket.send(request(P, 12, 2, produce([['orders', [9]]])))
  t.equal(h.route.forwarded.length, 0, 'nothing went upstream')
  t.equal(h.route.passthroughOn, false, 'no relay')
  const [hs, pr] = h.socket.responses()
  t.equal(decoded(hs!, ApiKey.SaslHandshake, 0).body.errorCode, ErrorCode.UNSUPPORTED_VERSION)
  t.equal(decoded(pr!, P, 12).body.responses[0].partitionResponses[0].errorCode, E29, 'the next request is still checked')
  t.equal(h.denials()['User:alice SaslHandshakeV0 cluster'], 1)
  h.socket.send(request(ApiKey.SaslHandshake, 1, 3, { ...sh.create(), mechanism: 'PLAIN' }))
  t.equal(h.route.forwarded.length, 1, 'v1 is an ordinary request')
})

t.test('a malformed Produce (lying counts, cut records) never reaches the upstream', async t => {
  for (const cut of [1, 5, 40, 80]) {
    const h = aclHarness(RULES)
    const whole = Buffer.concat(request(P, 9, 1, produce([['orders', [0, 1]]])))
    const body = whole.subarray(4, whole.length - cut)
    const frame = Buffer.alloc(4 + body.length)
    frame.writeInt32BE(body.length, 0)
    body.copy(frame, 4)
    h.socket.send([frame])
    t.equal(h.route.forwarded.length, 0, `cut ${cut} bytes: not forwarded`)
  }
  // a partition count far beyond what the frame holds
  const h = aclHarness(RULES)
  const whole = Buffer.concat(request(P, 8, 1, produce([['orders', [0]]])))
  const at = whole.indexOf(Buffer.from('orders')) + 6
  whole.writeInt32BE(0x7fffffff, at)
  h.socket.send([whole])
  t.equal(h.route.forwarded.length, 0, 'a lying partition count: not forwarded')
})

t.test('a connection whose principal changes (re-authentication as someone else) is decided for the new one', async t => {
  const { createAclFilter } = await import('../../src/policy/acl-filter.ts')
  const { AclState } = await import('../../src/policy/acl-state.ts')
  const { TopicIdDirectory } = await import('../../src/policy/acl-topic-ids.ts')
  const { RequestView } = await import('../../src/filters/request-view.ts')
  const { MetricsRegistry } = await import('@kproxy/core/metrics/metrics-registry')
  const pino = (await import('pino')).default
  const logger = pino({ level: 'silent' })
  const state = new AclState(logger)
  state.apply({ file: { acl: RULES } as any, baseDir: '.' }, true)
  const filter = createAclFilter({ state, topicIds: new TopicIdDirectory(null), metrics: new MetricsRegistry(), logger })
  let principal = 'alice'
  const connection: any = { id: 1, workerId: 1, peer: { address: 'x', port: 1 }, listener: { name: 'broker', port: 1, tls: true }, get principal () { return principal }, clientId: null, clientSoftwareName: null, clientSoftwareVersion: null, attributes: new Map(), throttle () {} }
  const view = (): any => {
    const payload = Buffer.concat(request(P, 12, 1, produce([['orders', [0]]]))).subarray(4)
    return new RequestView(connection, { size: payload.length, chunks: [payload], prefix: Buffer.alloc(4) } as any, P, 12, 1, true)
  }
  t.equal(filter.onRequest!(view()), undefined, 'alice may write partition 0')
  principal = 'mallory'
  const verdict = filter.onRequest!(view()) as any
  t.equal(verdict?.kind, 'respond', 'mallory, on the same connection, may not')
})
