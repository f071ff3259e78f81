// Writes message sets of magic v0 and v1 (grammar in message-set.ts). Uncompressed: one entry per
// message, with the offsets given. Compressed: ONE wrapper message whose value is the
// compressed inner set, as Kafka's MemoryRecordsBuilder wrote them: inner offsets relative to the
// first message in v1 (absolute in v0), the wrapper at the offset of the last message, its v1
// timestamp the largest inner one (or the log append time), its key null.
import { crc32 } from 'node:zlib'
import { compress, COMPRESSION_NONE } from './compression.ts'
import {
  LEGACY_ATTR_LOG_APPEND_TIME, LOG_OVERHEAD, MAGIC_V0, MAGIC_V1, malformedMessageSet, MESSAGE_OVERHEAD_V0,
  MESSAGE_OVERHEAD_V1, NO_TIMESTAMP
} from './message-set.ts'

export interface LegacyMessageInput {
  // default: the message's index in the set
  offset?: bigint
  // magic v1 only; default NO_TIMESTAMP (-1)
  timestamp?: bigint
  key?: Uint8Array | null
  value: Uint8Array | null
}

export interface MessageSetInput {
  magic: number
  // 0 none (default), 1 gzip, 2 snappy, 3 lz4; zstd did not exist before message format v2
  compression?: number
  // magic v1: the timestamps are the broker's log append time (attribute bit 3)
  logAppendTime?: boolean
  messages: readonly LegacyMessageInput[]
}

function messageSize (magic: number, key: Uint8Array | null | undefined, value: Uint8Array | null): number {
  return (magic === MAGIC_V0 ? MESSAGE_OVERHEAD_V0 : MESSAGE_OVERHEAD_V1) + (key?.length ?? 0) + (value?.length ?? 0)
}

function writeBytes (buf: Buffer, pos: number, bytes: Uint8Array | null | undefined): number {
  if (bytes == null) {
    buf.writeInt32BE(-1, pos)
    return pos + 4
  }
  buf.writeInt32BE(bytes.length, pos)
  buf.set(bytes, pos + 4)
  return pos + 4 + bytes.length
}

// One entry (offset, size, message with its CRC) at pos; returns the end position.
function writeEntry (buf: Buffer, pos: number, offset: bigint, magic: number, attributes: number, timestamp: bigint,
  key: Uint8Array | null | undefined, value: Uint8Array | null): number {
  const size = messageSize(magic, key, value)
  buf.writeBigInt64BE(offset, pos)
  buf.writeInt32BE(size, pos + 8)
  const start = pos + LOG_OVERHEAD
  buf.writeInt8(magic, start + 4)
  buf.writeInt8(attributes, start + 5)
  let p = start + 6
  if (magic === MAGIC_V1) {
    buf.writeBigInt64BE(timestamp, p)
    p += 8
  }
  p = writeBytes(buf, p, key)
  p = writeBytes(buf, p, value)
  buf.writeUInt32BE(crc32(buf.subarray(start + 4, p)), start)
  return p
}

function writeEntries (input: MessageSetInput, relativeTo: bigint, attributes: number): Buffer {
  const { magic, messages } = input
  let total = 0
  for (const m of messages) total += LOG_OVERHEAD + messageSize(magic, m.key, m.value)
  const buf = Buffer.alloc(total)
  let pos = 0
  messages.forEach((m, i) => {
    const offset = (m.offset ?? BigInt(i)) - relativeTo
    pos = writeEntry(buf, pos, offset, magic, attributes, magic === MAGIC_V1 ? m.timestamp ?? NO_TIMESTAMP : NO_TIMESTAMP, m.key, m.value)
  })
  return buf
}

export function encodeMessageSet (input: MessageSetInput): Buffer {
  const { magic, messages } = input
  const codec = input.compression ?? COMPRESSION_NONE
  if (magic !== MAGIC_V0 && magic !== MAGIC_V1) throw malformedMessageSet(`cannot write magic ${magic} as a message set`)
  const timeAttr = magic === MAGIC_V1 && input.logAppendTime === true ? LEGACY_ATTR_LOG_APPEND_TIME : 0
  if (codec === COMPRESSION_NONE || messages.length === 0) return writeEntries(input, 0n, timeAttr)

  const firstOffset = messages[0].offset ?? 0n
  const lastOffset = messages[messages.length - 1].offset ?? BigInt(messages.length - 1)
  const inner = writeEntries(input, magic === MAGIC_V1 ? firstOffset : 0n, timeAttr)
  const packed = compress(codec, inner, magic)
  let wrapperTime = NO_TIMESTAMP
  for (const m of messages) if ((m.timestamp ?? NO_TIMESTAMP) > wrapperTime) wrapperTime = m.timestamp ?? NO_TIMESTAMP
  const out = Buffer.alloc(LOG_OVERHEAD + messageSize(magic, null, packed))
  writeEntry(out, 0, lastOffset, magic, timeAttr | codec, magic === MAGIC_V1 ? wrapperTime : NO_TIMESTAMP, null, packed)
  return out
}
