// Records the version bridge can convert, for the session fuzz's corpus: the sample bodies carry
// bytes that are no message set and no record batch, so with them alone the bridge would only
// ever refuse. Here old clients' Produce v0-2 requests carry valid message sets (magic v0 up to
// Produce v1, v1 in v2; uncompressed and gzip, snappy, lz4), and the upstream's Fetch answers at
// the version old fetches go out at carry valid v2 batches (every codec), which the bridge turns
// into the old clients' message sets within their fetch sizes. Some partitions decompress to more
// than the bridge allows (the budget, fuzz-chain.ts), so that it answers those with an error.
//
// The old fetches ask for OLD_TOPIC partitions 0 and 1 from offset 2 with small sizes: the answers
// name the same partitions, so that offsets below the fetch offset are left out and sizes cut.
import { getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_SNAPPY, COMPRESSION_ZSTD } from '@kproxy/core/protocol/compression'
import { encodeMessageSet } from '@kproxy/core/protocol/message-set-encode'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { messageFormatOf } from '@kproxy/core/protocol/record-format-convert'

export const OLD_TOPIC = 'old-orders'
const FETCH_OFFSET = 2n
const PARTITION_MAX_BYTES = 160
const FETCH_MAX_BYTES = 260
const BASE_TIMESTAMP = 1_700_000_000_000n

// over the bridge's decompression budget once decompressed, a few hundred bytes compressed
const BOMB = Buffer.alloc(64 * 1024, 0x61)

function values (n: number, size: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size, 0x30 + i))
}

function messageSet (magic: number, codec: number, bomb: boolean): Buffer {
  const vs = bomb ? [BOMB] : values(3, 12)
  return encodeMessageSet({
    magic,
    compression: codec,
    messages: vs.map((value, i) => ({ offset: BigInt(i), timestamp: BASE_TIMESTAMP + BigInt(i), key: i % 2 === 0 ? Buffer.from(`k${i}`) : null, value }))
  })
}

// Produce v0-2 request bodies whose partitions carry valid message sets of the version's format,
// one body per codec (the last partition of one of them over the budget).
export function produceBodiesWithMessageSets (version: number): unknown[] {
  const rq = getApi(ApiKey.Produce).request
  const magic = messageFormatOf(ApiKey.Produce, version)
  return [COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4].map(codec => ({
    ...rq.create(),
    acks: codec === COMPRESSION_SNAPPY ? 0 : -1,
    timeoutMs: 3000,
    topicData: [{
      ...rq.structs.TopicProduceData!(),
      name: OLD_TOPIC,
      partitionData: [0, 1, 2].map(index => ({ ...rq.structs.PartitionProduceData!(), index, records: messageSet(magic, codec, codec === COMPRESSION_GZIP && index === 2) }))
    }]
  }))
}

// A Fetch v0-3 request body for OLD_TOPIC partitions 0 and 1 from FETCH_OFFSET, with small sizes.
export function oldFetchBody (): unknown {
  const rq = getApi(ApiKey.Fetch).request
  return {
    ...rq.create(),
    maxWaitMs: 100,
    minBytes: 1,
    maxBytes: FETCH_MAX_BYTES,
    topics: [{ ...rq.structs.FetchTopic!(), topic: OLD_TOPIC, partitions: [0, 1].map(partition => ({ ...rq.structs.FetchPartition!(), partition, fetchOffset: FETCH_OFFSET, partitionMaxBytes: PARTITION_MAX_BYTES })) }]
  }
}

function batches (codec: number, bomb: boolean): Buffer {
  const out: Buffer[] = []
  for (let b = 0; b < 2; b++) {
    const vs = bomb && b === 1 ? [BOMB] : values(3, 20)
    out.push(encodeRecordBatch({
      baseOffset: BigInt(b * 3),
      attributes: codec,
      baseTimestamp: BASE_TIMESTAMP,
      records: vs.map((value, i) => ({ timestampDelta: BigInt(i), key: i === 0 ? Buffer.from(`k${b}`) : null, value, headers: i === 1 ? [{ key: 'h', value: Buffer.from('v') }] : [] }))
    }))
  }
  return Buffer.concat(out)
}

// Fetch response bodies (at a version 4+) answering oldFetchBody with valid v2 batches, one body
// per codec (a partition of the zstd one over the budget), plus one for a topic it did not ask.
export function fetchAnswersWithBatches (): unknown[] {
  const rs = getApi(ApiKey.Fetch).response
  const answer = (topic: string, codec: number): unknown => ({
    ...rs.create(),
    responses: [{
      ...rs.structs.FetchableTopicResponse!(),
      topic,
      partitions: [0, 1].map(partitionIndex => ({ ...rs.structs.PartitionData!(), partitionIndex, highWatermark: 6n, lastStableOffset: 6n, records: batches(codec, codec === COMPRESSION_ZSTD && partitionIndex === 1) }))
    }]
  })
  return [...[COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4, COMPRESSION_ZSTD].map(codec => answer(OLD_TOPIC, codec)), answer('plain', COMPRESSION_NONE)]
}
