// Snappy decompression as Kafka meets it, in pure TypeScript.
//
// Kafka's Java client writes snappy through snappy-java's SnappyOutputStream ("xerial" framing):
//   header := 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00  version:int32be  compatibleVersion:int32be
//   then blocks := (compressedLength:int32be  rawSnappyBlock[compressedLength])*
// librdkafka (kcat, confluent-kafka, ...) writes one RAW snappy block instead; snappy-java's
// reader accepts both (no magic = raw), and so do we.
//
// Raw snappy block (https://github.com/google/snappy/blob/main/format_description.txt):
//   preamble := uncompressedLength:uvarint
//   elements, by the low 2 bits of a tag byte:
//     00 literal: length-1 in tag>>2 (0..59), or 60..63 = 1..4 little-endian bytes of length-1
//     01 copy: length 4 + ((tag>>2)&7), offset ((tag>>5)<<8) | 1 byte
//     10 copy: length 1 + (tag>>2), offset 2 bytes little-endian
//     11 copy: length 1 + (tag>>2), offset 4 bytes little-endian
//   a copy repeats `length` bytes starting `offset` bytes back in the output (may overlap).
import { KproxyError } from '../kproxy-error.ts'

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_SIZE = 16
// the most output one input byte can yield is a 3-byte copy of 64 bytes: a declared size above
// this is a lie, refused before allocating it
const MAX_EXPANSION = 22

function corrupt (what: string): KproxyError {
  return new KproxyError('KPROXY_ERR_RECORD_BATCH',
    `Snappy-compressed records are corrupt (${what}); the producer or the stored batch is damaged.`)
}

export function isXerialSnappy (data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false
  return true
}

// Decompresses xerial-framed or raw snappy; refuses to produce more than maxOutput bytes.
export function snappyDecompress (data: Buffer, maxOutput: number): Buffer {
  if (!isXerialSnappy(data)) return rawBlock(data, 0, data.length, maxOutput, 0)
  const blocks: Buffer[] = []
  let total = 0
  let pos = XERIAL_HEADER_SIZE
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt('a xerial block length is cut short')
    const len = data.readInt32BE(pos)
    pos += 4
    if (len < 0 || len > data.length - pos) throw corrupt(`a xerial block claims ${len} bytes`)
    const block = rawBlock(data, pos, pos + len, maxOutput, total)
    total += block.length
    blocks.push(block)
    pos += len
  }
  return blocks.length === 1 ? blocks[0] : Buffer.concat(blocks, total)
}

function tooLarge (maxOutput: number): KproxyError {
  return new KproxyError('KPROXY_ERR_RECORD_BATCH_TOO_LARGE',
    `Snappy-compressed records expand beyond ${maxOutput} bytes; raise the decompression limit ` +
    'if such batches are expected.')
}

function rawBlock (src: Buffer, start: number, end: number, maxOutput: number, already: number): Buffer {
  // preamble: uncompressed length as an unsigned varint (at most 32 bits)
  let pos = start
  let outLen = 0
  for (let shift = 0; ; shift += 7) {
    if (pos >= end || shift > 28) throw corrupt('bad length preamble')
    const b = src[pos++]
    outLen += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) break
  }
  if (outLen > (end - pos) * MAX_EXPANSION + 64) throw corrupt(`${end - start} bytes cannot expand to ${outLen}`)
  if (already + outLen > maxOutput) throw tooLarge(maxOutput)
  const out = Buffer.allocUnsafe(outLen)
  let op = 0
  while (pos < end) {
    const tag = src[pos++]
    const kind = tag & 3
    if (kind === 0) {
      let len = tag >>> 2
      if (len >= 60) {
        const n = len - 59
        if (end - pos < n) throw corrupt('literal length cut short')
        len = 0
        for (let i = 0; i < n; i++) len += src[pos + i] * 2 ** (8 * i)
        pos += n
      }
      len += 1
      if (len > end - pos || len > outLen - op) throw corrupt('literal overruns the block')
      src.copy(out, op, pos, pos + len)
      pos += len
      op += len
      continue
    }
    let len: number
    let offset: number
    if (kind === 1) {
      if (pos >= end) throw corrupt('copy cut short')
      len = 4 + ((tag >>> 2) & 7)
      offset = ((tag >>> 5) << 8) | src[pos++]
    } else if (kind === 2) {
      if (end - pos < 2) throw corrupt('copy cut short')
      len = 1 + (tag >>> 2)
      offset = src[pos] | (src[pos + 1] << 8)
      pos += 2
    } else {
      if (end - pos < 4) throw corrupt('copy cut short')
      len = 1 + (tag >>> 2)
      offset = src.readUInt32LE(pos)
      pos += 4
    }
    if (offset === 0 || offset > op) throw corrupt('copy refers before the start of the output')
    if (len > outLen - op) throw corrupt('copy overruns the declared length')
    if (offset >= len) {
      out.copy(out, op, op - offset, op - offset + len)
      op += len
    } else {
      // overlapping copy repeats a pattern: byte by byte
      for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]
    }
  }
  if (op !== outLen) throw corrupt(`decoded ${op} bytes, the preamble announced ${outLen}`)
  return out
}
