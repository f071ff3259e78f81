// The coalescer's grouping, on a recording connection (what goes into which upstream request and
// how an answer is split back); that Kafka accepts the requests is the integration tests' part.
import t from 'tap'
import { setImmediate as tick } from 'node:timers/promises'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeRequest, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { ProduceCoalescer, produceDeadlineMs } from '../../src/mesh-mode/produce-coalescer.ts'
import type { CoalescedPart, ProduceAnswer } from '../../src/mesh-mode/produce-coalescer.ts'
import { ZERO_UUID } from '../../src/mesh-mode/mesh-cluster.ts'
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

interface TestPart extends CoalescedPart {
  answers: Array<[ProduceAnswer | null, string | null]>
}

// a part of `topics` (name, partition indexes), recording what it is told
function part (topics: Array<[string, number[]]>): TestPart {
  const p: TestPart = {
    slots: topics.flatMap(([name, indexes]) => indexes.map(index => ({ name, topicId: ZERO_UUID, data: { index, records: records(10) } }))),
    answers: [],
    answered (answer, error) { p.answers.push([answer, error]) }
  }
  return p
}

const indexesOf = (body: any): Array<[string, number[]]> => body.topicData.map((x: any) => [x.name, x.partitionData.map((p: any) => p.index)])

function encodedAnswer (topics: Array<[string, Array<[number, bigint]>]>): Frame {
  const s = getApi(ApiKey.Produce).response.structs
  const answer = {
    ...getApi(ApiKey.Produce).response.create(),
    responses: topics.map(([name, parts]) => ({ ...s.TopicProduceResponse!(), name, partitionResponses: parts.map(([index, baseOffset]) => ({ ...s.PartitionProduceResponse!(), index, baseOffset })) }))
  }
  const payload = Buffer.concat(encodeResponse(ApiKey.Produce, 9, { correlationId: 0 }, answer)).subarray(4)
  return { chunks: [payload], size: payload.length } as unknown as Frame
}

t.test('parts of one turn share a request; a repeated partition goes to the next one', async t => {
  const { cluster, sent } = recordingCluster()
  const c = new ProduceCoalescer(cluster, 1, 0, noopMeshMetrics)
  const m1 = part([['a', [0, 1]]])
  const m2 = part([['a', [2]], ['b', [0]]])
  const m3 = part([['a', [0]]]) // a-0 again: next request
  const m4 = part([['a', [3]]]) // other acks: own group
  const m5 = part([['b', [1]]]) // transactional: alone
  c.add(9, 1, 30000, null, 'c1', m1)
  c.add(9, 1, 30000, null, 'c2', m2)
  c.add(9, 1, 30000, null, 'c1', m3)
  c.add(9, -1, 30000, null, 'c3', m4)
  c.add(9, 1, 30000, 'tx', 'c4', m5)
  await tick()
  t.equal(sent.length, 4, '5 client parts -> 4 upstream requests')
  t.same(indexesOf(sent[0]!.body), [['a', [0, 1, 2]], ['b', [0]]])
  t.same(indexesOf(sent[1]!.body), [['a', [0]]], 'a-0 of the third part in a later request')
  t.equal(sent[2]!.body.acks, -1)
  t.equal(sent[3]!.body.transactionalId, 'tx')
  t.ok([m1, m2, m3, m4, m5].every(m => m.slots.every(s => s.data === null)), 'the parts let go of their records once encoded')

  // the first request's answer: each part finds its own partitions in it
  c.upstreamResponse(sent[0]!.tag, encodedAnswer([['a', [[0, 0n], [1, 100n], [2, 200n]]], ['b', [[0, 7n]]]]))
  t.equal(m1.answers.length, 1)
  t.equal(m2.answers.length, 1)
  const [a1] = m1.answers[0]!
  const [a2] = m2.answers[0]!
  t.same([a1!.partition('a', 0).baseOffset, a1!.partition('a', 1).baseOffset], [0n, 100n])
  t.same([a2!.partition('a', 2).baseOffset, a2!.partition('b', 0).baseOffset], [200n, 7n])
  t.equal(a1!.partition('c', 0), undefined, 'a topic the broker left out')
  t.equal(m3.answers.length, 0, 'the later request is still out')

  // a lost request fails each of its parts, once
  c.upstreamLost(sent[1]!.tag)
  t.same(m3.answers.map(a => a[0]), [null])
  c.upstreamResponse(sent[1]!.tag, encodedAnswer([['a', [[0, 5n]]]]))
  t.equal(m3.answers.length, 1, 'an answer after the loss is dropped')
  c.upstreamLost(sent[2]!.tag)
  c.upstreamLost(sent[3]!.tag)
  t.same([m4, m5].map(m => m.answers.length), [1, 1])
})

t.test('an answer with many topics and partitions is looked up through an index', async t => {
  const { cluster, sent } = recordingCluster()
  const c = new ProduceCoalescer(cluster, 1, 0, noopMeshMetrics)
  // 40 topics of 20 partitions, one part per partition
  const specs = Array.from({ length: 800 }, (_, i): [string, number] => [`t${i % 40}`, Math.floor(i / 40)])
  const parts = specs.map(([name, index]) => part([[name, [index]]]))
  for (const p of parts) c.add(9, 1, 30000, null, 'c', p)
  await tick()
  t.equal(sent.length, 1)
  c.upstreamResponse(sent[0]!.tag, encodedAnswer(Array.from({ length: 40 }, (_, ti) => [`t${ti}`, Array.from({ length: 20 }, (_, index): [number, bigint] => [index, BigInt(ti * 1000 + index)])])))
  t.same(parts.map((p, i) => p.answers[0]![0]!.partition(specs[i]![0], specs[i]![1]).baseOffset), specs.map(([name, index]) => BigInt(Number(name.slice(1)) * 1000 + index)))
  t.equal(parts[0]!.answers[0]![0]!.partition('t1', 20), undefined, 'a partition the broker left out')
})

t.test('a request not answered within its deadline fails its parts; the late answer is dropped', async t => {
  const { cluster, sent } = recordingCluster()
  const c = new ProduceCoalescer(cluster, 1, 0, noopMeshMetrics)
  const m = part([['a', [0]]])
  c.add(9, 1, 1000, null, 'c', m) // deadline: 1 s (the floor)
  await tick()
  t.equal(produceDeadlineMs(1000), 1000)
  t.equal(produceDeadlineMs(30000), 21000)
  await new Promise(resolve => setTimeout(resolve, 1100))
  t.equal(m.answers.length, 1)
  t.match(m.answers[0]![1], /did not answer within the deadline/)
  c.upstreamResponse(sent[0]!.tag, encodedAnswer([['a', [[0, 1n]]]]))
  t.equal(m.answers.length, 1)
})

t.test('acks=0 parts are sent without a target and never answered', async t => {
  const { cluster, sent } = recordingCluster()
  const c = new ProduceCoalescer(cluster, 1, 0, noopMeshMetrics)
  const m1 = part([['a', [0]]])
  c.add(9, 0, 30000, null, 'c', m1)
  c.add(9, 0, 30000, null, 'c', part([['a', [1]]]))
  await tick()
  t.equal(sent.length, 1)
  t.equal(sent[0]!.target, null)
  t.equal(m1.answers.length, 0)
})

t.test('no address for the broker fails the parts at once', async t => {
  const c = new ProduceCoalescer({ name: 'x', shared: () => null } as unknown as MeshCluster, 1, 0, noopMeshMetrics)
  const m = part([['a', [0]]])
  c.add(9, 1, 30000, null, 'c', m)
  await tick()
  t.match(m.answers, [[null, /no address known/]])
})

t.test('a part that throws on its answer does not keep the other parts of its request unanswered', async t => {
  const { cluster, sent } = recordingCluster()
  const c = new ProduceCoalescer(cluster, 1, 0, noopMeshMetrics)
  const bad = part([['a', [0]]])
  bad.answered = () => { throw new Error('handler bug') }
  const good = part([['a', [1]]])
  c.add(9, 1, 30000, null, 'c', bad)
  c.add(9, 1, 30000, null, 'c', good)
  await tick()
  c.upstreamResponse(sent[0]!.tag, encodedAnswer([['a', [[0, 1n], [1, 2n]]]]))
  t.equal(good.answers[0]![0]!.partition('a', 1).baseOffset, 2n)
})
