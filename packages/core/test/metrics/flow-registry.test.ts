// Flow counters from real encoded Produce/Fetch frames: bytes per (client, topic) and per
// partition, errors from responses, topic ids resolved to names, the cap and its `other` row, and
// the merge of several workers' snapshots.
import t from 'tap'
import { encodeRequest, encodeResponse } from '../../src/protocol/codec.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import type { Frame } from '../../src/protocol/frame-reader.ts'
import { FlowRegistry, OTHER } from '../../src/metrics/flow-registry.ts'
import type { FlowClientKey, FlowRow } from '../../src/metrics/flow-registry.ts'
import { mergeFlows } from '../../src/metrics/flow-merge.ts'

function frame (chunks: Buffer[]): Frame {
  const payload = Buffer.concat(chunks).subarray(4)
  return { size: payload.length, chunks: [payload] }
}

function produce (version: number, topics: Array<[string, Array<[number, number]>]>, clientId = 'app'): Frame {
  return frame(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: version, correlationId: 1, clientId }, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: topics.map(([topic, parts]) => ({
      name: version < 13 ? topic : '',
      topicId: version >= 13 ? topic : 'AAAAAAAAAAAAAAAAAAAAAA',
      partitionData: parts.map(([index, n]) => ({ index, records: Buffer.alloc(n, 1) }))
    }))
  }))
}

function produceResponse (version: number, topics: Array<[string, Array<[number, number]>]>): Frame {
  return frame(encodeResponse(ApiKey.Produce, version, { correlationId: 1 }, {
    throttleTimeMs: 5,
    nodeEndpoints: [],
    responses: topics.map(([name, parts]) => ({
      name,
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitionResponses: parts.map(([index, errorCode]) => ({ index, errorCode, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } }))
    }))
  }))
}

function fetch (version: number, topics: Array<[string, Array<[number, number, number]>]>): Frame {
  return frame(encodeResponse(ApiKey.Fetch, version, { correlationId: 1 }, {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    nodeEndpoints: [],
    responses: topics.map(([topic, parts]) => ({
      topic: version < 13 ? topic : '',
      topicId: version >= 13 ? topic : 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: parts.map(([partitionIndex, n, errorCode]) => ({
        partitionIndex, errorCode, highWatermark: 0n, lastStableOffset: -1n, logStartOffset: -1n,
        divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: { endOffset: -1n, epoch: -1 },
        abortedTransactions: null, preferredReadReplica: -1, records: n < 0 ? null : Buffer.alloc(n, 2)
      }))
    }))
  }))
}

const key = (clientId: string, target = 'broker-1'): FlowClientKey => ({ principal: 'CN=app', clientId, softwareName: 'kcat', softwareVersion: '1.7', target })
const byTopic = (rows: FlowRow[]): Record<string, number[]> => Object.fromEntries(rows.map(r => [`${r[1]}/${r[5]}@${r[4]}`, r.slice(6) as number[]]))

t.test('bytes, requests and errors per client and topic, and per partition', async t => {
  const flows = new FlowRegistry()
  const app = flows.client(key('app'))
  t.equal(flows.client(key('app')), app, 'the same handle for the same key')
  t.ok(flows.produce(app, produce(9, [['orders', [[0, 100], [1, 50]]], ['audit', [[0, 7]]]]), 9))
  t.ok(flows.produce(app, produce(3, [['orders', [[0, 10]]]]), 3))
  t.ok(flows.produceResponse(app, produceResponse(9, [['orders', [[0, 0], [1, 6]]]]), 9))
  t.equal(flows.lastThrottleTimeMs, 5)
  const other = flows.client(key('reader', 'broker-2'))
  t.ok(flows.fetch(other, fetch(12, [['orders', [[0, 300, 0], [1, -1, 1]]]]), 12))
  const snap = flows.snapshot()
  t.same(byTopic(snap.flows), {
    'app/orders@broker-1': [160, 0, 2, 1],
    'app/audit@broker-1': [7, 0, 1, 0],
    'reader/orders@broker-2': [0, 300, 1, 1]
  })
  t.same(snap.flows.find(r => r[1] === 'app'), ['CN=app', 'app', 'kcat', '1.7', 'broker-1', 'orders', 160, 0, 2, 1])
  t.same(snap.partitions.sort(), [['audit', 0, 7, 0, 0], ['orders', 0, 110, 300, 0], ['orders', 1, 50, 0, 2]])
  t.same(snap.overflow, { flows: 0, partitions: 0 })
})

t.test('topics named by id show their name once a Metadata response told it', async t => {
  const flows = new FlowRegistry()
  const c = flows.client(key('app'))
  const id = Buffer.alloc(16, 7).toString('base64url')
  flows.produce(c, produce(13, [[id, [[0, 10]]]]), 13)
  t.same(flows.snapshot().flows.map(r => r[5]), [`topic-id:${id}`])
  flows.topicName(id, 'orders')
  flows.fetch(c, fetch(13, [[id, [[0, 5, 0]]]]), 13)
  t.same(flows.snapshot().flows.map(r => [r[5], r[6], r[7]]), [['orders', 10, 5]])
  t.same(flows.snapshot().partitions, [['orders', 0, 10, 5, 0]])
})

t.test('a frame that does not parse counts nothing and returns false', async t => {
  const flows = new FlowRegistry()
  const c = flows.client(key('app'))
  const good = produce(9, [['orders', [[0, 10]]]])
  t.notOk(flows.produce(c, { size: good.size - 3, chunks: [good.chunks[0]!.subarray(0, good.size - 3)] }, 9))
  t.notOk(flows.fetch(c, good, 2), 'version outside Fetch 4-18')
})

t.test('10,000 client ids: the table stays within maxFlows, the rest is `other`, warned once', async t => {
  const warnings: string[] = []
  const flows = new FlowRegistry({ maxFlows: 50, maxPartitions: 20, onOverflow: (table, cap) => warnings.push(`${table}:${cap}`) })
  for (let i = 0; i < 10_000; i++) {
    const c = flows.client(key(`client-${i}`))
    flows.produce(c, produce(9, [[`topic-${i % 30}`, [[i % 40, 1]]]]), 9)
  }
  const snap = flows.snapshot()
  t.ok(snap.flows.length <= 50, `${snap.flows.length} flows`)
  const other = snap.flows.find(r => r[5] === OTHER)!
  t.equal(snap.flows.reduce((n, r) => n + r[6], 0), 10_000, 'every byte is counted somewhere')
  t.ok(other[6] >= 10_000 - 49, 'most went to `other`')
  t.equal(snap.partitions.length, 20)
  t.ok(snap.overflow.flows > 0 && snap.overflow.partitions > 0)
  t.same(warnings.sort(), ['flows:50', 'partitions:20'])
})

t.test('snapshots of several workers merge by key', async t => {
  const a = new FlowRegistry()
  const b = new FlowRegistry()
  a.produce(a.client(key('app')), produce(9, [['orders', [[0, 10]]]]), 9)
  b.produce(b.client(key('app')), produce(9, [['orders', [[0, 5]]], ['x', [[0, 1]]]]), 9)
  const m = mergeFlows([a.snapshot(), undefined, b.snapshot()])
  t.same(byTopic(m.flows), { 'app/orders@broker-1': [15, 0, 2, 0], 'app/x@broker-1': [1, 0, 1, 0] })
  t.same(m.partitions.sort(), [['orders', 0, 15, 0, 0], ['x', 0, 1, 0, 0]])
})

t.test('a topic id one worker knows names the rows of another', async t => {
  const a = new FlowRegistry()
  const b = new FlowRegistry()
  const id = Buffer.alloc(16, 9).toString('base64url')
  a.topicName(id, 'orders')
  b.produce(b.client(key('java')), produce(13, [[id, [[0, 10]]]]), 13)
  t.same(b.snapshot().flows.map(r => r[5]), [`topic-id:${id}`], 'b alone does not know it')
  const m = mergeFlows([a.snapshot(), b.snapshot()])
  t.same(m.flows.map(r => r[5]), ['orders'])
  t.same(m.partitions, [['orders', 0, 10, 0, 0]])
  t.same(m.topicNames, [[id, 'orders']], 'kept for the next merge (a dead worker\'s folded snapshot)')
})
