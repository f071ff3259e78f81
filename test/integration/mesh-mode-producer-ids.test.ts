// An idempotent producer writing through kproxy to two clusters whose producer ids collide:
// `kproxy sandbox up --topology mesh` (clusters a, b, c; topics a* on a, b* on b; a is the
// default home cluster, where the producer's InitProducerId goes). Producer ids are allocated
// per cluster, from the same low numbers in fresh clusters; the test engineers the collision
// for real: it takes ids directly on a and b (raw InitProducerId) until both clusters will hand
// out the same next id X, lets a real idempotent producer (kafkajs, directly on b) take X on b and
// write to b's topic, and then lets an idempotent kafkajs producer through kproxy take X on a and
// write to a's and b's topics. Without kproxy's mapping its first batch on b would be taken by
// b for the other producer's duplicate (acknowledged, never written) and the other producer's
// next batch would be out of order. Checked directly on each cluster, from the batch headers of a
// raw Fetch: every record exactly once, and the batches on b carrying a producer id other than X.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runKafkaTool } from '@kproxy/cli'
import { Kafka, logLevel } from 'kafkajs'
import type { Producer } from 'kafkajs'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { readBatches } from '@kproxy/core/protocol/record-batch'
import { decodeRecordBatch } from '@kproxy/core/protocol/record-batch-records'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import type { MeshSandboxInfo } from '@kproxy/cli/sandbox/mesh-topology'
import { sandboxForTest } from '../helpers/sandbox-up.ts'
import { freezer, javaPidsMentioning } from '../helpers/kafka.ts'
import type { TeardownHost } from '../helpers/kafka.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { WireConnection } from '../helpers/wire-connection.ts'
import { freePort } from '../helpers/broker-proxy.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'
import type { ServedKproxy } from '../helpers/serve-kproxy.ts'

t.setTimeout(600_000)
const run = await sandboxForTest<MeshSandboxInfo>(t, ['--topology', 'mesh'])
const info = run.info
const proxy = info.clientBootstrap
const direct = Object.fromEntries(info.clusters.map(c => [c.name, c.bootstrap])) as Record<'a' | 'b' | 'c', string>

let correlation = 1
async function call (bootstrap: string, apiKey: number, version: number, body: Record<string, unknown>): Promise<any> {
  const [host, port] = bootstrap.split(':') as [string, string]
  const conn = await WireConnection.open(host, Number(port))
  try {
    conn.send(encodeRequest({ apiKey, apiVersion: version, correlationId: correlation++, clientId: 'pid-test' }, { ...getApi(apiKey).request.create(), ...body }))
    const frame = await conn.nextFrame()
    if (frame === null) throw new Error(`${bootstrap} closed the connection without answering api ${apiKey}`)
    return decodeResponse(frame, apiKey, version).body
  } finally {
    conn.close()
  }
}

// one producer id taken directly on a cluster (single-node clusters: the next one is this + 1);
// COORDINATOR_LOAD_IN_PROGRESS while the broker has no block of ids from the controller yet
async function takeProducerId (bootstrap: string): Promise<bigint> {
  for (let attempt = 0; ; attempt++) {
    const answer = await call(bootstrap, ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 })
    if (answer.errorCode === 0) return answer.producerId
    if (answer.errorCode !== 14 || attempt >= 100) throw new Error(`InitProducerId on ${bootstrap}: error ${answer.errorCode}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

interface StoredBatch { producerId: bigint, baseSequence: number, values: string[] }

// Every batch of a partition, read directly from the cluster (raw Fetch v12 by topic name).
async function batchesOn (bootstrap: string, topic: string, partition: number): Promise<StoredBatch[]> {
  const s = getApi(ApiKey.Fetch).request.structs
  const out: StoredBatch[] = []
  let offset = 0n
  for (;;) {
    const answer = await call(bootstrap, ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 16 << 20,
      isolationLevel: 0,
      topics: [{ ...s.FetchTopic!(), topic, partitions: [{ ...s.FetchPartition!(), partition, fetchOffset: offset, partitionMaxBytes: 16 << 20 }] }]
    })
    const p = answer.responses[0].partitions[0]
    if (p.errorCode !== 0) throw new Error(`Fetch ${topic}-${partition} on ${bootstrap}: error ${p.errorCode}`)
    const { batches } = readBatches(p.records ?? Buffer.alloc(0))
    for (const b of batches) {
      const decoded = decodeRecordBatch(b.bytes)
      out.push({ producerId: b.header.producerId, baseSequence: b.header.baseSequence, values: decoded.records.map(r => r.value!.toString()) })
      offset = b.header.baseOffset + BigInt(b.header.lastOffsetDelta) + 1n
    }
    if (batches.length === 0 || offset >= p.highWatermark) return out
  }
}

// Topics created through kproxy (each lands on the cluster its name routes to), then ready.
async function topicsThroughProxy (clientId: string, topics: Array<{ topic: string, numPartitions: number }>): Promise<void> {
  const admin = new Kafka({ clientId, brokers: [proxy], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await createTopicsAndWait(admin, topics)
  } finally {
    await admin.disconnect()
  }
}

function counts (values: string[]): { count: number, duplicates: number } {
  return { count: new Set(values).size, duplicates: values.length - new Set(values).size }
}

const K = 5
const ROUNDS = 8

t.test('an idempotent producer through kproxy whose producer id of cluster a is another producer\'s on cluster b', async t => {
  // topics through kproxy: apid on a, bpid (2 partitions) on b
  await topicsThroughProxy('pid-client', [{ topic: 'apid', numPartitions: 1 }, { topic: 'bpid', numPartitions: 2 }])
  const viaProxy = new Kafka({ clientId: 'pid-client', brokers: [proxy], logLevel: logLevel.NOTHING })

  // the same next producer id on a and b
  const firstA = await takeProducerId(direct.a)
  const firstB = await takeProducerId(direct.b)
  const last = firstA > firstB ? firstA : firstB
  for (let id = firstA; id < last; id = await takeProducerId(direct.a));
  for (let id = firstB; id < last; id = await takeProducerId(direct.b));
  const X = last + 1n
  t.comment(`first ids taken directly: a ${firstA}, b ${firstB}; both clusters hand out ${X} next`)

  // another producer on b takes X and writes K records to bpid-0
  const onB = new Kafka({ clientId: 'pid-victim', brokers: [direct.b], logLevel: logLevel.NOTHING })
  const victim: Producer = onB.producer({ idempotent: true, maxInFlightRequests: 1 })
  await victim.connect()
  t.teardown(() => victim.disconnect())
  const victimValues = Array.from({ length: 2 * K }, (_, i) => `victim-${i}`)
  await victim.send({ topic: 'bpid', acks: -1, messages: victimValues.slice(0, K).map(value => ({ value, partition: 0 })) })

  // the client through kproxy takes X on a and writes to a and b in each request; its first batch
  // on bpid-0 has the same sequence range (0..K-1) as the other producer's
  const client = viaProxy.producer({ idempotent: true, maxInFlightRequests: 1 })
  await client.connect()
  t.teardown(() => client.disconnect())
  const clientValues: Record<string, string[]> = { 'apid-0': [], 'bpid-0': [], 'bpid-1': [] }
  const failures: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const n = K + round
    const mk = (key: string) => Array.from({ length: n }, (_, i) => `client-${key}-${round}-${i}`)
    const a0 = mk('apid-0')
    const b0 = mk('bpid-0')
    const b1 = mk('bpid-1')
    // kafkajs does not retry OUT_OF_ORDER_SEQUENCE_NUMBER: noted, the round goes on
    try {
      await client.sendBatch({
        acks: -1,
        topicMessages: [
          { topic: 'apid', messages: a0.map(value => ({ value, partition: 0 })) },
          { topic: 'bpid', messages: [...b0.map(value => ({ value, partition: 0 })), ...b1.map(value => ({ value, partition: 1 }))] }
        ]
      })
    } catch (err) {
      failures.push(`client round ${round}: ${(err as Error).message}`)
    }
    clientValues['apid-0']!.push(...a0)
    clientValues['bpid-0']!.push(...b0)
    clientValues['bpid-1']!.push(...b1)
  }
  // the other producer carries on with its sequence K..2K-1
  try {
    await victim.send({ topic: 'bpid', acks: -1, messages: victimValues.slice(K).map(value => ({ value, partition: 0 })) })
  } catch (err) {
    failures.push(`other producer's second batch: ${(err as Error).message}`)
  }
  t.same(failures, [], 'every send acknowledged')

  const a0 = await batchesOn(direct.a, 'apid', 0)
  const b0 = await batchesOn(direct.b, 'bpid', 0)
  const b1 = await batchesOn(direct.b, 'bpid', 1)
  const clientIds = new Set(a0.map(b => b.producerId))
  t.same([...clientIds], [X], `the collision is real: the client's producer id on a is ${X}`)
  const victimBatches = b0.filter(b => b.values[0]!.startsWith('victim-'))
  t.same(victimBatches.map(b => b.producerId), [X, X], `and the other producer's on b is ${X} too`)

  const valuesOf = (batches: StoredBatch[], prefix: string): string[] => batches.flatMap(b => b.values).filter(v => v.startsWith(prefix))
  t.same(valuesOf(a0, 'client-'), clientValues['apid-0'], `a: the client's ${clientValues['apid-0']!.length} records, each once, in order`)
  t.same(valuesOf(b0, 'client-'), clientValues['bpid-0'], `b partition 0: the client's ${clientValues['bpid-0']!.length} records, each once, in order (none taken for the other producer's duplicate)`)
  t.same(valuesOf(b1, 'client-'), clientValues['bpid-1'], `b partition 1: the client's ${clientValues['bpid-1']!.length} records, each once, in order`)
  t.same(valuesOf(b0, 'victim-'), victimValues, 'b partition 0: the other producer\'s records, each once, in order')
  t.same(counts(b0.flatMap(b => b.values)), { count: clientValues['bpid-0']!.length + victimValues.length, duplicates: 0 }, 'nothing else on b partition 0')

  const mapped = new Set([...b0, ...b1].filter(b => b.values[0]!.startsWith('client-')).map(b => b.producerId))
  t.equal(mapped.size, 1, 'the client\'s batches on b carry one producer id')
  const [M] = [...mapped]
  t.not(M, X, `kproxy's own producer id on b (${M}), not the client's ${X}`)
  t.ok(M! >= 0n, 'a real producer id')
  // round r wrote K + r records per partition (K in round 0): its batch starts at the sum before
  const sizes = Array.from({ length: ROUNDS }, (_, r) => K + r)
  const bases = sizes.map((_, r) => sizes.slice(0, r).reduce((x, y) => x + y, 0))
  t.same(b0.filter(b => b.producerId === M).map(b => b.baseSequence), bases, `b partition 0: the client's base sequences as it sent them (${bases.join(', ')})`)
  t.same(b1.filter(b => b.producerId === M).map(b => b.baseSequence), bases, 'b partition 1: the same')
  t.same(a0.map(b => b.baseSequence), bases, 'a: the same, under the client\'s own producer id')
})

t.test('the Java producer (idempotent, acks=all) through kproxy to a topic of b: its batches there under the one producer id kproxy took on b', async t => {
  await topicsThroughProxy('pid-java-admin', [{ topic: 'bjava', numPartitions: 2 }])
  // ids taken directly just before and after bracket the ones taken in between
  const beforeA = await takeProducerId(direct.a)
  const beforeB = await takeProducerId(direct.b)
  const N = 20_000
  const perf = await runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', 'bjava', '--num-records', String(N), '--throughput', '-1', '--payload-monotonic',
    '--producer-props', `bootstrap.servers=${proxy}`, 'acks=all', 'enable.idempotence=true', 'linger.ms=5', 'batch.size=16384'
  ], { timeoutMs: 120_000 })
  t.equal(perf.code, 0, `ProducerPerformance: ${perf.stderr.slice(-2000)}`)
  const afterA = await takeProducerId(direct.a)
  const afterB = await takeProducerId(direct.b)
  t.equal(afterA - beforeA, 2n, `the Java producer took its id (${beforeA + 1n}) on a, the default home cluster`)
  t.equal(afterB - beforeB, 2n, `and kproxy took one id (${beforeB + 1n}) on b for it`)
  const batches = [...await batchesOn(direct.b, 'bjava', 0), ...await batchesOn(direct.b, 'bjava', 1)]
  const values = batches.flatMap(b => b.values)
  t.same(counts(values), { count: N, duplicates: 0 }, `b: ${N} records, each once`)
  t.same(new Set(values), new Set(Array.from({ length: N }, (_, i) => String(i))), 'exactly the values sent')
  t.same([...new Set(batches.map(b => b.producerId))], [beforeB + 1n], `every batch on b under kproxy's producer id ${beforeB + 1n}`)
})

t.test('a corrupt idempotent batch bound for a mapped cluster is refused with CORRUPT_MESSAGE, as the broker of its own cluster refuses it', async t => {
  // a producer id no worker saw allocated: taken to be the default home cluster's (a)
  const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), producerId: 4242n, producerEpoch: 0, baseSequence: 0, records: [{ value: Buffer.from('corrupt') }] })
  batch[batch.length - 1] ^= 0xff
  const s = getApi(ApiKey.Produce).request.structs
  const answer = await call(proxy, ApiKey.Produce, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: ['apid', 'bpid'].map(name => ({ ...s.TopicProduceData!(), name, partitionData: [{ ...s.PartitionProduceData!(), index: 0, records: batch }] }))
  })
  const codes = Object.fromEntries(answer.responses.map((r: any) => [r.name, r.partitionResponses[0].errorCode]))
  t.same(codes, { apid: 2, bpid: 2 }, 'apid (cluster a, the batch as sent): the broker\'s CORRUPT_MESSAGE; bpid (cluster b, mapped): kproxy\'s')
  const b0 = await batchesOn(direct.b, 'bpid', 0)
  t.notOk(b0.some(b => b.values.includes('corrupt')), 'nothing written on b')
})

t.test('cluster b frozen (SIGSTOP): the mapping cannot be made; only b\'s partition fails, retriably; the retry after b is back is written once on each cluster', async t => {
  const pids = javaPidsMentioning(info.clusters.find(c => c.name === 'b')!.dataDir)
  t.equal(pids.length, 1, 'the JVM of cluster b')
  const { freeze, resume } = freezer(pids)
  t.teardown(resume)
  // a producer id no worker has mapped yet
  const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), producerId: 7777n, producerEpoch: 0, baseSequence: 0, records: [{ value: Buffer.from('frozen-b') }] })
  const s = getApi(ApiKey.Produce).request.structs
  const produce = async (): Promise<Record<string, number>> => {
    const answer = await call(proxy, ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: ['afrozen', 'bfrozen'].map(name => ({ ...s.TopicProduceData!(), name, partitionData: [{ ...s.PartitionProduceData!(), index: 0, records: batch }] }))
    })
    return Object.fromEntries(answer.responses.map((r: any) => [r.name, r.partitionResponses[0].errorCode]))
  }
  await topicsThroughProxy('pid-frozen-admin', [{ topic: 'afrozen', numPartitions: 1 }, { topic: 'bfrozen', numPartitions: 1 }])
  freeze()
  t.same(await produce(), { afrozen: 0, bfrozen: 6 }, 'afrozen written on a; bfrozen NOT_LEADER_OR_FOLLOWER (retriable)')
  let line: string | undefined
  for (let i = 0; i < 50 && line === undefined; i++) {
    line = readFileSync(info.kproxy.log, 'utf8').split('\n').find(l => l.includes('KPROXY_WARN_MESH_PRODUCER_ID_FAILED'))
    if (line === undefined) await new Promise(resolve => setTimeout(resolve, 200))
  }
  t.match(line, /"cluster":"b".*"producerId":"7777"/, 'logged with its code, naming cluster b and the producer')
  resume()
  // the client's retry, as an idempotent client sends it: the same batch to both partitions
  let codes: Record<string, number> = {}
  for (let i = 0; i < 30; i++) {
    codes = await produce()
    if (codes.bfrozen === 0) break
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  t.same(codes, { afrozen: 0, bfrozen: 0 }, 'the retry: acknowledged on both (a drops it as a duplicate)')
  const onA = (await batchesOn(direct.a, 'afrozen', 0)).flatMap(b => b.values).filter(v => v === 'frozen-b')
  const onB = (await batchesOn(direct.b, 'bfrozen', 0)).flatMap(b => b.values).filter(v => v === 'frozen-b')
  t.same([onA.length, onB.length], [1, 1], 'the record once on a and once on b')
})

t.test('a retry on a new connection, whichever worker it lands on, goes up under the same producer id on b and is written once', async t => {
  // A client whose request timed out reconnects and sends the batch again with the same producer
  // id and sequence; with reusePort the new connection lands on either of the sandbox's 2
  // workers. The producer id mappings are the process's (the supervisor's registry), so both
  // workers send it to b under the one id kproxy took there, and b answers the repeats as
  // duplicates. 16 connections: all on one worker with probability 2^-15.
  const CONNECTIONS = 16
  await topicsThroughProxy('pid-retry-admin', [{ topic: 'aretry', numPartitions: 1 }, { topic: 'bretry', numPartitions: 1 }])
  const beforeB = await takeProducerId(direct.b)
  // a producer id no worker has mapped yet: taken to be the default home cluster's (a)
  const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), producerId: 8888n, producerEpoch: 0, baseSequence: 0, records: [{ value: Buffer.from('retried') }] })
  const s = getApi(ApiKey.Produce).request.structs
  const send = async (): Promise<string> => {
    // call() opens a connection of its own each time
    const answer = await call(proxy, ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: ['aretry', 'bretry'].map(name => ({ ...s.TopicProduceData!(), name, partitionData: [{ ...s.PartitionProduceData!(), index: 0, records: batch }] }))
    })
    return answer.responses.map((r: any) => `${r.name}:${r.partitionResponses[0].errorCode}`).join(',')
  }
  const answers: string[] = []
  for (let i = 0; i < CONNECTIONS; i++) {
    // NOT_LEADER_OR_FOLLOWER (6) while a worker does not know the new topics' leaders yet: sent
    // again, as a client retries it
    let answer = await send()
    for (let attempt = 0; attempt < 20 && answer.includes(':6'); attempt++) {
      await new Promise(resolve => setTimeout(resolve, 250))
      answer = await send()
    }
    answers.push(answer)
  }
  t.same(new Set(answers), new Set(['aretry:0,bretry:0']), `all ${CONNECTIONS} sends acknowledged on both clusters`)
  const afterB = await takeProducerId(direct.b)
  t.equal(afterB - beforeB, 2n, `kproxy took one producer id on b (${beforeB + 1n}) for the client's, whichever worker the sends came through`)
  const onA = (await batchesOn(direct.a, 'aretry', 0)).flatMap(b => b.values)
  const onB = await batchesOn(direct.b, 'bretry', 0)
  t.same([onA.length, onB.flatMap(b => b.values).length], [1, 1], 'the record once on a and once on b')
  t.same(onB.map(b => b.producerId), [beforeB + 1n], 'on b under that producer id')
})

// Another kproxy process in front of the same clusters: the sandbox's mesh config on another
// listen port (its admin address comes from serveKproxy's --admin), with `extra` lines appended
// to the mesh section.
async function replica (t: TeardownHost, extra: readonly string[] = []): Promise<ServedKproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-replica-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const listenPort = await freePort()
  const lines = readFileSync(info.kproxy.config, 'utf8').split('\n')
    .filter(l => !l.startsWith('admin:'))
    .map(l => l.startsWith('  listen:') ? `  listen: 127.0.0.1:${listenPort}` : l)
  lines.splice(lines.indexOf('mesh:') + 1, 0, ...extra)
  const file = join(dir, 'mesh.yaml')
  writeFileSync(file, lines.join('\n'))
  return await serveKproxy(t, { upstream: null, listenPort, workers: 1, args: ['--config', file] })
}

// One batch of an idempotent producer to partition 0 of `topics` through `bootstrap`, sent again
// while the answer is NOT_LEADER_OR_FOLLOWER (a new topic whose leader kproxy does not know yet),
// as a client retries it; the error codes by topic.
async function produceBatch (bootstrap: string, topics: readonly string[], producerId: bigint, baseSequence: number, value: string): Promise<Record<string, number>> {
  const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), producerId, producerEpoch: 0, baseSequence, records: [{ value: Buffer.from(value) }] })
  const s = getApi(ApiKey.Produce).request.structs
  let codes: Record<string, number> = {}
  for (let attempt = 0; attempt < 20; attempt++) {
    const answer = await call(bootstrap, ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: topics.map(name => ({ ...s.TopicProduceData!(), name, partitionData: [{ ...s.PartitionProduceData!(), index: 0, records: batch }] }))
    })
    codes = Object.fromEntries(answer.responses.map((r: any) => [r.name, r.partitionResponses[0].errorCode]))
    if (!Object.values(codes).includes(6)) break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return codes
}

t.test('a retry through another kproxy replica, and through a restarted one, goes up under the same producer id on b and is written once', async t => {
  // The replicas share the producer ids they take through a log topic of the default home
  // cluster a (mesh.producerIdLog). A client whose request timed out reconnects, here to another
  // kproxy process, and sends the batch again with the same producer id and sequence.
  await topicsThroughProxy('pid-replica-admin', [{ topic: 'areplica', numPartitions: 1 }, { topic: 'breplica', numPartitions: 1 }])
  const topics = ['areplica', 'breplica']
  const ok = { areplica: 0, breplica: 0 }
  const beforeB = await takeProducerId(direct.b)
  // a producer id none of the processes has mapped: taken to be the default home cluster's (a)
  const P = 9999n
  t.same(await produceBatch(proxy, topics, P, 0, 'replica-0'), ok, 'sequence 0 through the sandbox\'s kproxy: acknowledged on a and b')

  const second = await replica(t)
  t.same(await produceBatch(second.bootstrap, topics, P, 0, 'replica-0'), ok, 'the same batch again through a second kproxy process: acknowledged (a duplicate on both clusters)')
  t.same(await produceBatch(second.bootstrap, topics, P, 1, 'replica-1'), ok, 'sequence 1 through the second process')
  await second.stop()

  const restarted = await replica(t)
  t.same(await produceBatch(restarted.bootstrap, topics, P, 1, 'replica-1'), ok, 'sequence 1 again through a process started afterwards: acknowledged (a duplicate)')
  t.same(await produceBatch(restarted.bootstrap, topics, P, 2, 'replica-2'), ok, 'sequence 2 through it')
  t.same(await produceBatch(proxy, topics, P, 2, 'replica-2'), ok, 'sequence 2 again through the sandbox\'s kproxy, which took the producer id: a duplicate')

  const afterB = await takeProducerId(direct.b)
  t.equal(afterB - beforeB, 2n, `one producer id taken on b (${beforeB + 1n}) by the three kproxy processes together`)
  const onA = (await batchesOn(direct.a, 'areplica', 0)).flatMap(b => b.values)
  const onB = await batchesOn(direct.b, 'breplica', 0)
  t.same(onA, ['replica-0', 'replica-1', 'replica-2'], 'a: each record once, in order')
  t.same(onB.flatMap(b => b.values), ['replica-0', 'replica-1', 'replica-2'], 'b: each record once, in order')
  t.same(onB.map(b => b.producerId), [beforeB + 1n, beforeB + 1n, beforeB + 1n], 'b: under the one producer id')

  // the log itself: on a, one partition, invisible to the mesh's clients
  const onLog = await batchesOn(direct.a, '__kproxy_producer_ids', 0)
  t.ok(onLog.some(b => b.values.some(v => v.includes(`"id":"${beforeB + 1n}"`))), `the log on a holds the mapping to ${beforeB + 1n}`)
  const all = await call(proxy, ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false })
  t.notOk(all.topics.some((x: any) => x.name === '__kproxy_producer_ids'), 'a Metadata request for every topic through kproxy does not list the log')
  const named = await call(proxy, ApiKey.Metadata, 12, { topics: [{ ...getApi(ApiKey.Metadata).request.structs.MetadataRequestTopic!(), name: '__kproxy_producer_ids' }], allowAutoTopicCreation: false })
  t.equal(named.topics[0].errorCode, 3, 'one naming it gets UNKNOWN_TOPIC_OR_PARTITION')

  // the log's start moved past everything (as retention does, here by DeleteRecords on a): a new
  // process reads from offset 0, which Kafka answers OFFSET_OUT_OF_RANGE (with no log start), and
  // must go on from the log's start
  const s = getApi(ApiKey.DeleteRecords).request.structs
  const deleted = await call(direct.a, ApiKey.DeleteRecords, 2, { timeoutMs: 10_000, topics: [{ ...s.DeleteRecordsTopic!(), name: '__kproxy_producer_ids', partitions: [{ ...s.DeleteRecordsPartition!(), partitionIndex: 0, offset: -1n }] }] })
  t.equal(deleted.topics[0].partitions[0].errorCode, 0, 'DeleteRecords on the log, directly on a')
  const afterDelete = await replica(t)
  t.same(await produceBatch(afterDelete.bootstrap, topics, P + 1n, 0, 'after-delete-0'), ok, 'a new producer through a process started after the log start moved: acknowledged')
  const fresh = await batchesOn(direct.b, 'breplica', 0)
  t.same(fresh.flatMap(b => b.values), ['replica-0', 'replica-1', 'replica-2', 'after-delete-0'], 'b: its record once')
})

t.test('control: with mesh.producerIdLog.enabled false, a retry through another kproxy process is written twice on b', async t => {
  // What the log prevents, shown for real: a process that keeps its mappings to itself takes a
  // producer id of its own on b, and b takes the retried batch for a new producer's first one.
  await topicsThroughProxy('pid-control-admin', [{ topic: 'acontrol', numPartitions: 1 }, { topic: 'bcontrol', numPartitions: 1 }])
  const topics = ['acontrol', 'bcontrol']
  const ok = { acontrol: 0, bcontrol: 0 }
  const P = 9998n
  t.same(await produceBatch(proxy, topics, P, 0, 'control-0'), ok, 'sequence 0 through the sandbox\'s kproxy')
  const unshared = await replica(t, ['  producerIdLog: { enabled: false }'])
  t.same(await produceBatch(unshared.bootstrap, topics, P, 0, 'control-0'), ok, 'the same batch through a process without the log: acknowledged')
  t.same((await batchesOn(direct.a, 'acontrol', 0)).flatMap(b => b.values), ['control-0'], 'a (the client\'s own producer id): once')
  const onB = await batchesOn(direct.b, 'bcontrol', 0)
  t.same(onB.flatMap(b => b.values), ['control-0', 'control-0'], 'b: twice, under two producer ids')
  t.equal(new Set(onB.map(b => b.producerId)).size, 2, 'two producer ids on b')
})
