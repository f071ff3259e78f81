// Fetch v0-3 through the bridge. The request needs no change: decoded at v0-3, the fields Fetch
// v4 added have the defaults an old fetch meant (isolation level READ_UNCOMMITTED; no total limit
// before v3, 0x7fffffff as Kafka's own client sent). The answer's v2 record batches become the
// message sets the client's version carries (magic v0 up to Fetch v1, v1 in Fetch v2-3), with
// offsets, timestamps and compression as an old consumer expects (record-format-convert.ts).
//
// Sizes: v0/v1 messages take more bytes than v2 records, so a converted partition can outgrow the
// client's partition fetch size, and (Fetch v3) the request's total. Each partition keeps whole
// messages up to its limit, its first message always (as Kafka's own down-conversion did, so that
// the client makes progress); the request's total can be exceeded only by the first message of
// the first partition with records (KIP-74): once it is used up, the remaining partitions answer
// with no records and the client fetches them next time. Records below the fetch offset (a v2 batch may
// start before it) are left out of uncompressed sets, as an old broker never sent them.
import { isKproxyError } from '../kproxy-error.ts'
import { recordsMagic } from '../protocol/message-set.ts'
import { ApiKey } from '../protocol/generated/api-table.ts'
import { messageFormatOf, recordBatchesToMessageSet } from '../protocol/record-format-convert.ts'
import { errorCodeFor } from './produce-bridge.ts'
import type { PartitionFailure } from './produce-bridge.ts'

const NO_LIMIT = 0x7fffffff
const EMPTY = Buffer.alloc(0)

interface PartitionAsk {
  fetchOffset: bigint
  maxBytes: number
}

export interface FetchBridgeState {
  // topic -> partition -> what the client asked
  readonly asked: Map<string, Map<number, PartitionAsk>>
  // the request's total (Fetch v3), or 0x7fffffff
  readonly maxBytes: number
}

// Reads what the response conversion needs from a Fetch v0-3 request (decoded; left unchanged).
export function fetchRequestState (body: any): FetchBridgeState {
  const asked = new Map<string, Map<number, PartitionAsk>>()
  for (const t of body.topics) {
    let partitions = asked.get(t.topic)
    if (partitions === undefined) asked.set(t.topic, partitions = new Map())
    for (const p of t.partitions) partitions.set(p.partition, { fetchOffset: p.fetchOffset, maxBytes: p.partitionMaxBytes })
  }
  return { asked, maxBytes: typeof body.maxBytes === 'number' && body.maxBytes > 0 ? body.maxBytes : NO_LIMIT }
}

export interface FetchBridgeOptions {
  // decompressed bytes allowed per partition's records
  maxUncompressedSize?: number
}

// Edits a Fetch v4+ response body in place for the client's Fetch v0-3; returns the partitions
// whose records could not be converted (answered with CORRUPT_MESSAGE and no records).
export function fetchResponseToOld (body: any, clientVersion: number, state: FetchBridgeState, options: FetchBridgeOptions = {}): PartitionFailure[] {
  const magic = messageFormatOf(ApiKey.Fetch, clientVersion)
  const failed: PartitionFailure[] = []
  let remaining = state.maxBytes
  let first = true
  for (const topic of body.responses) {
    const asked = state.asked.get(topic.topic)
    for (const p of topic.partitions) {
      const records: Buffer | null = p.records
      if (records === null || records.length === 0) continue
      if (!first && remaining <= 0) {
        p.records = EMPTY
        continue
      }
      // a broker that still stores the old format (a 3.x topic) sent it as it is
      if (recordsMagic(records) >= 0 && recordsMagic(records) < 2) continue
      const ask = asked?.get(p.partitionIndex)
      const partitionMax = ask?.maxBytes ?? NO_LIMIT
      try {
        p.records = recordBatchesToMessageSet(records, magic, {
          maxBytes: Math.min(partitionMax, remaining),
          // a partition's first message always (Kafka's own down-conversion did so), unless the
          // request's total is what it would exceed and another partition already answered
          firstAlways: first || remaining >= partitionMax,
          ...(ask !== undefined ? { fromOffset: ask.fetchOffset } : {}),
          ...(options.maxUncompressedSize !== undefined ? { maxUncompressedSize: options.maxUncompressedSize } : {})
        })
      } catch (err) {
        p.records = EMPTY
        p.errorCode = errorCodeFor(err)
        failed.push({ topic: topic.topic, partition: p.partitionIndex, errorCode: p.errorCode, code: isKproxyError(err) ? err.code : 'KPROXY_ERR_INTERNAL', message: (err as Error).message })
        continue
      }
      remaining -= p.records.length
      if (p.records.length > 0) first = false
    }
  }
  return failed
}
