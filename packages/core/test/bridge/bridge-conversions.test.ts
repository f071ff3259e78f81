// The version bridge's conversions, through the real codecs: a request decoded at the client's
// version, converted, encoded at the target version and read back; the answer the other way.
import t from 'tap'
import { crc32, gzipSync } from 'node:zlib'
import { convertRequest, convertResponse } from '../../src/bridge/bridge-conversions.ts'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, ErrorCode, getApi } from '../../src/protocol/codec.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import { COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_ZSTD } from '../../src/protocol/compression.ts'
import { encodeMessageSet } from '../../src/protocol/message-set-encode.ts'
import { readMessageSet } from '../../src/protocol/message-set.ts'
import { readBatches } from '../../src/protocol/record-batch.ts'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.ts'
import { decodeRecordBatch, recordOffset, recordTimestamp } from '../../src/protocol/record-batch-records.ts'

const b = (s: string): Buffer => Buffer.from(s)

// A magic v1 gzip wrapper entry around `compressed` bytes, by hand:
//   offset int64, size int32, crc uint32, magic int8 = 1, attributes int8 = 1 (gzip),
//   timestamp int64, key bytes (null), value bytes
function v1Wrapper (compressed: Buffer): Buffer {
  const size = 4 + 1 + 1 + 8 + 4 + 4 + compressed.length
  const e = Buffer.alloc(12 + size)
  e.writeBigInt64BE(0n, 0)
  e.writeInt32BE(size, 8)
  e.writeInt8(1, 16)
  e.writeInt8(1, 17)
  e.writeBigInt64BE(1700000000000n, 18)
  e.writeInt32BE(-1, 26)
  e.writeInt32BE(compressed.length, 30)
  compressed.copy(e, 34)
  e.writeUInt32BE(crc32(e.subarray(16)), 12)
  return e
}
const payload = (frames: Buffer[]): Buffer => Buffer.concat(frames).subarray(4)

// A request as the client sends it, decoded as the bridge gets it.
function clientRequest (apiKey: number, version: number, body: unknown): any {
  return decodeRequest(payload(encodeRequest({ apiKey, apiVersion: version, correlationId: 7, clientId: 'old' }, body, 'decodable')), 'decodable').body
}

// The converted request as the broker reads it at the target version.
function upstreamReads (apiKey: number, version: number, body: unknown): any {
  return decodeRequest(payload(encodeRequest({ apiKey, apiVersion: version, correlationId: 7, clientId: 'old' }, body, 'decodable')), 'decodable').body
}

// An answer re-encoded at the client's version, as the client reads it.
function clientReads (apiKey: number, version: number, body: unknown): any {
  return decodeResponse(payload(encodeResponse(apiKey, version, { correlationId: 7 }, body, 'decodable')), apiKey, version, 'decodable').body
}

const produceApi = getApi(ApiKey.Produce)

function produceRequest (parts: Array<[number, Buffer | null]>): any {
  const rq = produceApi.request
  return {
    ...rq.create(),
    acks: -1,
    timeoutMs: 3000,
    topicData: [{ ...rq.structs.TopicProduceData!(), name: 'orders', partitionData: parts.map(([index, records]) => ({ ...rq.structs.PartitionProduceData!(), index, records })) }]
  }
}

t.test('Produce v2 -> v3: message sets become v2 batches; a broken partition is answered, the others go on', async t => {
  const messages = [
    { offset: 0n, timestamp: 1700000000000n, key: b('k0'), value: b('v0') },
    { offset: 1n, timestamp: 1700000000001n, key: null, value: b('v1') }
  ]
  const good = encodeMessageSet({ magic: 1, compression: COMPRESSION_GZIP, messages })
  const badCrc = Buffer.from(encodeMessageSet({ magic: 1, messages }))
  badCrc[12] ^= 0xff
  const body = clientRequest(ApiKey.Produce, 2, produceRequest([[0, good], [1, badCrc], [2, null]]))
  const conv = convertRequest(ApiKey.Produce, body, 2, 3)
  t.equal(conv.forward, true)
  t.same(conv.failed.map(f => [f.partition, f.errorCode, f.code]), [[1, ErrorCode.CORRUPT_MESSAGE, 'KPROXY_ERR_MESSAGE_SET_CRC']])
  const up = upstreamReads(ApiKey.Produce, 3, body)
  t.same(up.topicData[0].partitionData.map((p: any) => p.index), [0, 2])
  t.equal(up.transactionalId, null)
  const { batches } = readBatches(up.topicData[0].partitionData[0].records)
  t.equal(batches.length, 1)
  const d = decodeRecordBatch(batches[0]!.bytes)
  t.equal(d.header.attributes & 7, COMPRESSION_GZIP)
  t.same(d.records.map(r => [recordOffset(d.header, r), recordTimestamp(d.header, r), r.key?.toString() ?? null, r.value?.toString()]),
    [[0n, 1700000000000n, 'k0', 'v0'], [1n, 1700000000001n, null, 'v1']])

  // the broker answers v3 for partitions 0 and 2; the client reads a v2 answer with partition 1
  const rs = produceApi.response
  const answer = { ...rs.create(), responses: [{ ...rs.structs.TopicProduceResponse!(), name: 'orders', partitionResponses: [0, 2].map(index => ({ ...rs.structs.PartitionProduceResponse!(), index, baseOffset: 40n, logAppendTimeMs: -1n })) }] }
  const upAnswer = decodeResponse(payload(encodeResponse(ApiKey.Produce, 3, { correlationId: 7 }, answer, 'decodable')), ApiKey.Produce, 3).body
  t.same(convertResponse(ApiKey.Produce, upAnswer, 2, 3, conv), [])
  const got = clientReads(ApiKey.Produce, 2, upAnswer)
  t.same(got.responses[0].partitionResponses.map((p: any) => [p.index, p.errorCode, p.baseOffset]), [[0, 0, 40n], [2, 0, 40n], [1, 2, -1n]])
})

t.test('Produce: every partition broken -> nothing forwarded; a bomb over the budget is MESSAGE_TOO_LARGE', async t => {
  const inner = encodeMessageSet({ magic: 0, messages: [{ value: Buffer.alloc(4 << 20) }] })
  // a v0 wrapper around a gzip of 4 MiB of zeros
  const bomb = encodeMessageSet({ magic: 0, compression: COMPRESSION_GZIP, messages: [{ value: Buffer.alloc(4 << 20) }] })
  t.ok(bomb.length < 10_000 && inner.length > 4 << 20)
  const body = clientRequest(ApiKey.Produce, 0, produceRequest([[0, bomb], [1, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1])]]))
  const conv = convertRequest(ApiKey.Produce, body, 0, 3, { maxUncompressedSize: 1 << 20 })
  t.equal(conv.forward, false)
  t.same(conv.failed.map(f => [f.partition, f.errorCode, f.code]), [[0, ErrorCode.MESSAGE_TOO_LARGE, 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE'], [1, ErrorCode.CORRUPT_MESSAGE, 'KPROXY_ERR_MESSAGE_SET']])
  // nested compression (a compressed wrapper inside a compressed wrapper) is refused at the first level
  const innerWrapper = encodeMessageSet({ magic: 1, compression: COMPRESSION_GZIP, messages: [{ value: Buffer.alloc(1 << 20) }] })
  const body2 = clientRequest(ApiKey.Produce, 2, produceRequest([[0, v1Wrapper(gzipSync(innerWrapper))], [1, encodeMessageSet({ magic: 1, messages: [{ value: b('fine') }] })]]))
  const conv2 = convertRequest(ApiKey.Produce, body2, 2, 3)
  t.equal(conv2.forward, true)
  t.same(conv2.failed.map(f => [f.partition, f.errorCode, f.code]), [[0, ErrorCode.CORRUPT_MESSAGE, 'KPROXY_ERR_MESSAGE_SET']])
  t.match(conv2.failed[0]!.message, /nested|compress/i)
})

t.test('Fetch v3 -> v4: the answer\'s v2 batches become magic v1 sets (v0 for Fetch v0-1) within the client\'s sizes', async t => {
  const fq = getApi(ApiKey.Fetch).request
  const rq = {
    ...fq.create(),
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 10_000,
    topics: [{ ...fq.structs.FetchTopic!(), topic: 'orders', partitions: [0, 1, 2].map(partition => ({ ...fq.structs.FetchPartition!(), partition, fetchOffset: partition === 0 ? 2n : 0n, partitionMaxBytes: partition === 1 ? 100 : 1_000_000 })) }]
  }
  for (const version of [0, 1, 2, 3]) {
    const body = clientRequest(ApiKey.Fetch, version, rq)
    const conv = convertRequest(ApiKey.Fetch, body, version, 4)
    const up = upstreamReads(ApiKey.Fetch, 4, body)
    t.equal(up.isolationLevel, 0, 'READ_UNCOMMITTED, as every old fetch')
    t.equal(up.maxBytes, version === 3 ? 10_000 : 0x7fffffff)
    const rec = (i: number): any => ({ offsetDelta: i, timestampDelta: BigInt(i), key: b(`k${i}`), value: b(`v${i}`), headers: [{ key: 'h', value: b('x') }] })
    const plain = encodeRecordBatch({ baseOffset: 0n, baseTimestamp: 1700000000000n, records: [0, 1, 2, 3].map(rec) })
    const lz4 = encodeRecordBatch({ baseOffset: 4n, attributes: COMPRESSION_LZ4, baseTimestamp: 1700000000004n, records: [0, 1].map(rec) })
    const zstd = encodeRecordBatch({ baseOffset: 0n, attributes: COMPRESSION_ZSTD, baseTimestamp: 1700000000000n, records: [0, 1, 2, 3, 4, 5].map(rec) })
    const fs = getApi(ApiKey.Fetch).response
    const answer = {
      ...fs.create(),
      responses: [{
        ...fs.structs.FetchableTopicResponse!(),
        topic: 'orders',
        partitions: [
          { ...fs.structs.PartitionData!(), partitionIndex: 0, highWatermark: 6n, records: Buffer.concat([plain, lz4]) },
          { ...fs.structs.PartitionData!(), partitionIndex: 1, highWatermark: 6n, records: zstd },
          { ...fs.structs.PartitionData!(), partitionIndex: 2, highWatermark: 0n, records: null }
        ]
      }]
    }
    const upAnswer = decodeResponse(payload(encodeResponse(ApiKey.Fetch, 4, { correlationId: 7 }, answer, 'decodable')), ApiKey.Fetch, 4).body
    t.same(convertResponse(ApiKey.Fetch, upAnswer, version, 4, conv), [])
    const got = clientReads(ApiKey.Fetch, version, upAnswer)
    const [p0, p1, p2] = got.responses[0].partitions
    const m0 = readMessageSet(p0.records).messages
    const magic = version < 2 ? 0 : 1
    t.same(m0.map((m: any) => [m.offset, m.magic, m.timestamp, m.key.toString(), m.value.toString()]),
      [2n, 3n, 4n, 5n].map(o => [o, magic, magic === 0 ? -1n : 1700000000000n + o, `k${o < 4n ? o : o - 4n}`, `v${o < 4n ? o : o - 4n}`]),
      `v${version}: records from the fetch offset, lz4 wrapper kept, headers dropped`)
    t.equal(m0[2].compression, COMPRESSION_LZ4)
    t.ok(p1.records.length <= 100 || readMessageSet(p1.records).messages.length === 1, `v${version}: partition 1 within its 100 bytes (or its first message)`)
    t.same(readMessageSet(p1.records).messages.map((m: any) => m.compression), readMessageSet(p1.records).messages.map(() => 0), 'zstd, which v0/v1 cannot hold, as plain messages')
    t.equal(p2.records, null)
  }
})

t.test('Fetch v3: the request total is shared out; partitions past it answer with no records', async t => {
  const fq = getApi(ApiKey.Fetch).request
  const rq = { ...fq.create(), maxBytes: 50, topics: [{ ...fq.structs.FetchTopic!(), topic: 't', partitions: [0, 1].map(partition => ({ ...fq.structs.FetchPartition!(), partition, partitionMaxBytes: 1 << 20 })) }] }
  const body = clientRequest(ApiKey.Fetch, 3, rq)
  const conv = convertRequest(ApiKey.Fetch, body, 3, 4)
  const batch = encodeRecordBatch({ baseOffset: 0n, baseTimestamp: 1n, records: [0, 1, 2].map(i => ({ offsetDelta: i, timestampDelta: 0n, key: null, value: b(`value-${i}`) })) })
  const fs = getApi(ApiKey.Fetch).response
  const answer = { ...fs.create(), responses: [{ ...fs.structs.FetchableTopicResponse!(), topic: 't', partitions: [0, 1].map(i => ({ ...fs.structs.PartitionData!(), partitionIndex: i, records: batch })) }] }
  convertResponse(ApiKey.Fetch, answer, 3, 4, conv)
  const [p0, p1] = answer.responses[0]!.partitions as any[]
  t.equal(readMessageSet(p0.records).messages.length, 1, 'the first message of the first partition, over the total')
  t.equal(p1.records.length, 0, 'nothing left for the second: fetched next time')
})

t.test('Fetch: a corrupt batch from the upstream is CORRUPT_MESSAGE for that partition only', async t => {
  const fq = getApi(ApiKey.Fetch).request
  const body = clientRequest(ApiKey.Fetch, 2, { ...fq.create(), topics: [{ ...fq.structs.FetchTopic!(), topic: 't', partitions: [0, 1].map(partition => ({ ...fq.structs.FetchPartition!(), partition, partitionMaxBytes: 1 << 20 })) }] })
  const conv = convertRequest(ApiKey.Fetch, body, 2, 4)
  const batch = encodeRecordBatch({ baseOffset: 0n, baseTimestamp: 1n, records: [{ offsetDelta: 0, timestampDelta: 0n, key: null, value: b('x') }] })
  const bad = Buffer.from(batch)
  bad[bad.length - 1] ^= 0xff
  const fs = getApi(ApiKey.Fetch).response
  const answer = { ...fs.create(), responses: [{ ...fs.structs.FetchableTopicResponse!(), topic: 't', partitions: [bad, batch].map((records, i) => ({ ...fs.structs.PartitionData!(), partitionIndex: i, records })) }] }
  const failed = convertResponse(ApiKey.Fetch, answer, 2, 4, conv)
  t.same(failed.map(f => [f.partition, f.errorCode, f.code]), [[0, ErrorCode.CORRUPT_MESSAGE, 'KPROXY_ERR_RECORD_BATCH_CRC']])
  const [p0, p1] = answer.responses[0]!.partitions as any[]
  t.same([p0.errorCode, p0.records.length], [ErrorCode.CORRUPT_MESSAGE, 0])
  t.equal(readMessageSet(p1.records).messages.length, 1)
})

t.test('ListOffsets v0 -> v1: oldStyleOffsets from the one offset v1 answers', async t => {
  const lq = getApi(ApiKey.ListOffsets).request
  const body = clientRequest(ApiKey.ListOffsets, 0, {
    ...lq.create(),
    replicaId: -1,
    topics: [{ ...lq.structs.ListOffsetsTopic!(), name: 't', partitions: [[0, 1], [1, 0], [2, 5]].map(([partitionIndex, maxNumOffsets]) => ({ ...lq.structs.ListOffsetsPartition!(), partitionIndex, timestamp: -1n, maxNumOffsets })) }]
  })
  const conv = convertRequest(ApiKey.ListOffsets, body, 0, 1)
  t.same(upstreamReads(ApiKey.ListOffsets, 1, body).topics[0].partitions.map((p: any) => [p.partitionIndex, p.timestamp]), [[0, -1n], [1, -1n], [2, -1n]])
  const ls = getApi(ApiKey.ListOffsets).response
  const answer = { ...ls.create(), topics: [{ ...ls.structs.ListOffsetsTopicResponse!(), name: 't', partitions: [[0, 0, 42n], [1, 0, 42n], [2, 3, -1n]].map(([partitionIndex, errorCode, offset]) => ({ ...ls.structs.ListOffsetsPartitionResponse!(), partitionIndex, errorCode, offset })) }] }
  convertResponse(ApiKey.ListOffsets, answer, 0, 1, conv)
  const got = clientReads(ApiKey.ListOffsets, 0, answer)
  t.same(got.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode, p.oldStyleOffsets]), [[0, 0, [42n]], [1, 0, []], [2, 3, []]])
})

t.test('DescribeConfigs v0: isDefault from the config source; OffsetCommit v0/v1 by re-encoding alone', async t => {
  const ds = getApi(ApiKey.DescribeConfigs).response
  const answer = {
    ...ds.create(),
    results: [{ ...ds.structs.DescribeConfigsResult!(), resourceName: 't', configs: [['retention.ms', 5], ['cleanup.policy', 1]].map(([name, configSource]) => ({ ...ds.structs.DescribeConfigsResourceResult!(), name, value: 'x', configSource })) }]
  }
  convertResponse(ApiKey.DescribeConfigs, answer, 0, 1, convertRequest(ApiKey.DescribeConfigs, {}, 0, 1))
  t.same(clientReads(ApiKey.DescribeConfigs, 0, answer).results[0].configs.map((c: any) => [c.name, c.isDefault]), [['retention.ms', true], ['cleanup.policy', false]])

  const oq = getApi(ApiKey.OffsetCommit).request
  const v0 = clientRequest(ApiKey.OffsetCommit, 0, { ...oq.create(), groupId: 'zk-era', topics: [{ ...oq.structs.OffsetCommitRequestTopic!(), name: 't', partitions: [{ ...oq.structs.OffsetCommitRequestPartition!(), partitionIndex: 0, committedOffset: 9n, committedMetadata: 'm' }] }] })
  t.same(convertRequest(ApiKey.OffsetCommit, v0, 0, 2), { state: null, failed: [], forward: true })
  const up = upstreamReads(ApiKey.OffsetCommit, 2, v0)
  t.match(up, { groupId: 'zk-era', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1n })
  t.same(up.topics[0].partitions[0].committedOffset, 9n)
})
