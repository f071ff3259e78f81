// The records inside a v2 batch (after the 61-byte header; decompressed first when the batch
// has a codec). Wire grammar of one record:
//   length:varint  attributes:int8  timestampDelta:varlong  offsetDelta:varint
//   keyLength:varint key[keyLength]  valueLength:varint value[valueLength]   (-1 = null)
//   headerCount:varint  (headerKeyLength:varint headerKey  headerValueLength:varint headerValue)*
// `length` counts the bytes after itself. Keys, values and header values are returned as views
// of the batch (or of the decompressed buffer), never copied.
import { KproxyError } from '../kproxy-error.ts'
import { readVarint, readVarlong, varintEnd } from './varint.ts'
import { decompress, DEFAULT_MAX_UNCOMPRESSED_SIZE } from './compression.ts'
import {
  ATTR_COMPRESSION_MASK, ATTR_LOG_APPEND_TIME, RECORD_BATCH_HEADER_SIZE, computeBatchCrc,
  malformed, readBatchHeader
} from './record-batch.ts'
import type { RecordBatchHeader } from './record-batch.ts'

export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface KafkaRecord {
  attributes: number
  timestampDelta: bigint
  offsetDelta: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

export interface DecodeRecordsOptions {
  // check the batch CRC-32C before decoding (default true, as Kafka consumers do)
  verifyCrc?: boolean
  // refuse compressed batches that expand beyond this many bytes (default 100 MiB)
  maxUncompressedSize?: number
}

export interface DecodedBatch {
  header: RecordBatchHeader
  records: KafkaRecord[]
}

// Decodes the one complete batch at the start of `batch` (e.g. a RecordBatchView's bytes).
export function decodeRecordBatch (batch: Buffer, options: DecodeRecordsOptions = {}): DecodedBatch {
  const header = readBatchHeader(batch, 0)
  const size = header.batchLength + 12
  if (size > batch.length) throw malformed(`batch declares ${size} bytes but ${batch.length} are present`)
  if (options.verifyCrc ?? true) {
    const crc = computeBatchCrc(batch, 0)
    if (crc !== header.crc) {
      throw new KproxyError('KPROXY_ERR_RECORD_BATCH_CRC',
        `Record batch at offset ${header.baseOffset} fails its CRC-32C check (stored ` +
        `0x${header.crc.toString(16)}, computed 0x${crc.toString(16)}); the data was ` +
        'corrupted in transit or on disk.')
    }
  }
  if (header.recordCount < 0) throw malformed(`negative record count ${header.recordCount}`)
  const body = batch.subarray(RECORD_BATCH_HEADER_SIZE, size)
  const codec = header.attributes & ATTR_COMPRESSION_MASK
  const data = decompress(codec, body, options.maxUncompressedSize ?? DEFAULT_MAX_UNCOMPRESSED_SIZE)
  return { header, records: decodeRecords(data, header.recordCount) }
}

// Decodes exactly `count` records filling all of `data` (an uncompressed records section).
export function decodeRecords (data: Buffer, count: number): KafkaRecord[] {
  const records: KafkaRecord[] = []
  let pos = 0
  for (let n = 0; n < count; n++) {
    if (pos >= data.length) throw malformed(`the batch announces ${count} records but holds ${n}`)
    const length = readVarint(data, pos)
    pos = varintEnd.offset
    // the six fixed fields take at least one byte each
    if (pos < 0 || length < 6 || length > data.length - pos) throw malformed(`record ${n} has a bad length`)
    const end = pos + length
    const attributes = data.readInt8(pos++)
    const timestampDelta = readVarlong(data, pos)
    pos = checked(varintEnd.offset, end, n, 'timestamp delta')
    const offsetDelta = readVarint(data, pos)
    pos = checked(varintEnd.offset, end, n, 'offset delta')
    const keyLength = readVarint(data, pos)
    pos = checked(varintEnd.offset, end, n, 'key length')
    const key = bytesAt(data, pos, keyLength, end, n, 'key')
    if (key !== null) pos += keyLength
    const valueLength = readVarint(data, pos)
    pos = checked(varintEnd.offset, end, n, 'value length')
    const value = bytesAt(data, pos, valueLength, end, n, 'value')
    if (value !== null) pos += valueLength
    const headerCount = readVarint(data, pos)
    pos = checked(varintEnd.offset, end, n, 'header count')
    if (headerCount < 0) throw malformed(`record ${n} has a negative header count`)
    const headers: RecordHeader[] = []
    for (let h = 0; h < headerCount; h++) {
      const hkLength = readVarint(data, pos)
      pos = checked(varintEnd.offset, end, n, 'header key length')
      if (hkLength < 0 || hkLength > end - pos) throw malformed(`record ${n} has a bad header key length`)
      const hkey = data.toString('utf8', pos, pos + hkLength)
      pos += hkLength
      const hvLength = readVarint(data, pos)
      pos = checked(varintEnd.offset, end, n, 'header value length')
      const hvalue = bytesAt(data, pos, hvLength, end, n, 'header value')
      if (hvalue !== null) pos += hvLength
      headers.push({ key: hkey, value: hvalue })
    }
    if (pos !== end) throw malformed(`record ${n} declares ${length} bytes but its fields use ${length - (end - pos)}`)
    records.push({ attributes, timestampDelta, offsetDelta, key, value, headers })
  }
  if (pos !== data.length) throw malformed(`${data.length - pos} bytes follow the ${count} records the batch announces`)
  return records
}

function checked (pos: number, end: number, n: number, field: string): number {
  if (pos < 0 || pos > end) throw malformed(`record ${n} has a bad ${field}`)
  return pos
}

function bytesAt (data: Buffer, pos: number, length: number, end: number, n: number, field: string): Buffer | null {
  if (length === -1) return null
  if (length < -1 || length > end - pos) throw malformed(`record ${n} has a bad ${field} length ${length}`)
  return data.subarray(pos, pos + length)
}

export function recordOffset (header: RecordBatchHeader, record: KafkaRecord): bigint {
  return header.baseOffset + BigInt(record.offsetDelta)
}

// With log-append time the broker stamps the batch and records inherit maxTimestamp.
export function recordTimestamp (header: RecordBatchHeader, record: KafkaRecord): bigint {
  if ((header.attributes & ATTR_LOG_APPEND_TIME) !== 0) return header.maxTimestamp
  return header.baseTimestamp + record.timestampDelta
}

// Control records (in batches with the control attribute) mark transaction ends:
//   key := version:int16 type:int16 (0 = ABORT, 1 = COMMIT)
//   value (end-transaction marker) := version:int16 coordinatorEpoch:int32
export const CONTROL_ABORT = 0
export const CONTROL_COMMIT = 1

export interface ControlRecord {
  type: number
  coordinatorEpoch: number
}

export function readControlRecord (record: KafkaRecord): ControlRecord {
  const key = record.key
  const value = record.value
  if (key === null || key.length < 4) throw malformed('a control record has no type in its key')
  const type = key.readInt16BE(2)
  const coordinatorEpoch = value !== null && value.length >= 6 ? value.readInt32BE(2) : -1
  return { type, coordinatorEpoch }
}
