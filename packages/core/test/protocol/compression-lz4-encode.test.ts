// The LZ4 encoder against the pure-TS decoder (compression-lz4.ts); against Kafka's Java
// (lz4-java through KafkaLZ4BlockInputStream) in message-set-java.test.ts.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { lz4FrameDecompress } from '../../src/protocol/compression-lz4.ts'
import { lz4CompressBlock, lz4FrameCompress } from '../../src/protocol/compression-lz4-encode.ts'
import { xxhash32 } from '../../src/protocol/xxhash32.ts'

const MAX = 1 << 24

function inputs (): Array<[string, Buffer]> {
  const text = Buffer.from('lorem ipsum dolor sit amet, '.repeat(5000))
  return [
    ['empty', Buffer.alloc(0)], ['one byte', Buffer.from('x')], ['12 bytes', Buffer.from('abcdabcdabcd')], ['13 bytes', Buffer.from('abcdabcdabcda')],
    ['random 1000', randomBytes(1000)], ['zeros 64 KiB', Buffer.alloc(65536)], ['zeros 64 KiB + 1', Buffer.alloc(65537)],
    ['text 140 KB', text], ['random 200 KB', randomBytes(200_000)], ['pattern with long literals', Buffer.concat([randomBytes(300), Buffer.alloc(300), randomBytes(17)])]
  ]
}

t.test('frames round-trip through the decoder, any size, compressible or not', async t => {
  for (const [name, data] of inputs()) {
    const frame = lz4FrameCompress(data)
    t.same(lz4FrameDecompress(frame, MAX), data, name)
    t.ok(frame.length <= data.length + 7 + 4 * Math.ceil(data.length / 65536 + 1) + 4, `${name}: never more than the stored size`)
  }
  const text = inputs()[7][1]
  t.ok(lz4FrameCompress(text).length < text.length / 20, 'repetitive text compresses')
})

t.test('the frame header: FLG 0x60, BD 0x40, and its checksum (correct, or the KAFKA-1493 one)', async t => {
  const frame = lz4FrameCompress(Buffer.from('abc'))
  t.same([...frame.subarray(0, 6)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40])
  t.equal(frame[6], (xxhash32(frame, 4, 6) >>> 8) & 0xff, 'checksum of FLG..BD')
  const broken = lz4FrameCompress(Buffer.from('abc'), true)
  t.equal(broken[6], (xxhash32(broken, 0, 6) >>> 8) & 0xff, 'magic v0: the checksum also covers the magic number')
  t.equal(frame.readUInt32LE(frame.length - 4), 0, 'end mark')
  // an incompressible block is stored (high bit of its size)
  const stored = lz4FrameCompress(randomBytes(100))
  t.equal(stored.readUInt32LE(7), (100 | 0x80000000) >>> 0)
})

t.test('blocks follow the end rules: the last 5 bytes are literals', async t => {
  const data = Buffer.alloc(100, 0x61)
  const out = Buffer.alloc(200)
  const end = lz4CompressBlock(data, 0, data.length, out, 0)
  // the last sequence is literals only: its token has no match part, the block ends with 5+ 'a'
  t.same([...out.subarray(end - 5, end)], [0x61, 0x61, 0x61, 0x61, 0x61])
  t.ok(end < 20, `100 equal bytes take ${end} bytes`)
})
