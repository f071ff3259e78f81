// Writes a v2 record batch (layout in record-batch.ts, record grammar in record-batch-records.ts):
// sizes first, then one allocation, then the CRC-32C over attributes..end. With a codec the
// records section is built, compressed (gzip, snappy, lz4 or zstd), and placed after the header.
import { crc32c } from './crc32c.ts'
import { compress, COMPRESSION_NONE } from './compression.ts'
import {
  ATTR_COMPRESSION_MASK, ATTRIBUTES_OFFSET, CRC_OFFSET, RECORD_BATCH_HEADER_SIZE, RECORD_BATCH_LOG_OVERHEAD,
  RECORD_BATCH_MAGIC
} from './record-batch.ts'
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts'

export interface RecordHeaderInput {
  key: string
  value: Uint8Array | null
}

export interface RecordInput {
  attributes?: number
  timestampDelta?: bigint
  // default: the record's index in the batch
  offsetDelta?: number
  key?: Uint8Array | null
  value: Uint8Array | null
  headers?: readonly RecordHeaderInput[]
}

// Field names match RecordBatchHeader, so a decoded header plus its records re-encodes as is.
// recordCount and batchLength are always derived; crc is always computed.
export interface RecordBatchInput {
  baseOffset?: bigint
  partitionLeaderEpoch?: number
  // bits 0-2 choose the codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
  attributes?: number
  // default: the largest offsetDelta (0 for an empty batch)
  lastOffsetDelta?: number
  baseTimestamp: bigint
  // default: baseTimestamp + the largest timestampDelta
  maxTimestamp?: bigint
  producerId?: bigint
  producerEpoch?: number
  baseSequence?: number
  records: readonly RecordInput[]
}

function recordBodySize (r: RecordInput, index: number): number {
  let size = 1 + sizeOfVarlong(r.timestampDelta ?? 0n) + sizeOfVarint(r.offsetDelta ?? index)
  size += r.key == null ? 1 : sizeOfVarint(r.key.length) + r.key.length
  size += r.value === null ? 1 : sizeOfVarint(r.value.length) + r.value.length
  const headers = r.headers ?? []
  size += sizeOfVarint(headers.length)
  for (const h of headers) {
    const k = Buffer.byteLength(h.key, 'utf8')
    size += sizeOfVarint(k) + k
    size += h.value === null ? 1 : sizeOfVarint(h.value.length) + h.value.length
  }
  return size
}

function writeBytes (buf: Buffer, pos: number, bytes: Uint8Array | null | undefined): number {
  if (bytes == null) return writeVarint(buf, pos, -1)
  pos = writeVarint(buf, pos, bytes.length)
  buf.set(bytes, pos)
  return pos + bytes.length
}

function writeRecords (buf: Buffer, pos: number, records: readonly RecordInput[], sizes: number[]): number {
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    pos = writeVarint(buf, pos, sizes[i])
    buf.writeInt8(r.attributes ?? 0, pos++)
    pos = writeVarlong(buf, pos, r.timestampDelta ?? 0n)
    pos = writeVarint(buf, pos, r.offsetDelta ?? i)
    pos = writeBytes(buf, pos, r.key)
    pos = writeBytes(buf, pos, r.value)
    const headers = r.headers ?? []
    pos = writeVarint(buf, pos, headers.length)
    for (const h of headers) {
      const k = Buffer.byteLength(h.key, 'utf8')
      pos = writeVarint(buf, pos, k)
      pos += buf.write(h.key, pos, k, 'utf8')
      pos = writeBytes(buf, pos, h.value)
    }
  }
  return pos
}

export function encodeRecordBatch (input: RecordBatchInput): Buffer {
  const records = input.records
  const attributes = input.attributes ?? 0
  const codec = attributes & ATTR_COMPRESSION_MASK
  const sizes: number[] = new Array(records.length)
  let recordsSize = 0
  let lastOffsetDelta = 0
  let maxDelta = 0n
  for (let i = 0; i < records.length; i++) {
    const s = recordBodySize(records[i], i)
    sizes[i] = s
    recordsSize += sizeOfVarint(s) + s
    const od = records[i].offsetDelta ?? i
    if (od > lastOffsetDelta) lastOffsetDelta = od
    const td = records[i].timestampDelta ?? 0n
    if (td > maxDelta) maxDelta = td
  }

  let out: Buffer
  if (codec === COMPRESSION_NONE) {
    out = Buffer.alloc(RECORD_BATCH_HEADER_SIZE + recordsSize)
    writeRecords(out, RECORD_BATCH_HEADER_SIZE, records, sizes)
  } else {
    const plain = Buffer.alloc(recordsSize)
    writeRecords(plain, 0, records, sizes)
    const packed = compress(codec, plain)
    out = Buffer.alloc(RECORD_BATCH_HEADER_SIZE + packed.length)
    packed.copy(out, RECORD_BATCH_HEADER_SIZE)
  }

  out.writeBigInt64BE(input.baseOffset ?? 0n, 0)
  out.writeInt32BE(out.length - RECORD_BATCH_LOG_OVERHEAD, 8)
  out.writeInt32BE(input.partitionLeaderEpoch ?? -1, 12)
  out.writeInt8(RECORD_BATCH_MAGIC, 16)
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET)
  out.writeInt32BE(input.lastOffsetDelta ?? lastOffsetDelta, 23)
  out.writeBigInt64BE(input.baseTimestamp, 27)
  out.writeBigInt64BE(input.maxTimestamp ?? input.baseTimestamp + maxDelta, 35)
  out.writeBigInt64BE(input.producerId ?? -1n, 43)
  out.writeInt16BE(input.producerEpoch ?? -1, 51)
  out.writeInt32BE(input.baseSequence ?? -1, 53)
  out.writeInt32BE(records.length, 57)
  out.writeUInt32BE(crc32c(out, ATTRIBUTES_OFFSET, out.length), CRC_OFFSET)
  return out
}
