// Record batches, message format v2 (magic 2), the only format a Kafka 4 broker accepts. A
// `records` field (Produce request, Fetch response) and a log segment file are each a plain
// sequence of batches:
//
//   offset  field                 type    notes
//    0      baseOffset            int64   set by the broker (0 in Produce requests)
//    8      batchLength           int32   bytes that follow this field (batch size - 12)
//   12      partitionLeaderEpoch  int32   set by the broker
//   16      magic                 int8    2
//   17      crc                   uint32  CRC-32C of bytes 21..end (so 0..16 may change freely)
//   21      attributes            int16   bits 0-2 codec, 3 timestamp type (1 = log append time),
//                                         4 transactional, 5 control, 6 delete horizon set
//   23      lastOffsetDelta       int32
//   27      baseTimestamp         int64
//   35      maxTimestamp          int64
//   43      producerId            int64   -1 when not idempotent
//   51      producerEpoch         int16
//   53      baseSequence          int32
//   57      recordCount           int32
//   61      records               (compressed as a whole when the codec is not none)
//
// Here: read a header, list the batches of a blob as zero-copy views, check CRCs. Records are
// decoded in record-batch-records.ts and batches written in record-batch-encode.ts.
import { KproxyError } from '../kproxy-error.ts'
import { crc32c } from './crc32c.ts'

export const RECORD_BATCH_HEADER_SIZE = 61
// baseOffset + batchLength: the part of the header batchLength does not count
export const RECORD_BATCH_LOG_OVERHEAD = 12
export const RECORD_BATCH_MAGIC = 2
export const CRC_OFFSET = 17
export const ATTRIBUTES_OFFSET = 21

export const ATTR_COMPRESSION_MASK = 0x07
export const ATTR_LOG_APPEND_TIME = 0x08
export const ATTR_TRANSACTIONAL = 0x10
export const ATTR_CONTROL = 0x20
export const ATTR_DELETE_HORIZON = 0x40

export interface RecordBatchHeader {
  baseOffset: bigint
  // bytes after the batchLength field; the whole batch is batchLength + 12 bytes
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: bigint
  maxTimestamp: bigint
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

// One batch found in a blob: its header, its position, and its bytes as a view of the blob.
export interface RecordBatchView {
  header: RecordBatchHeader
  offset: number
  bytes: Buffer
}

// A batch cut short at the end of a blob (a Fetch response may end with one: the broker fills
// up to the requested size). Not an error; the consumer fetches it again from its offset.
export interface PartialBatch {
  offset: number
  // bytes present, and the full size when the length field was there (else -1)
  available: number
  expected: number
}

export interface RecordBatchList {
  batches: RecordBatchView[]
  partial: PartialBatch | null
}

export function malformed (what: string): KproxyError {
  return new KproxyError('KPROXY_ERR_RECORD_BATCH',
    `Malformed record batch: ${what}. The client or broker sent bytes that are not a valid ` +
    'message format v2 batch.')
}

// The first bytes of a batch, whatever its magic, say how long it is: returns the total size
// (length field + 12), or -1 when fewer than 12 bytes are there. Throws on a length that cannot
// hold a v2 header.
function batchSizeAt (buf: Buffer, offset: number): number {
  if (buf.length - offset < RECORD_BATCH_LOG_OVERHEAD) return -1
  const length = buf.readInt32BE(offset + 8)
  if (length < RECORD_BATCH_HEADER_SIZE - RECORD_BATCH_LOG_OVERHEAD) {
    throw malformed(`batch at byte ${offset} declares a length of ${length} bytes, less than a header`)
  }
  return length + RECORD_BATCH_LOG_OVERHEAD
}

function checkMagic (buf: Buffer, offset: number): void {
  const magic = buf.readInt8(offset + 16)
  if (magic !== RECORD_BATCH_MAGIC) {
    throw malformed(`batch at byte ${offset} has magic ${magic}; only message format v2 (magic 2) is ` +
      'supported' + (magic === 0 || magic === 1 ? ' (v0/v1 were written by Kafka before 0.11)' : ''))
  }
}

// Reads the 61-byte header of the batch starting at `offset`. The whole batch need not be there.
export function readBatchHeader (buf: Buffer, offset = 0): RecordBatchHeader {
  if (offset < 0 || buf.length - offset < RECORD_BATCH_HEADER_SIZE) {
    throw malformed(`${Math.max(0, buf.length - offset)} bytes at byte ${offset}, a header needs 61`)
  }
  batchSizeAt(buf, offset)
  checkMagic(buf, offset)
  return {
    baseOffset: buf.readBigInt64BE(offset),
    batchLength: buf.readInt32BE(offset + 8),
    partitionLeaderEpoch: buf.readInt32BE(offset + 12),
    magic: RECORD_BATCH_MAGIC,
    crc: buf.readUInt32BE(offset + 17),
    attributes: buf.readInt16BE(offset + 21),
    lastOffsetDelta: buf.readInt32BE(offset + 23),
    baseTimestamp: buf.readBigInt64BE(offset + 27),
    maxTimestamp: buf.readBigInt64BE(offset + 35),
    producerId: buf.readBigInt64BE(offset + 43),
    producerEpoch: buf.readInt16BE(offset + 51),
    baseSequence: buf.readInt32BE(offset + 53),
    recordCount: buf.readInt32BE(offset + 57)
  }
}

// Lists the batches of a records blob without copying. A trailing batch that is cut short is
// reported in `partial`; anything else that is not a v2 batch throws KPROXY_ERR_RECORD_BATCH.
export function readBatches (records: Buffer): RecordBatchList {
  const batches: RecordBatchView[] = []
  let pos = 0
  while (pos < records.length) {
    const size = batchSizeAt(records, pos)
    const available = records.length - pos
    if (available > 16) checkMagic(records, pos)
    if (size < 0 || size > available) {
      return { batches, partial: { offset: pos, available, expected: size } }
    }
    batches.push({ header: readBatchHeader(records, pos), offset: pos, bytes: records.subarray(pos, pos + size) })
    pos += size
  }
  return { batches, partial: null }
}

// Counts the batches of a blob and checks their framing, allocating nothing: for hot paths
// that only need to know the blob is well framed (e.g. Produce v3+ wants exactly one batch).
export function countBatches (records: Buffer): number {
  let pos = 0
  let n = 0
  while (pos < records.length) {
    const size = batchSizeAt(records, pos)
    // batchSizeAt guarantees size >= 61 when it is known
    if (size < 0 || size > records.length - pos) throw malformed(`batch at byte ${pos} is cut short`)
    checkMagic(records, pos)
    pos += size
    n++
  }
  return n
}

// Computes the CRC-32C of the batch at `offset` (attributes..end).
export function computeBatchCrc (buf: Buffer, offset = 0): number {
  const size = batchSizeAt(buf, offset)
  if (size < 0 || size > buf.length - offset) throw malformed(`batch at byte ${offset} is cut short`)
  return crc32c(buf, offset + ATTRIBUTES_OFFSET, offset + size)
}

// True when the CRC stored in the batch at `offset` matches its content.
export function verifyBatchCrc (buf: Buffer, offset = 0): boolean {
  const crc = computeBatchCrc(buf, offset)
  return crc === buf.readUInt32BE(offset + CRC_OFFSET)
}

export function batchCompression (header: RecordBatchHeader): number {
  return header.attributes & ATTR_COMPRESSION_MASK
}

export function isTransactionalBatch (header: RecordBatchHeader): boolean {
  return (header.attributes & ATTR_TRANSACTIONAL) !== 0
}

export function isControlBatch (header: RecordBatchHeader): boolean {
  return (header.attributes & ATTR_CONTROL) !== 0
}
