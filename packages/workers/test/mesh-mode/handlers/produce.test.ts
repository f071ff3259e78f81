// The Produce handler's producer id mapping on recording parts: which batches are rewritten
// (only idempotent ones bound for a cluster that did not allocate their id), what a failed
// mapping fails, the order of a client's requests while one waits, and a mapping the cluster
// refused. That the clusters accept the batches is test/integration/mesh-mode-producer-ids.test.ts.
import t from 'tap'
import pino from 'pino'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { readBatchHeader, verifyBatchCrc } from '@kproxy/core/protocol/record-batch'
import { produce } from '../../../src/mesh-mode/handlers/produce.ts'
import { MeshCall } from '../../../src/mesh-mode/mesh-call.ts'
import type { CallSink } from '../../../src/mesh-mode/mesh-call.ts'
import type { MeshCluster } from '../../../src/mesh-mode/mesh-cluster.ts'
import type { MeshHost } from '../../../src/mesh-mode/mesh-host.ts'
import { noopMeshMetrics } from '../../../src/mesh-mode/mesh-metrics.ts'
import type { CoalescedPart } from '../../../src/mesh-mode/produce-coalescer.ts'
import { MeshProducerIds } from '../../../src/mesh-mode/producer-ids.ts'
import type { ProducerAnswer } from '../../../src/mesh-mode/producer-ids.ts'
import type { InFlight } from '../../../src/session/in-flight.ts'

const VERSION = 9

interface SentPart { cluster: string, part: CoalescedPart }

// the parts handed to the clusters' coalescers, by client id
const partsOf = new Map<string, SentPart[]>()

interface FakeCluster {
  name: string
  down: boolean
  topics: Map<string, unknown>
  asked: ProducerAnswer[]
  ensure (names: readonly string[], done: () => void): void
  fresh (): boolean
  leader (): number
  stale (): void
  newProducerId (done: ProducerAnswer): void
  coalescer (): { add (version: number, acks: number, timeoutMs: number, transactionalId: string | null, clientId: string, part: CoalescedPart): void }
}

function cluster (name: string): FakeCluster {
  const c: FakeCluster = {
    name,
    down: false,
    topics: new Map(),
    asked: [],
    ensure: (_names, done) => done(),
    fresh: () => true,
    leader: () => 1,
    stale: () => {},
    newProducerId: done => { c.asked.push(done) },
    coalescer: () => ({ add: (_v, _acks, _timeout, _tx, clientId, part) => { partsOf.get(clientId)!.push({ cluster: name, part }) } })
  }
  return c
}

// a client connection: its serial queue, its parts, its answers
function client (clusters: FakeCluster[]) {
  const id = `client-${partsOf.size}`
  const parts: SentPart[] = []
  partsOf.set(id, parts)
  const answers: any[] = []
  let closed = false
  const marks = new Set<string>()
  const tasks: Array<(release: () => void) => void> = []
  const runNext = (): void => {
    const task = tasks[0]
    if (task === undefined) return
    let released = false
    task(() => {
      if (released) return
      released = true
      tasks.shift()
      if (tasks.length === 0) marks.clear()
      runNext()
    })
  }
  const sink: CallSink = {
    answered: (_call, frames) => { answers.push(decodeResponse(Buffer.concat(frames as Buffer[]).subarray(4), ApiKey.Produce, VERSION).body) },
    serial: task => {
      tasks.push(task)
      if (tasks.length === 1) runNext()
    },
    serialIdle: () => tasks.length === 0,
    serialMarks: () => marks,
    closed: () => closed,
    failed: (err: Error) => { throw err },
    sendPart: () => { throw new Error('Produce goes to the coalescer') }
  }
  const host = {
    config: { homeDefaultCluster: 'a' },
    logger: pino({ level: 'silent' }),
    clusters: new Map(clusters.map(c => [c.name, c as unknown as MeshCluster])),
    topics: { route: (name: string) => ({ cluster: name[0]!, name }) },
    meshMetrics: noopMeshMetrics,
    producerIds: new MeshProducerIds(pino({ level: 'silent' })),
    nodeId: 0
  } as unknown as MeshHost
  const send = (body: any): void => {
    const call = new MeshCall(sink, {} as InFlight, ApiKey.Produce, VERSION, 1, body, id)
    call.begin()
    produce(call, host)
    call.end()
  }
  return { id, parts, answers, send, host, close: () => { closed = true } }
}

const idempotent = (producerId: bigint, baseSequence = 0): Buffer =>
  encodeRecordBatch({ baseTimestamp: 1n, producerId, producerEpoch: 0, baseSequence, records: [{ value: Buffer.from('v') }] })
const plain = (): Buffer => encodeRecordBatch({ baseTimestamp: 1n, records: [{ value: Buffer.from('v') }] })

function request (topics: Array<[string, Buffer]>, transactionalId: string | null = null): any {
  const s = getApi(ApiKey.Produce).request.structs
  return {
    ...getApi(ApiKey.Produce).request.create(),
    transactionalId,
    acks: -1,
    timeoutMs: 30_000,
    topicData: topics.map(([name, records]) => ({ ...s.TopicProduceData!(), name, partitionData: [{ ...s.PartitionProduceData!(), index: 0, records }] }))
  }
}

// every part answered by its broker: each partition with `errorCode`
function answerAll (parts: SentPart[], errorCode = 0): void {
  const s = getApi(ApiKey.Produce).response.structs
  for (const p of parts.splice(0)) p.part.answered({ partition: (_name, index) => ({ ...s.PartitionProduceResponse!(), index, errorCode }) }, null)
}

const codes = (answer: any): Record<string, number> => Object.fromEntries(answer.responses.map((r: any) => [r.name, r.partitionResponses[0].errorCode]))
const recordsOf = (part: SentPart): Buffer => part.part.slots[0]!.data!.records!

t.test('batches without producer id, idempotent ones on their own cluster and transactional ones go up as the client\'s bytes', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c = client([a, b])
  const noId = plain()
  const own = idempotent(5n)
  c.send(request([['apples', own], ['berries', noId]]))
  t.equal(c.parts.length, 2)
  t.equal(recordsOf(c.parts.find(p => p.cluster === 'a')!), own, 'a: the same buffer')
  t.equal(recordsOf(c.parts.find(p => p.cluster === 'b')!), noId, 'b, no producer id: the same buffer')
  answerAll(c.parts)
  const txn = idempotent(6n)
  c.send(request([['berries', txn]], 'tx'))
  t.equal(recordsOf(c.parts[0]!), txn, 'transactional: the same buffer')
  t.equal(b.asked.length, 0, 'no producer id asked for')
})

t.test('an idempotent batch for another cluster waits for kproxy\'s id there, then goes up rewritten; the next ones at once', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c = client([a, b])
  const batch = idempotent(5n, 17)
  c.send(request([['apples', idempotent(5n, 3)], ['berries', batch]]))
  t.equal(c.parts.length, 0, 'nothing sent while b\'s id is being asked for')
  t.equal(b.asked.length, 1)
  b.asked[0]!({ producerId: 900n, producerEpoch: 2 }, null)
  t.equal(c.parts.length, 2)
  const up = recordsOf(c.parts.find(p => p.cluster === 'b')!)
  t.not(up, batch, 'a copy')
  const h = readBatchHeader(up)
  t.same([h.producerId, h.producerEpoch, h.baseSequence, verifyBatchCrc(up)], [900n, 2, 17, true], 'kproxy\'s id and epoch, the client\'s base sequence, a valid CRC')
  t.equal(readBatchHeader(batch).producerId, 5n, 'the client\'s bytes untouched')
  answerAll(c.parts)
  t.same(codes(c.answers[0]), { apples: 0, berries: 0 })
  c.send(request([['berries', idempotent(5n, 18)]]))
  t.equal(b.asked.length, 1, 'the mapping is reused')
  t.equal(readBatchHeader(recordsOf(c.parts[0]!)).producerId, 900n)
})

t.test('a failed mapping fails only that cluster\'s partitions, retriably', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c = client([a, b])
  c.send(request([['apples', idempotent(5n)], ['berries', idempotent(5n)]]))
  b.asked[0]!(null, 'cluster b did not answer')
  t.same(c.parts.map(p => p.cluster), ['a'], 'only a\'s part is sent')
  answerAll(c.parts)
  t.same(codes(c.answers[0]), { apples: 0, berries: ErrorCode.NOT_LEADER_OR_FOLLOWER })
})

t.test('a client\'s later request stays behind one waiting for its mapping; another client does not', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c1 = client([a, b])
  c1.send(request([['berries', idempotent(5n)]]))
  c1.send(request([['berries', plain()]]))
  t.equal(c1.parts.length, 0, 'the second request waits behind the first')
  const c2 = client([a, b])
  c2.send(request([['berries', plain()]]))
  t.equal(c2.parts.length, 1, 'another client goes on')
  b.asked[0]!({ producerId: 900n, producerEpoch: 0 }, null)
  t.same(c1.parts.map(p => readBatchHeader(recordsOf(p)).producerId), [900n, -1n], 'then both, in order')
})

t.test('a corrupt batch is refused with CORRUPT_MESSAGE, not made valid', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c = client([a, b])
  const corrupt = idempotent(5n)
  corrupt[corrupt.length - 1] ^= 0xff
  c.send(request([['berries', corrupt]]))
  b.asked[0]!({ producerId: 900n, producerEpoch: 0 }, null)
  t.equal(c.parts.length, 0, 'nothing sent')
  t.same(codes(c.answers[0]), { berries: ErrorCode.CORRUPT_MESSAGE })
})

t.test('a cluster that refuses kproxy\'s producer: the client gets a retriable error and its retry a new id', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c = client([a, b])
  c.send(request([['berries', idempotent(5n)]]))
  b.asked[0]!({ producerId: 900n, producerEpoch: 0 }, null)
  answerAll(c.parts, ErrorCode.UNKNOWN_PRODUCER_ID)
  t.same(codes(c.answers[0]), { berries: ErrorCode.NOT_LEADER_OR_FOLLOWER })
  c.send(request([['berries', idempotent(5n)]]))
  t.equal(b.asked.length, 2, 'asked again')
  b.asked[1]!({ producerId: 901n, producerEpoch: 0 }, null)
  t.equal(readBatchHeader(recordsOf(c.parts[0]!)).producerId, 901n)
})

t.test('a producer id seen allocated by another cluster is mapped on the default home cluster too', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c = client([a, b])
  c.host.producerIds.allocated(5n, 'b')
  const onB = idempotent(5n)
  c.send(request([['apples', idempotent(5n)], ['berries', onB]]))
  t.equal(b.asked.length, 0)
  t.equal(a.asked.length, 1, 'asked on a')
  a.asked[0]!({ producerId: 70n, producerEpoch: 0 }, null)
  t.equal(recordsOf(c.parts.find(p => p.cluster === 'b')!), onB, 'b: as sent')
  t.equal(readBatchHeader(recordsOf(c.parts.find(p => p.cluster === 'a')!)).producerId, 70n, 'a: kproxy\'s id')
})

t.test('known topics go out at once; a topic whose metadata is stale waits for it, and the client\'s next request stays behind', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const waiting: Array<() => void> = []
  b.fresh = () => false
  b.ensure = (_names, done) => { waiting.push(done) }
  const c = client([a, b])
  c.send(request([['apples', plain()]]))
  t.same(c.parts.map(p => p.cluster), ['a'], 'fresh metadata: planned in the same turn')
  answerAll(c.parts)
  const first = plain()
  c.send(request([['berries', first]]))
  c.send(request([['apples', plain()]]))
  t.equal(c.parts.length, 0, 'nothing goes out while b\'s metadata is asked for')
  t.equal(waiting.length, 1)
  b.fresh = () => true
  waiting[0]!()
  t.same(c.parts.map(p => p.cluster), ['b', 'a'], 'then both, in order')
  t.equal(recordsOf(c.parts[0]!), first)
  answerAll(c.parts)
  t.same(c.answers.map(codes), [{ apples: 0 }, { berries: 0 }, { apples: 0 }])
})

t.test('the call lets go of the decoded request (the parts hold the partitions; the coalescer drops their records once encoded)', async t => {
  const a = cluster('a')
  const c = client([a])
  const body = request([['apples', plain()]])
  const call = new MeshCall({ answered: () => {}, serial: () => {}, serialIdle: () => true, serialMarks: () => new Set(), closed: () => false, failed: () => {}, sendPart: () => false }, {} as InFlight, ApiKey.Produce, VERSION, 1, body, c.id)
  call.begin()
  produce(call, c.host)
  call.end()
  t.equal(call.body, null)
  t.equal(c.parts.length, 1)
})

t.test('acks other than -1, 0 and 1 are refused as a broker refuses them; nothing goes up', async t => {
  const a = cluster('a')
  const c = client([a])
  const body = request([['apples', plain()]])
  body.acks = 3
  c.send(body)
  t.equal(c.parts.length, 0)
  t.same(codes(c.answers[0]), { apples: ErrorCode.INVALID_REQUIRED_ACKS })
})

t.test('a topic sent without partitions gets an empty entry in its place', async t => {
  const a = cluster('a')
  const c = client([a])
  const body = request([['apples', plain()], ['avocados', plain()]])
  body.topicData[0].partitionData = []
  c.send(body)
  answerAll(c.parts)
  t.same(c.answers[0].responses.map((r: any) => [r.name, r.partitionResponses.length]), [['apples', 0], ['avocados', 1]])
})

t.test('a request still waiting when its client goes away is not sent', async t => {
  const a = cluster('a')
  const waiting: Array<() => void> = []
  a.fresh = () => false
  a.ensure = (_names, done) => { waiting.push(done) }
  const c = client([a])
  c.send(request([['apples', plain()]]))
  c.close()
  waiting[0]!()
  t.equal(c.parts.length, 0)
})

t.test('a failed mapping also fails the client\'s requests for it queued behind, so no later batch is written ahead of the failed one', async t => {
  const a = cluster('a')
  const b = cluster('b')
  const c = client([a, b])
  c.send(request([['berries', idempotent(5n, 0)]]))
  c.send(request([['berries', idempotent(5n, 1)]]))
  c.send(request([['apples', idempotent(5n, 7)]]))
  b.asked[0]!(null, 'cluster b did not answer')
  t.equal(b.asked.length, 2, 'the second request asked again')
  b.asked[1]!({ producerId: 900n, producerEpoch: 0 }, null)
  t.same(c.parts.map(p => p.cluster), ['a'], 'neither of b\'s batches went up; a\'s did')
  t.same(c.answers.map(codes), [{ berries: ErrorCode.NOT_LEADER_OR_FOLLOWER }, { berries: ErrorCode.NOT_LEADER_OR_FOLLOWER }])
  answerAll(c.parts)
  c.send(request([['berries', idempotent(5n, 0)]]))
  t.equal(readBatchHeader(recordsOf(c.parts[0]!)).producerId, 900n, 'the retry, once nothing is queued, goes up')
})
