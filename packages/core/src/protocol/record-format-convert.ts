// Converting between the old message sets (magic v0/v1, message-set.ts) and record batches
// (magic v2, record-batch*.ts), for the version bridge: an old producer's message set becomes the
// one v2 batch a Kafka 4 broker takes; a Kafka 4 fetch answer becomes the message set an old
// consumer reads. Keys, values, timestamps and order are kept; what the formats cannot carry:
//
//   v0/v1 -> v2   magic v0 has no timestamps: the records get NO_TIMESTAMP (-1), as Kafka's own
//                 up-conversion did; the batch is create time, without producer id (v0/v1 had no
//                 idempotence) and, in a produce request, renumbered 0..n-1 (the broker assigns
//                 the offsets anyway; old clients send 0 or relative offsets).
//   v2 -> v0/v1   offsets are kept (gaps from compaction too); record headers are dropped (v0/v1
//                 have none); v0 drops timestamps; control batches (transaction markers) are left
//                 out, old consumers would show them as messages; records of aborted transactions
//                 are kept, as Kafka did for Fetch v0-3, which only ever read uncommitted. Each
//                 batch stays one unit: uncompressed records as plain messages, a compressed batch
//                 as one wrapper re-compressed with its codec (zstd, which format v0/v1 cannot
//                 hold, as plain messages). A batch cut short at the end of the fetched bytes is
//                 left out; the client fetches it again from its offset.
import { KproxyError } from '../kproxy-error.ts'
import { COMPRESSION_NONE, COMPRESSION_ZSTD, decompress, DEFAULT_MAX_UNCOMPRESSED_SIZE } from './compression.ts'
import { ApiKey } from './generated/api-table.ts'
import { LOG_OVERHEAD, MAGIC_V0, malformedMessageSet, NO_TIMESTAMP, readMessageSet } from './message-set.ts'
import { encodeMessageSet } from './message-set-encode.ts'
import type { LegacyMessageInput } from './message-set-encode.ts'
import {
  ATTR_LOG_APPEND_TIME, batchCompression, computeBatchCrc, isControlBatch, RECORD_BATCH_HEADER_SIZE, readBatches
} from './record-batch.ts'
import { encodeRecordBatch } from './record-batch-encode.ts'
import type { RecordInput } from './record-batch-encode.ts'
import { decodeRecords } from './record-batch-records.ts'

// The message format (magic) a Produce or Fetch version carries: v0 until Produce/Fetch v1, v1
// (KIP-32, timestamps) in Produce v2 and Fetch v2-3, v2 (record batches, KIP-98) from Produce v3
// and Fetch v4.
export function messageFormatOf (apiKey: number, version: number): number {
  if (apiKey === ApiKey.Produce) return version < 2 ? 0 : version === 2 ? 1 : 2
  if (apiKey === ApiKey.Fetch) return version < 2 ? 0 : version < 4 ? 1 : 2
  throw new KproxyError('KPROXY_ERR_MESSAGE_SET', `API key ${apiKey} carries no records; only Produce and Fetch name a message format.`)
}

export interface ToRecordBatchOptions {
  // codec of the v2 batch: 'same' (default) takes the codec of the first compressed wrapper
  compression?: number | 'same'
  // 'renumber' (default, produce requests): offsets 0..n-1; 'preserve': the messages' offsets,
  // which must then increase
  offsets?: 'renumber' | 'preserve'
  verifyCrc?: boolean
  maxUncompressedSize?: number
}

// A message set (one partition of a Produce v0-2 request) as ONE v2 record batch; an empty set
// gives an empty buffer.
export function messageSetToRecordBatch (records: Buffer, options: ToRecordBatchOptions = {}): Buffer {
  const preserve = options.offsets === 'preserve'
  const set = readMessageSet(records, { verifyCrc: options.verifyCrc, maxUncompressedSize: options.maxUncompressedSize, strictOffsets: preserve })
  if (set.partial !== null && !preserve) {
    throw malformedMessageSet(`the last message (at byte ${set.partial.position}) is cut short: ${set.partial.available} of ${set.partial.expected} bytes`)
  }
  const messages = set.messages
  if (messages.length === 0) return Buffer.alloc(0)
  const codec = options.compression === undefined || options.compression === 'same'
    ? messages.find(m => m.compression !== COMPRESSION_NONE)?.compression ?? COMPRESSION_NONE
    : options.compression
  const baseOffset = preserve ? messages[0].offset : 0n
  const baseTimestamp = messages[0].timestamp
  let maxTimestamp = NO_TIMESTAMP
  const out: RecordInput[] = new Array(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    if (m.timestamp > maxTimestamp) maxTimestamp = m.timestamp
    const delta = preserve ? m.offset - baseOffset : BigInt(i)
    if (delta > 0x7fffffffn) throw malformedMessageSet(`offset ${m.offset} is too far from ${baseOffset} for one record batch`)
    out[i] = { offsetDelta: Number(delta), timestampDelta: m.timestamp - baseTimestamp, key: m.key, value: m.value }
  }
  return encodeRecordBatch({ baseOffset, attributes: codec, baseTimestamp, maxTimestamp, records: out })
}

export interface ToMessageSetOptions {
  // codec of the old messages: 'same' (default) keeps each batch's (zstd: none)
  compression?: number | 'same'
  verifyCrc?: boolean
  // one budget for every batch of the blob
  maxUncompressedSize?: number
  // Leave out records below this offset (the fetch offset): a v2 batch may start before it. Only
  // in uncompressed batches: a compressed batch stays one wrapper, as old brokers sent whole
  // wrappers and old clients skip the messages below their position themselves.
  fromOffset?: bigint
  // The old client's fetch size: only whole entries up to this many bytes (v0/v1 messages are
  // larger than v2 records, so a converted fetch can outgrow what the client asked for). The first
  // entry is always whole, even when larger (as Kafka answered since KIP-74), so that the client
  // can make progress; no batch is converted once the limit is reached.
  maxBytes?: number
  // false: not even the first entry when it exceeds maxBytes (a later partition of a fetch whose
  // total is used up)
  firstAlways?: boolean
}

// The v2 batches of a fetched `records` blob as a message set of magic v0 or v1.
export function recordBatchesToMessageSet (records: Buffer, magic: number, options: ToMessageSetOptions = {}): Buffer {
  if (magic !== MAGIC_V0 && magic !== 1) throw malformedMessageSet(`cannot convert record batches to magic ${magic}`)
  let budget = options.maxUncompressedSize ?? DEFAULT_MAX_UNCOMPRESSED_SIZE
  const maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER
  const fromOffset = options.fromOffset ?? -1n
  const parts: Buffer[] = []
  let total = 0
  for (const { header, bytes } of readBatches(records).batches) {
    if (total >= maxBytes) break
    if (isControlBatch(header) || header.recordCount === 0) continue
    if (options.verifyCrc ?? true) {
      const crc = computeBatchCrc(bytes, 0)
      if (crc !== header.crc) {
        throw new KproxyError('KPROXY_ERR_RECORD_BATCH_CRC',
          `Record batch at offset ${header.baseOffset} fails its CRC-32C check (stored 0x${header.crc.toString(16)}, ` +
          `computed 0x${crc.toString(16)}); the data was corrupted in transit or on disk.`)
      }
    }
    if (header.recordCount < 0) throw malformedMessageSet(`the batch at offset ${header.baseOffset} announces ${header.recordCount} records`)
    const codec = batchCompression(header)
    const data = decompress(codec, bytes.subarray(RECORD_BATCH_HEADER_SIZE), Math.max(1, budget))
    if (codec !== COMPRESSION_NONE) budget -= data.length
    const logAppendTime = (header.attributes & ATTR_LOG_APPEND_TIME) !== 0
    let messages: LegacyMessageInput[] = decodeRecords(data, header.recordCount).map(r => ({
      offset: header.baseOffset + BigInt(r.offsetDelta),
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + r.timestampDelta,
      key: r.key,
      value: r.value
    }))
    const target = options.compression === undefined || options.compression === 'same'
      ? (codec === COMPRESSION_ZSTD ? COMPRESSION_NONE : codec)
      : options.compression
    if (target === COMPRESSION_NONE && header.baseOffset < fromOffset) messages = messages.filter(m => m.offset! >= fromOffset)
    if (messages.length === 0) continue
    let part = encodeMessageSet({ magic, compression: target, logAppendTime, messages })
    if (total + part.length > maxBytes) {
      part = wholeEntries(part, parts.length === 0 && options.firstAlways !== false ? Math.max(maxBytes, firstEntryEnd(part)) : maxBytes - total)
      if (part.length > 0) {
        parts.push(part)
        total += part.length
      }
      break
    }
    parts.push(part)
    total += part.length
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total)
}

// entry := offset int64, size int32, message[size]
function firstEntryEnd (set: Buffer): number {
  return set.length < LOG_OVERHEAD ? set.length : LOG_OVERHEAD + set.readInt32BE(8)
}

// The leading entries of a message set that end within `limit` bytes.
function wholeEntries (set: Buffer, limit: number): Buffer {
  let pos = 0
  while (pos + LOG_OVERHEAD <= set.length) {
    const end = pos + LOG_OVERHEAD + set.readInt32BE(pos + 8)
    if (end > limit) break
    pos = end
  }
  return set.subarray(0, pos)
}
