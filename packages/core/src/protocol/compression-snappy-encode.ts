// Snappy compression as Kafka's Java client writes it (snappy-java's SnappyOutputStream, in every
// message format), in pure TypeScript: the xerial framing (grammar in compression-snappy.ts) with
// the input cut into 32 KiB blocks, each compressed as a raw snappy block:
//   header := 0x82 'SNAPPY' 0x00  version:int32be = 1  compatibleVersion:int32be = 1
//   blocks := (compressedLength:int32be  rawSnappyBlock)*
//
// A raw block is the uncompressed length (uvarint) followed by literals and copies, found by a
// greedy matcher over a hash table of 4-byte sequences. Copies use the 1-byte-offset form when
// they fit (length 4..11, offset < 2048), else the 2-byte-offset form (length 1..64, longer
// matches are split).
const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
const XERIAL_BLOCK_SIZE = 32 * 1024
const MIN_MATCH = 4
const MAX_OFFSET = 65535
const HASH_BITS = 14

const table = new Int32Array(1 << HASH_BITS)

function hash (seq: number): number {
  return Math.imul(seq, 0x1e35a7bd) >>> (32 - HASH_BITS)
}

// Worst case of a raw block: a 5-byte preamble, then literals with a tag of up to 5 bytes per 64 KiB
export function snappyMaxCompressedLength (n: number): number {
  return 32 + n + Math.ceil(n / 6)
}

function literal (dst: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  const n = end - start - 1
  if (n < 0) return pos
  if (n < 60) {
    dst[pos++] = n << 2
  } else {
    const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4
    dst[pos++] = (59 + bytes) << 2
    for (let i = 0; i < bytes; i++) dst[pos++] = (n >>> (8 * i)) & 0xff
  }
  src.copy(dst, pos, start, end)
  return pos + end - start
}

function copy (dst: Buffer, pos: number, offset: number, len: number): number {
  while (len > 0) {
    if (len >= MIN_MATCH && len <= 11 && offset < 2048) {
      dst[pos++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5)
      dst[pos++] = offset & 0xff
      return pos
    }
    // leave at least 4 for a last piece that may use the short form
    const n = len > 64 ? (len - 64 < MIN_MATCH ? 60 : 64) : len
    dst[pos++] = 2 | ((n - 1) << 2)
    dst[pos++] = offset & 0xff
    dst[pos++] = offset >>> 8
    len -= n
  }
  return pos
}

// Compresses src[start, end) as one raw snappy block into dst at pos; returns the end position.
export function snappyCompressBlock (src: Buffer, start: number, end: number, dst: Buffer, pos: number): number {
  for (let n = end - start; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      dst[pos++] = n
      break
    }
    dst[pos++] = (n & 0x7f) | 0x80
  }
  table.fill(0)
  let anchor = start
  let ip = start
  const limit = end - MIN_MATCH
  let misses = 0
  while (ip <= limit) {
    const seq = src.readUInt32LE(ip)
    const h = hash(seq)
    const ref = table[h] - 1
    table[h] = ip + 1
    if (ref < start || ip - ref > MAX_OFFSET || src.readUInt32LE(ref) !== seq) {
      ip += 1 + (misses++ >>> 5)
      continue
    }
    misses = 0
    let len = MIN_MATCH
    while (ip + len < end && src[ref + len] === src[ip + len]) len++
    pos = literal(dst, pos, src, anchor, ip)
    pos = copy(dst, pos, ip - ref, len)
    ip += len
    anchor = ip
  }
  return literal(dst, pos, src, anchor, end)
}

// The xerial stream Kafka's Java client writes for snappy.
export function snappyXerialCompress (data: Buffer): Buffer {
  const blocks = Math.ceil(data.length / XERIAL_BLOCK_SIZE)
  const out = Buffer.allocUnsafe(XERIAL_HEADER.length + blocks * (4 + snappyMaxCompressedLength(XERIAL_BLOCK_SIZE)))
  XERIAL_HEADER.copy(out, 0)
  let pos = XERIAL_HEADER.length
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_SIZE) {
    const end = Math.min(data.length, start + XERIAL_BLOCK_SIZE)
    const blockEnd = snappyCompressBlock(data, start, end, out, pos + 4)
    out.writeInt32BE(blockEnd - pos - 4, pos)
    pos = blockEnd
  }
  return out.subarray(0, pos)
}
