// LZ4 compression as Kafka writes it (KafkaLZ4BlockOutputStream), in pure TypeScript: one LZ4
// frame (grammar in compression-lz4.ts) with independent 64 KiB blocks, no block or content
// checksums and no content size:
//   magic 0x184D2204 (LE)  FLG 0x60  BD 0x40  HC  (blockSize:uint32 LE  data)*  0x00000000
// HC is the second byte of xxHash32 over FLG..BD. Kafka before 0.10 hashed the magic number too
// (KAFKA-1493); message format v0 keeps that broken checksum, because the clients that write v0
// verify it on read (`brokenHeaderChecksum`). A block that does not shrink is stored as is (high
// bit of blockSize set).
//
// The block compressor is a greedy matcher over a hash table of 4-byte sequences, with the
// format's end rules: the last match starts at least 12 bytes before the end of the block and
// the last 5 bytes are literals. Sequences: token (literal length << 4 | match length - 4, 15 =
// more length bytes of 255.. follow), literals, offset:uint16 LE, extra match length bytes.
import { xxhash32 } from './xxhash32.ts'

const FRAME_MAGIC = 0x184d2204
const FLG = 0x60 // version 01, independent blocks
const BD = 0x40 // 64 KiB maximum block size
const BLOCK_SIZE = 64 * 1024
const MIN_MATCH = 4
const LAST_LITERALS = 5
const MATCH_FIND_LIMIT = 12
const MAX_OFFSET = 65535
const HASH_BITS = 14

// One table for every call (compression is synchronous): positions + 1, 0 = empty.
const table = new Int32Array(1 << HASH_BITS)

function hash (seq: number): number {
  return Math.imul(seq, 2654435761) >>> (32 - HASH_BITS)
}

// Worst case of a block: all literals, plus the length bytes.
function maxBlockSize (n: number): number {
  return n + Math.ceil(n / 255) + 16
}

function writeLength (dst: Buffer, pos: number, n: number): number {
  while (n >= 255) {
    dst[pos++] = 255
    n -= 255
  }
  dst[pos++] = n
  return pos
}

function sequence (dst: Buffer, pos: number, src: Buffer, anchor: number, litEnd: number, offset: number, matchLen: number): number {
  const lit = litEnd - anchor
  const ml = matchLen - MIN_MATCH
  dst[pos++] = (Math.min(lit, 15) << 4) | (matchLen === 0 ? 0 : Math.min(ml, 15))
  if (lit >= 15) pos = writeLength(dst, pos, lit - 15)
  src.copy(dst, pos, anchor, litEnd)
  pos += lit
  if (matchLen === 0) return pos // the last sequence: literals only
  dst[pos++] = offset & 0xff
  dst[pos++] = offset >>> 8
  if (ml >= 15) pos = writeLength(dst, pos, ml - 15)
  return pos
}

// Compresses src[start, end) as one LZ4 block into dst at pos; returns the end position.
export function lz4CompressBlock (src: Buffer, start: number, end: number, dst: Buffer, pos: number): number {
  table.fill(0)
  let anchor = start
  let ip = start
  const matchLimit = end - MATCH_FIND_LIMIT
  const matchEnd = end - LAST_LITERALS
  let misses = 0
  while (ip < matchLimit) {
    const seq = src.readUInt32LE(ip)
    const h = hash(seq)
    const ref = table[h] - 1
    table[h] = ip + 1
    if (ref < start || ip - ref > MAX_OFFSET || src.readUInt32LE(ref) !== seq) {
      ip += 1 + (misses++ >>> 6) // skip faster through data that does not compress
      continue
    }
    misses = 0
    let len = MIN_MATCH
    while (ip + len < matchEnd && src[ref + len] === src[ip + len]) len++
    pos = sequence(dst, pos, src, anchor, ip, ip - ref, len)
    ip += len
    anchor = ip
  }
  return sequence(dst, pos, src, anchor, end, 0, 0)
}

// The frame Kafka writes for a record batch (or a v0/v1 wrapper message) compressed with lz4.
export function lz4FrameCompress (data: Buffer, brokenHeaderChecksum = false): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / BLOCK_SIZE))
  const out = Buffer.allocUnsafe(7 + blocks * (4 + maxBlockSize(BLOCK_SIZE)) + 4)
  out.writeUInt32LE(FRAME_MAGIC, 0)
  out[4] = FLG
  out[5] = BD
  out[6] = (xxhash32(out, brokenHeaderChecksum ? 0 : 4, 6) >>> 8) & 0xff
  let pos = 7
  for (let start = 0; start < data.length; start += BLOCK_SIZE) {
    const end = Math.min(data.length, start + BLOCK_SIZE)
    const size = lz4CompressBlock(data, start, end, out, pos + 4) - pos - 4
    if (size < end - start) {
      out.writeUInt32LE(size, pos)
      pos += 4 + size
    } else {
      out.writeUInt32LE(((end - start) | 0x80000000) >>> 0, pos)
      data.copy(out, pos + 4, start, end)
      pos += 4 + end - start
    }
  }
  out.writeUInt32LE(0, pos)
  return out.subarray(0, pos + 4)
}
