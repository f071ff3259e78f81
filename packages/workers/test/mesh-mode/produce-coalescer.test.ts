// The coalescer's grouping, on a recording connection (what goes into which upstream request and
// how an answer is split back); that Kafka accepts the requests is the integration tests' part.
import t from 'tap'
import { setImmediate as tick } from 'node:timers/promises'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeRequest, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { ProduceCoalescer } from '../../src/mesh-mode/produce-coalescer.ts'
import { noopMeshMetrics } from '../../src/mesh-mode/mesh-metrics.ts'
import type { MeshCluster } from '../../src/mesh-mode/mesh-cluster.ts'

interface SentRequest { target: unknown, tag: unknown, body: any }

function recordingCluster (): { cluster: MeshCluster, sent: SentRequest[] } {
  const sent: SentRequest[] = []
  const conn = {
    send (target: unknown, tag: unknown, _frame: unknown, frames: Buffer[]) {
      sent.push({ target, tag, body: decodeRequest(Buffer.concat(frames).subarray(4)).body })
    },
    flush () {}
  }
  return { cluster: { name: 'x', shared: () => conn } as unknown as MeshCluster, sent }
}

const records = (n: number): Buffer => Buffer.alloc(n, 1)
const produce = (acks: number, topics: Array<[string, number[]]>, transactionalId: string | null = null): any => ({
  ...getApi(ApiKey.Produce).request.create(),
  transactionalId,
  acks,
  timeoutMs: 30000,
  topicData: topics.map(([name, parts]) => ({ ...getApi(ApiKey.Produce).request.structs.TopicProduceData!(), name, partitionData: parts.map(index => ({ index, records: records(10) })) }))
})

t.test('parts of one turn share a request; a repeated partition goes to the next one', async t => {
  const { cluster, sent } = recordingCluster()
  const c = new ProduceCoalescer(cluster, 1, 0, noopMeshMetrics)
  const answers: any[] = []
  c.add(9, produce(1, [['a', [0, 1]]]), a => answers.push(['m1', a]), 'c1')
  c.add(9, produce(1, [['a', [2]], ['b', [0]]]), a => answers.push(['m2', a]), 'c2')
  c.add(9, produce(1, [['a', [0]]]), a => answers.push(['m3', a]), 'c1') // a-0 again: next request
  c.add(9, produce(-1, [['a', [3]]]), a => answers.push(['m4', a]), 'c3') // other acks: own group
  c.add(9, produce(1, [['b', [1]]], 'tx'), a => answers.push(['m5', a]), 'c4') // transactional: alone
  await tick()
  t.equal(sent.length, 4, '5 client parts -> 4 upstream requests')
  t.same(sent[0]!.body.topicData.map((x: any) => [x.name, x.partitionData.map((p: any) => p.index)]), [['a', [0, 1, 2]], ['b', [0]]])
  t.same(sent[1]!.body.topicData.map((x: any) => [x.name, x.partitionData.map((p: any) => p.index)]), [['a', [0]]], 'a-0 of the third part in a later request')
  t.equal(sent[2]!.body.acks, -1)
  t.equal(sent[3]!.body.transactionalId, 'tx')

  // the first request's answer, split back into m1 and m2
  const s = getApi(ApiKey.Produce).response.structs
  const answer = {
    ...getApi(ApiKey.Produce).response.create(),
    responses: [
      { ...s.TopicProduceResponse!(), name: 'a', partitionResponses: [0, 1, 2].map(index => ({ ...s.PartitionProduceResponse!(), index, baseOffset: BigInt(index * 100) })) },
      { ...s.TopicProduceResponse!(), name: 'b', partitionResponses: [{ ...s.PartitionProduceResponse!(), index: 0, baseOffset: 7n }] }
    ]
  }
  const frames = encodeResponse(ApiKey.Produce, 9, { correlationId: 0 }, answer)
  const payload = Buffer.concat(frames).subarray(4)
  c.upstreamResponse(sent[0]!.tag, { chunks: [payload], size: payload.length } as any)
  t.equal(answers.length, 2)
  const [m1, m2] = [answers.find(a => a[0] === 'm1')![1], answers.find(a => a[0] === 'm2')![1]]
  t.same(m1.responses.map((x: any) => [x.name, x.partitionResponses.map((p: any) => [p.index, p.baseOffset])]), [['a', [[0, 0n], [1, 100n]]]])
  t.same(m2.responses.map((x: any) => [x.name, x.partitionResponses.map((p: any) => [p.index, p.baseOffset])]), [['a', [[2, 200n]]], ['b', [[0, 7n]]]])

  // a lost request fails each of its members
  c.upstreamLost(sent[1]!.tag)
  t.same(answers.find(a => a[0] === 'm3')!.slice(1), [null])
})

t.test('acks=0 parts are sent without a target', async t => {
  const { cluster, sent } = recordingCluster()
  const c = new ProduceCoalescer(cluster, 1, 0, noopMeshMetrics)
  c.add(9, produce(0, [['a', [0]]]), null, 'c')
  c.add(9, produce(0, [['a', [1]]]), null, 'c')
  await tick()
  t.equal(sent.length, 1)
  t.equal(sent[0]!.target, null)
})
