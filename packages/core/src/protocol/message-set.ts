// Message sets: the record formats before record batches, magic v0 (Kafka 0.8-0.9) and v1
// (0.10, KIP-32). Kafka 4 removed them (KIP-724); clients that speak Produce v0-2 and Fetch v0-3
// still send and expect them, so the version bridge reads and writes them. A `records` field of
// those versions is a plain sequence of entries:
//
//   entry      := offset:int64  size:int32  message[size]
//   message v0 := crc:uint32  magic:int8 = 0  attributes:int8  key:bytes  value:bytes
//   message v1 := crc:uint32  magic:int8 = 1  attributes:int8  timestamp:int64  key:bytes  value:bytes
//   bytes      := length:int32 (-1 = null)  data[length]
//   crc        := CRC-32 (zlib's, not CRC-32C) of magic..end of the message
//   attributes := bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 (v1) timestamp type
//                 (0 create time, 1 log append time)
//
// A compressed message ("wrapper") holds in its value a whole inner message set, compressed.
// Magic v1: the inner offsets are relative (0..n-1) and the wrapper carries the absolute offset
// of the LAST inner message; with log append time the inner messages take the wrapper's
// timestamp. Magic v0: the inner offsets are absolute. Inner messages are never compressed
// again and have the wrapper's magic.
//
// A fetched message set may end with an entry cut short (the broker fills up to the requested
// size): that is reported as `partial`, not an error. Everything else that is not a valid set is
// a coded KproxyError, and decompression has one budget for the whole set, so a set of
// compression bombs fails before it allocates more than the budget.
import { crc32 } from 'node:zlib'
import { isKproxyError, KproxyError } from '../kproxy-error.ts'
import { compressionName, decompress, DEFAULT_MAX_UNCOMPRESSED_SIZE } from './compression.ts'

export const MAGIC_V0 = 0
export const MAGIC_V1 = 1
// offset + size: the part of an entry its size field does not count
export const LOG_OVERHEAD = 12
// crc, magic, attributes, key length, value length (+ timestamp in v1)
export const MESSAGE_OVERHEAD_V0 = 14
export const MESSAGE_OVERHEAD_V1 = 22
export const LEGACY_ATTR_COMPRESSION_MASK = 0x07
export const LEGACY_ATTR_LOG_APPEND_TIME = 0x08
export const NO_TIMESTAMP = -1n

export interface LegacyMessage {
  // absolute offset (for magic v1 inner messages: resolved from the wrapper's)
  offset: bigint
  magic: number
  // the message's own attributes (an inner message: its own, codec 0)
  attributes: number
  // NO_TIMESTAMP (-1) in magic v0; the wrapper's when it says log append time
  timestamp: bigint
  logAppendTime: boolean
  // codec of the wrapper the message came from, 0 when it was not compressed
  compression: number
  key: Buffer | null
  value: Buffer | null
}

// An entry cut short at the end of the set: from byte `position`, `available` bytes of the
// `expected` (-1 when even the size field is missing).
export interface PartialMessage {
  position: number
  available: number
  expected: number
}

export interface MessageSet {
  messages: LegacyMessage[]
  partial: PartialMessage | null
}

export interface ReadMessageSetOptions {
  // check every message's CRC-32 (default true)
  verifyCrc?: boolean
  // one budget for all the set's wrappers (default 100 MiB)
  maxUncompressedSize?: number
  // offsets must strictly increase (default true, as in fetched data). Produce requests carry
  // offsets the broker replaces (librdkafka writes 0 for each uncompressed message): false.
  strictOffsets?: boolean
}

export function malformedMessageSet (what: string): KproxyError {
  return new KproxyError('KPROXY_ERR_MESSAGE_SET',
    `Malformed message set: ${what}. The client sent bytes that are not valid message format ` +
    'v0/v1 messages.')
}

// The magic of the first entry of a `records` blob, or -1 when it is too short to tell. It sits
// at byte 16 in every format (v0/v1: offset, size, crc; v2: baseOffset, length, leader epoch).
export function recordsMagic (records: Buffer | null): number {
  return records === null || records.length < 17 ? -1 : records.readInt8(16)
}

interface ReadState {
  verifyCrc: boolean
  strict: boolean
  budget: number // decompressed bytes still allowed
  out: LegacyMessage[]
  lastOffset: bigint
}

export function readMessageSet (records: Buffer, options: ReadMessageSetOptions = {}): MessageSet {
  const st: ReadState = {
    verifyCrc: options.verifyCrc ?? true,
    strict: options.strictOffsets ?? true,
    budget: options.maxUncompressedSize ?? DEFAULT_MAX_UNCOMPRESSED_SIZE,
    out: [],
    lastOffset: -1n
  }
  let pos = 0
  while (pos < records.length) {
    const available = records.length - pos
    if (available < LOG_OVERHEAD) return { messages: st.out, partial: { position: pos, available, expected: -1 } }
    const size = records.readInt32BE(pos + 8)
    if (size < MESSAGE_OVERHEAD_V0) throw malformedMessageSet(`the entry at byte ${pos} declares ${size} bytes, less than a message header`)
    if (size > available - LOG_OVERHEAD) return { messages: st.out, partial: { position: pos, available, expected: size + LOG_OVERHEAD } }
    readEntry(st, records, pos, size, null)
    pos += LOG_OVERHEAD + size
  }
  return { messages: st.out, partial: null }
}

interface Wrapper {
  offset: bigint
  magic: number
  timestamp: bigint
  logAppendTime: boolean
  compression: number
}

// One message at `pos` (its entry header included), pushed onto st.out, or its inner messages.
function readEntry (st: ReadState, buf: Buffer, pos: number, size: number, wrapper: Wrapper | null): void {
  const offset = buf.readBigInt64BE(pos)
  const start = pos + LOG_OVERHEAD
  const end = start + size
  const storedCrc = buf.readUInt32BE(start)
  const magic = buf.readInt8(start + 4)
  if (magic !== MAGIC_V0 && magic !== MAGIC_V1) {
    throw malformedMessageSet(`the message at byte ${pos} has magic ${magic}` + (magic === 2 ? ' (a record batch inside a message set)' : ''))
  }
  if (size < (magic === MAGIC_V0 ? MESSAGE_OVERHEAD_V0 : MESSAGE_OVERHEAD_V1)) throw malformedMessageSet(`the v${magic} message at byte ${pos} is ${size} bytes, less than its header`)
  if (st.verifyCrc) {
    const crc = crc32(buf.subarray(start + 4, end))
    if (crc !== storedCrc) {
      throw new KproxyError('KPROXY_ERR_MESSAGE_SET_CRC',
        `The v${magic} message at offset ${offset} fails its CRC-32 check (stored 0x${storedCrc.toString(16)}, computed ` +
        `0x${crc.toString(16)}); the data was corrupted in transit or by the client.`)
    }
  }
  const attributes = buf.readInt8(start + 5)
  let p = start + 6
  const timestamp = magic === MAGIC_V1 ? buf.readBigInt64BE(p) : NO_TIMESTAMP
  if (magic === MAGIC_V1) p += 8
  const key = lengthPrefixed(buf, p, end, offset, 'key')
  p += 4 + (key?.length ?? 0)
  const value = lengthPrefixed(buf, p, end, offset, 'value')
  p += 4 + (value?.length ?? 0)
  if (p !== end) throw malformedMessageSet(`the message at offset ${offset} declares ${size} bytes but its fields use ${size - (end - p)}`)
  const compression = attributes & LEGACY_ATTR_COMPRESSION_MASK
  const logAppendTime = magic === MAGIC_V1 && (attributes & LEGACY_ATTR_LOG_APPEND_TIME) !== 0

  if (wrapper !== null) {
    if (compression !== 0) throw malformedMessageSet(`the message at offset ${offset} inside a ${compressionName(wrapper.compression)} wrapper is compressed again`)
    if (magic !== wrapper.magic) throw malformedMessageSet(`a v${wrapper.magic} wrapper holds a v${magic} message`)
    const useWrapperTime = wrapper.logAppendTime
    st.out.push({
      offset, // resolved by readWrapper
      magic,
      attributes,
      timestamp: useWrapperTime ? wrapper.timestamp : timestamp,
      logAppendTime: useWrapperTime || logAppendTime,
      compression: wrapper.compression,
      key,
      value
    })
    return
  }
  if (compression === 0) {
    push(st, { offset, magic, attributes, timestamp, logAppendTime, compression, key, value })
    return
  }
  if (value === null) throw malformedMessageSet(`the ${compressionName(compression)} wrapper at offset ${offset} has no value`)
  readWrapper(st, value, { offset, magic, timestamp, logAppendTime, compression })
}

function push (st: ReadState, m: LegacyMessage): void {
  if (st.strict && m.offset <= st.lastOffset) throw malformedMessageSet(`offset ${m.offset} follows offset ${st.lastOffset}: offsets out of order`)
  st.lastOffset = m.offset
  st.out.push(m)
}

function readWrapper (st: ReadState, packed: Buffer, w: Wrapper): void {
  let inner: Buffer
  try {
    // at least 1: zlib refuses a limit of 0, and a spent budget still fails on the first byte
    inner = decompress(w.compression, packed, Math.max(1, st.budget))
  } catch (err) {
    if (isKproxyError(err, 'KPROXY_ERR_RECORD_BATCH')) throw malformedMessageSet(`the wrapper at offset ${w.offset}: ${err.message}`)
    throw err
  }
  st.budget -= inner.length
  const first = st.out.length
  let pos = 0
  while (pos < inner.length) {
    if (inner.length - pos < LOG_OVERHEAD) throw malformedMessageSet(`the wrapper at offset ${w.offset} ends inside an entry`)
    const size = inner.readInt32BE(pos + 8)
    if (size < MESSAGE_OVERHEAD_V0 || size > inner.length - pos - LOG_OVERHEAD) {
      throw malformedMessageSet(`an entry inside the wrapper at offset ${w.offset} declares ${size} bytes`)
    }
    readEntry(st, inner, pos, size, w)
    pos += LOG_OVERHEAD + size
  }
  const msgs = st.out.splice(first)
  if (msgs.length === 0) throw malformedMessageSet(`the ${compressionName(w.compression)} wrapper at offset ${w.offset} holds no messages`)
  // v1: relative inner offsets, the wrapper names the absolute offset of the last one
  if (w.magic === MAGIC_V1) {
    const base = w.offset - msgs[msgs.length - 1].offset
    if (st.strict && base < 0n) throw malformedMessageSet(`the wrapper at offset ${w.offset} has inner offsets up to ${msgs[msgs.length - 1].offset}`)
    for (const m of msgs) m.offset += base
  }
  for (const m of msgs) push(st, m)
}

function lengthPrefixed (buf: Buffer, p: number, end: number, offset: bigint, what: string): Buffer | null {
  if (end - p < 4) throw malformedMessageSet(`the message at offset ${offset} ends before its ${what} length`)
  const n = buf.readInt32BE(p)
  if (n === -1) return null
  if (n < -1 || n > end - p - 4) throw malformedMessageSet(`the message at offset ${offset} has a ${what} of ${n} bytes`)
  return buf.subarray(p + 4, p + 4 + n)
}
