// The version bridge as the session runs it (scripted socket and route, real codecs): old
// requests go upstream at the version the upstream accepts, answers come back at the client's,
// current versions never reach the filter, bad old-format input gets an error for that request
// (or partition) only. The real-client proof is test/integration/version-bridge.test.ts.
import t from 'tap'
import pino from 'pino'
import { decodeRequest, encodeRequest, ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import { ApiKey, supportedVersions } from '@kproxy/core/protocol/api-keys'
import type { VersionRange } from '@kproxy/core/protocol/api-keys'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { UpstreamVersions } from '@kproxy/core/bridge/upstream-versions'
import { COMPRESSION_GZIP, COMPRESSION_SNAPPY } from '@kproxy/core/protocol/compression'
import { encodeMessageSet } from '@kproxy/core/protocol/message-set-encode'
import { readMessageSet } from '@kproxy/core/protocol/message-set'
import { readBatches } from '@kproxy/core/protocol/record-batch'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { decodeRecordBatch } from '@kproxy/core/protocol/record-batch-records'
import { createVersionBridge } from '../../../src/filters/builtin/version-bridge.ts'
import type { ChainMember } from '../../../src/filters/filter-chain.ts'
import { FilterChain } from '../../../src/filters/filter-chain.ts'
import { decoded, harness } from '../../session/session-harness.ts'
import { mutants, rng } from '../../../../core/test/protocol/fuzz-inputs.ts'

const kafka4 = (): VersionRange[] => supportedVersions().map(r => r.apiKey === ApiKey.Produce ? { ...r, minVersion: 0 } : r)
const kafka39 = (): VersionRange[] => supportedVersions().map(r => ([ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets] as number[]).includes(r.apiKey) ? { ...r, minVersion: 0 } : r)
const b = (s: string): Buffer => Buffer.from(s)

function bridge (ranges: VersionRange[] = kafka4(), limits = {}): { member: ChainMember, bridged: string[], logs: any[] } {
  const upstream = new UpstreamVersions()
  upstream.learn(ranges)
  const bridged: string[] = []
  const logs: any[] = []
  const metrics: ProxyMetrics = { ...noopProxyMetrics, bridged: (k, from, to) => { bridged.push(`${k}:${from}->${to}`) } }
  const logger = pino({ level: 'debug' }, { write (s: string) { logs.push(JSON.parse(s)) } })
  return { member: { label: 'versionBridge', builtin: true, filter: createVersionBridge({ upstream, metrics, logger, limits }) }, bridged, logs }
}

function produceV (version: number, parts: Array<[number, Buffer | null]>, acks = -1): Buffer[] {
  const rq = getApi(ApiKey.Produce).request
  const body = { ...rq.create(), acks, timeoutMs: 3000, topicData: [{ ...rq.structs.TopicProduceData!(), name: 'orders', partitionData: parts.map(([index, records]) => ({ ...rq.structs.PartitionProduceData!(), index, records })) }] }
  return encodeRequest({ apiKey: ApiKey.Produce, apiVersion: version, correlationId: 11, clientId: 'old-producer' }, body, 'decodable')
}

function produceAnswer (partitions: number[]): any {
  const rs = getApi(ApiKey.Produce).response
  return { ...rs.create(), responses: [{ ...rs.structs.TopicProduceResponse!(), name: 'orders', partitionResponses: partitions.map(index => ({ ...rs.structs.PartitionProduceResponse!(), index, baseOffset: 100n + BigInt(index) })) }] }
}

const messages = [
  { offset: 0n, timestamp: 1700000000000n, key: b('a'), value: b('one') },
  { offset: 1n, timestamp: 1700000000001n, key: null, value: b('two') }
]

t.test('Produce v2 goes upstream as v3 with a v2 batch; the client reads a v2 answer', async t => {
  const { member, bridged } = bridge()
  const h = harness({ filters: [member] })
  h.socket.send(produceV(2, [[0, encodeMessageSet({ magic: 1, compression: COMPRESSION_SNAPPY, messages })]]))
  const f = h.route.forwarded[0]!
  const up = decodeRequest(f.payload)
  t.equal(up.apiVersion, 3)
  t.equal(up.header.clientId, 'old-producer')
  const d = decodeRecordBatch(readBatches((up.body as any).topicData[0].partitionData[0].records).batches[0]!.bytes)
  t.same(d.records.map(r => r.value!.toString()), ['one', 'two'])
  t.equal(d.header.attributes & 7, COMPRESSION_SNAPPY)
  h.route.answer(0, produceAnswer([0]))
  const [r] = h.socket.responses().map(p => decoded(p, ApiKey.Produce, 2))
  t.equal(r!.header.correlationId, 11)
  t.same(r!.body.responses[0].partitionResponses.map((p: any) => [p.index, p.errorCode, p.baseOffset]), [[0, 0, 100n]])
  t.same(bridged, ['0:2->3'])
})

t.test('Produce v0 with acks=0: converted and sent, nothing answered', async t => {
  const { member } = bridge()
  const h = harness({ filters: [member] })
  h.socket.send(produceV(0, [[0, encodeMessageSet({ magic: 0, messages })]], 0))
  t.equal(decodeRequest(h.route.forwarded[0]!.payload).apiVersion, 3)
  t.equal(h.route.forwarded[0]!.entry, null)
  t.equal(h.socket.responses().length, 0)
})

t.test('Fetch v1 goes upstream as v4; the v2 batches come back as a magic v0 message set', async t => {
  const { member, bridged } = bridge()
  const h = harness({ filters: [member] })
  const fq = getApi(ApiKey.Fetch).request
  const body = { ...fq.create(), maxWaitMs: 100, minBytes: 1, topics: [{ ...fq.structs.FetchTopic!(), topic: 'orders', partitions: [{ ...fq.structs.FetchPartition!(), partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }] }
  h.socket.send(encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: 1, correlationId: 3, clientId: 'old-consumer' }, body, 'decodable'))
  t.equal(decodeRequest(h.route.forwarded[0]!.payload).apiVersion, 4)
  const fs = getApi(ApiKey.Fetch).response
  const batch = encodeRecordBatch({ baseOffset: 0n, attributes: COMPRESSION_GZIP, baseTimestamp: 1700000000000n, records: [0, 1, 2].map(i => ({ offsetDelta: i, timestampDelta: BigInt(i), key: null, value: b(`m${i}`) })) })
  h.route.answer(0, { ...fs.create(), responses: [{ ...fs.structs.FetchableTopicResponse!(), topic: 'orders', partitions: [{ ...fs.structs.PartitionData!(), partitionIndex: 0, highWatermark: 3n, lastStableOffset: 3n, records: batch }] }] })
  const [r] = h.socket.responses().map(p => decoded(p, ApiKey.Fetch, 1))
  const set = readMessageSet(r!.body.responses[0].partitions[0].records)
  t.same(set.messages.map(m => [m.offset, m.magic, m.compression, m.value!.toString()]), [[0n, 0, 1, 'm0'], [1n, 0, 1, 'm1'], [2n, 0, 1, 'm2']])
  t.equal(r!.body.responses[0].partitions[0].highWatermark, 3n)
  t.same(bridged, ['1:1->4'])
})

t.test('an upstream that still accepts the old version (Kafka 3.9): the request goes on as it arrived', async t => {
  const { member, bridged } = bridge(kafka39())
  const h = harness({ filters: [member] })
  const frame = produceV(2, [[0, encodeMessageSet({ magic: 1, messages })]])
  h.socket.send(frame)
  t.same(h.route.forwarded[0]!.payload, Buffer.concat(frame).subarray(4), 'the bytes that arrived')
  h.route.answer(0, produceAnswer([0]))
  t.equal(h.socket.responses().map(p => decoded(p, ApiKey.Produce, 2))[0]!.body.responses[0].partitionResponses[0].errorCode, 0)
  t.same(bridged, [])
})

t.test('current versions never reach the bridge', async t => {
  const chain = new FilterChain([bridge().member])
  for (const { apiKey, minVersion, maxVersion } of supportedVersions()) {
    for (let v = minVersion; v <= maxVersion; v++) {
      if (chain.requestFilters(apiKey, v) !== null || chain.responseFilters(apiKey, v) !== null) t.fail(`${apiKey} v${v} reaches the bridge`)
    }
  }
  t.ok(chain.requestFilters(ApiKey.Produce, 2) !== null && chain.responseFilters(ApiKey.Fetch, 3) !== null)
})

t.test('bad input: a broken partition gets CORRUPT_MESSAGE, the others go on; all broken: answered by kproxy', async t => {
  const { member, logs } = bridge()
  const h = harness({ filters: [member] })
  const bad = Buffer.from(encodeMessageSet({ magic: 1, messages }))
  bad[20] ^= 0x40
  h.socket.send(produceV(2, [[0, bad], [1, encodeMessageSet({ magic: 1, messages })]]))
  t.same((decodeRequest(h.route.forwarded[0]!.payload).body as any).topicData[0].partitionData.map((p: any) => p.index), [1])
  h.route.answer(0, produceAnswer([1]))
  const [r] = h.socket.responses().map(p => decoded(p, ApiKey.Produce, 2))
  t.same(r!.body.responses[0].partitionResponses.map((p: any) => [p.index, p.errorCode]), [[1, 0], [0, ErrorCode.CORRUPT_MESSAGE]])
  t.ok(logs.some(l => l.code === 'KPROXY_ERR_MESSAGE_SET_CRC' && l.partition === 0))

  const h2 = harness({ filters: [member] })
  // sizes that lie: an entry announcing 2 GiB
  const lying = Buffer.alloc(26)
  lying.writeInt32BE(0x7fffffff, 8)
  h2.socket.send(produceV(1, [[0, bad], [1, lying]]))
  t.equal(h2.route.forwarded.length, 0, 'nothing left to send')
  const [r2] = h2.socket.responses().map(p => decoded(p, ApiKey.Produce, 1))
  t.same(r2!.body.responses[0].partitionResponses.map((p: any) => [p.index, p.errorCode]), [[0, ErrorCode.CORRUPT_MESSAGE], [1, ErrorCode.CORRUPT_MESSAGE]])
  t.equal(h2.session.closed, false, 'the connection carries on')
})

t.test('bad input: a decompression bomb over the budget is MESSAGE_TOO_LARGE for that partition', async t => {
  const { member } = bridge(kafka4(), { maxUncompressedSize: 1 << 20 })
  const h = harness({ filters: [member] })
  const bomb = encodeMessageSet({ magic: 1, compression: COMPRESSION_GZIP, messages: [{ value: Buffer.alloc(8 << 20) }] })
  h.socket.send(produceV(2, [[0, bomb]]))
  const [r] = h.socket.responses().map(p => decoded(p, ApiKey.Produce, 2))
  t.equal(r!.body.responses[0].partitionResponses[0].errorCode, ErrorCode.MESSAGE_TOO_LARGE)
})

t.test('bad input: an old request that cannot be decoded closes that connection with a coded reason', async t => {
  const { member } = bridge()
  const h = harness({ filters: [member] })
  const frame = Buffer.concat(produceV(2, [[0, encodeMessageSet({ magic: 1, messages })]]))
  const cut = Buffer.from(frame.subarray(0, frame.length - 5))
  cut.writeInt32BE(cut.length - 4, 0)
  h.socket.send([cut])
  t.equal(h.session.closed, true)
  t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_DECODE'))
})

// Mutated old produce requests and mutated upstream fetch answers through the session: each ends
// in an answer for that request or a closed connection with a KPROXY_ERR_* code, nothing else.
t.test('fuzz: mutated Produce v0-2 frames and Fetch v4 answers only ever give coded outcomes', async t => {
  const { member } = bridge(kafka4(), { maxUncompressedSize: 1 << 20 })
  let answered = 0
  let closed = 0
  const escaped: string[] = []
  const sets = [
    encodeMessageSet({ magic: 0, messages }),
    encodeMessageSet({ magic: 1, compression: COMPRESSION_GZIP, messages }),
    encodeMessageSet({ magic: 1, compression: COMPRESSION_SNAPPY, messages })
  ]
  for (const [i, set] of sets.entries()) {
    const version = i === 0 ? 1 : 2
    const valid = Buffer.concat(produceV(version, [[0, set], [1, set]]))
    for (const m of mutants(valid.subarray(4), 1000 + i)) {
      const frame = Buffer.alloc(4 + m.bytes.length)
      frame.writeInt32BE(m.bytes.length, 0)
      m.bytes.copy(frame, 4)
      // keep the header (api key and version) so the mutation reaches the bridge
      valid.copy(frame, 4, 4, Math.min(8, frame.length))
      const h = harness({ filters: [member] })
      try {
        h.socket.send([frame])
        for (let k = 0; k < h.route.forwarded.length; k++) if (h.route.forwarded[k]!.entry !== null) h.route.answer(k, produceAnswer([0, 1]))
      } catch (err) {
        escaped.push(`${m.label}: ${(err as Error).message}`)
        continue
      }
      if (h.session.closed) {
        closed++
        const codes = h.logs.filter(l => l.code !== undefined).map(l => String(l.code))
        if (!codes.some(c => c.startsWith('KPROXY_ERR_'))) escaped.push(`${m.label}: closed without a code`)
      } else if (h.socket.responses().length > 0 || h.route.forwarded.length > 0) {
        answered++
      }
    }
  }
  // fetch answers from the upstream, mutated
  const next = rng(77)
  const fq = getApi(ApiKey.Fetch).request
  const fs = getApi(ApiKey.Fetch).response
  const batch = encodeRecordBatch({ baseOffset: 0n, attributes: COMPRESSION_GZIP, baseTimestamp: 1n, records: [0, 1].map(k => ({ offsetDelta: k, timestampDelta: 0n, key: null, value: b(`x${k}`) })) })
  for (const m of mutants(batch, 2024)) {
    const h = harness({ filters: [member] })
    h.socket.send(encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: 2, correlationId: 5, clientId: 'c' }, { ...fq.create(), topics: [{ ...fq.structs.FetchTopic!(), topic: 't', partitions: [{ ...fq.structs.FetchPartition!(), partition: 0, partitionMaxBytes: 1 + (next() % (1 << 20)) }] }] }, 'decodable'))
    try {
      h.route.answer(0, { ...fs.create(), responses: [{ ...fs.structs.FetchableTopicResponse!(), topic: 't', partitions: [{ ...fs.structs.PartitionData!(), partitionIndex: 0, records: m.bytes }] }] })
    } catch (err) {
      escaped.push(`fetch ${m.label}: ${(err as Error).message}`)
      continue
    }
    if (h.session.closed) closed++
    else {
      const [r] = h.socket.responses().map(p => decoded(p, ApiKey.Fetch, 2))
      if (r === undefined) escaped.push(`fetch ${m.label}: no answer`)
      else answered++
    }
  }
  t.same(escaped, [], 'no exception escaped, every close had a code')
  t.ok(answered > 100, `${answered} answered, ${closed} closed`)
})
