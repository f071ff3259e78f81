// LZ4 decompression as Kafka meets it, in pure TypeScript. Kafka (KafkaLZ4BlockOutputStream) and
// librdkafka both write the LZ4 FRAME format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md):
//   frame := magic 0x184D2204 (LE)  FLG  BD  [contentSize:8 LE]  [dictId:4]  HC
//            (blockSize:uint32 LE  data[blockSize & 0x7fffffff]  [blockChecksum:4])*  0x00000000
//            [contentChecksum:4]
//   FLG bits: 7-6 version = 01, 5 blocks independent, 4 block checksums, 3 content size,
//             2 content checksum, 0 dictionary id.  BD bits 6-4: max block size (4 = 64 KiB .. 7 = 4 MiB).
//   blockSize high bit set = the block is stored uncompressed.
//   skippable frames (magic 0x184D2A50..5F, size:uint32 LE, data) may appear between frames.
// The xxHash32 checksums (HC, block, content) are not verified here: the record batch's CRC-32C
// already covers these bytes, and verifyBatchCrc checks it. Blocks are decoded into one output,
// so frames with dependent blocks (matches reaching into the previous block) decode too.
//
// LZ4 block (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md), a run of sequences:
//   token: high nibble literal length, low nibble match length - 4 (15 = more bytes follow,
//   each adding 0..255, a byte < 255 ends the run); literals; offset:uint16 LE; the last
//   sequence of a block has literals only.
import { KproxyError } from '../kproxy-error.ts'

const FRAME_MAGIC = 0x184d2204
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50

function corrupt (what: string): KproxyError {
  return new KproxyError('KPROXY_ERR_RECORD_BATCH',
    `LZ4-compressed records are corrupt (${what}); the producer or the stored batch is damaged.`)
}

// A growable output capped at maxOutput; its size stays proportional to the input or to what was
// actually decoded, never to a size some header claims.
class Output {
  buf: Buffer
  len = 0
  readonly max: number
  constructor (initial: number, max: number) {
    this.max = max
    this.buf = Buffer.allocUnsafe(Math.max(64, Math.min(initial, max)))
  }

  reserve (n: number): void {
    const need = this.len + n
    if (need <= this.buf.length) return
    if (need > this.max) {
      throw new KproxyError('KPROXY_ERR_RECORD_BATCH_TOO_LARGE',
        `LZ4-compressed records expand beyond ${this.max} bytes; raise the decompression limit if ` +
        'such batches are expected.')
    }
    const next = Buffer.allocUnsafe(Math.min(this.max, Math.max(need, this.buf.length * 2)))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }
}

export function lz4FrameDecompress (data: Buffer, maxOutput: number): Buffer {
  const out = new Output(data.length * 4, maxOutput)
  let pos = 0
  if (data.length === 0) throw corrupt('no frame')
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt('trailing bytes after the last frame')
    const magic = data.readUInt32LE(pos)
    if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) {
      if (data.length - pos < 8) throw corrupt('skippable frame cut short')
      const skip = data.readUInt32LE(pos + 4)
      if (skip > data.length - pos - 8) throw corrupt('skippable frame cut short')
      pos += 8 + skip
      continue
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`)
    pos = frame(data, pos + 4, out)
  }
  return out.buf.subarray(0, out.len)
}

function frame (src: Buffer, start: number, out: Output): number {
  let pos = start
  if (src.length - pos < 3) throw corrupt('frame descriptor cut short')
  const flg = src[pos++]
  const bd = src[pos++]
  if ((flg >>> 6) !== 1) throw corrupt(`unsupported frame version ${flg >>> 6}`)
  if ((flg & 0x01) !== 0) throw corrupt('frames with a dictionary are not supported')
  const blockChecksums = (flg & 0x10) !== 0
  const contentChecksum = (flg & 0x04) !== 0
  const blockMaxCode = (bd >>> 4) & 7
  if (blockMaxCode < 4) throw corrupt(`bad block size code ${blockMaxCode}`)
  const blockMax = 1 << (8 + 2 * blockMaxCode)
  if ((flg & 0x08) !== 0) pos += 8 // content size: advisory, the output grows as needed
  pos += 1 // header checksum
  if (pos > src.length) throw corrupt('frame descriptor cut short')
  for (;;) {
    if (src.length - pos < 4) throw corrupt('block size cut short')
    const word = src.readUInt32LE(pos)
    pos += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if (size > blockMax || size > src.length - pos) throw corrupt(`block of ${size} bytes`)
    if ((word & 0x80000000) !== 0) {
      out.reserve(size)
      src.copy(out.buf, out.len, pos, pos + size)
      out.len += size
    } else {
      block(src, pos, pos + size, out, blockMax)
    }
    pos += size
    if (blockChecksums) pos += 4
  }
  if (contentChecksum) pos += 4
  if (pos > src.length) throw corrupt('frame cut short')
  return pos
}

function block (src: Buffer, start: number, end: number, out: Output, blockMax: number): void {
  const blockStart = out.len
  let pos = start
  while (pos < end) {
    const token = src[pos++]
    let litLen = token >>> 4
    if (litLen === 15) {
      let b: number
      do {
        if (pos >= end) throw corrupt('literal length cut short')
        b = src[pos++]
        litLen += b
      } while (b === 255)
    }
    if (litLen > end - pos) throw corrupt('literals overrun the block')
    if (out.len - blockStart + litLen > blockMax) throw corrupt('block expands beyond its maximum size')
    out.reserve(litLen)
    src.copy(out.buf, out.len, pos, pos + litLen)
    out.len += litLen
    pos += litLen
    if (pos === end) return // the last sequence has no match
    if (end - pos < 2) throw corrupt('match offset cut short')
    const offset = src[pos] | (src[pos + 1] << 8)
    pos += 2
    let matchLen = (token & 15) + 4
    if ((token & 15) === 15) {
      let b: number
      do {
        if (pos >= end) throw corrupt('match length cut short')
        b = src[pos++]
        matchLen += b
      } while (b === 255)
    }
    if (offset === 0 || offset > out.len) throw corrupt('match refers before the start of the output')
    if (out.len - blockStart + matchLen > blockMax) throw corrupt('block expands beyond its maximum size')
    out.reserve(matchLen)
    const buf = out.buf
    let op = out.len
    if (offset >= matchLen) {
      buf.copy(buf, op, op - offset, op - offset + matchLen)
      op += matchLen
    } else {
      for (let i = 0; i < matchLen; i++, op++) buf[op] = buf[op - offset]
    }
    out.len = op
  }
}
