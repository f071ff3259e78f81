// The snappy encoder against the pure-TS decoder (compression-snappy.ts); against Kafka's Java
// (snappy-java's SnappyInputStream) in message-set-java.test.ts.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { isXerialSnappy, snappyDecompress } from '../../src/protocol/compression-snappy.ts'
import { snappyCompressBlock, snappyMaxCompressedLength, snappyXerialCompress } from '../../src/protocol/compression-snappy-encode.ts'

const MAX = 1 << 24

t.test('xerial streams round-trip through the decoder, any size', async t => {
  const text = Buffer.from('snappy snappy snappy, crackle and pop. '.repeat(4000))
  const cases: Array<[string, Buffer]> = [
    ['one byte', Buffer.from('x')], ['random 1000', randomBytes(1000)], ['zeros 32 KiB', Buffer.alloc(32768)], ['zeros 32 KiB + 1', Buffer.alloc(32769)],
    ['text 156 KB', text], ['random 100 KB', randomBytes(100_000)], ['long literal run', Buffer.concat([randomBytes(70_000), Buffer.alloc(5000)])]
  ]
  for (const [name, data] of cases) {
    const packed = snappyXerialCompress(data)
    t.ok(isXerialSnappy(packed), `${name}: xerial header`)
    t.same(snappyDecompress(packed, MAX), data, name)
  }
  t.ok(snappyXerialCompress(text).length < text.length / 10, 'repetitive text compresses')
  t.equal(snappyXerialCompress(Buffer.alloc(0)).length, 16, 'empty input: the header alone')
  t.same(snappyDecompress(snappyXerialCompress(Buffer.alloc(0)), MAX), Buffer.alloc(0))
  // blocks of 32 KiB: 100 KB gives four length-prefixed blocks
  const packed = snappyXerialCompress(randomBytes(100_000))
  let pos = 16
  let blocks = 0
  while (pos < packed.length) {
    pos += 4 + packed.readInt32BE(pos)
    blocks++
  }
  t.equal(blocks, 4)
})

t.test('raw blocks: copy forms and the worst case bound', async t => {
  // 'abcd' then a 60-byte copy at offset 4: short copies (1-byte offset) and 2-byte-offset copies
  const data = Buffer.from('abcd'.repeat(16))
  const out = Buffer.alloc(snappyMaxCompressedLength(data.length))
  const end = snappyCompressBlock(data, 0, data.length, out, 0)
  t.equal(out[0], 64, 'preamble: the length')
  t.same(snappyDecompress(out.subarray(0, end), MAX), data)
  t.ok(end < 12, `${end} bytes`)
  const far = Buffer.concat([Buffer.from('0123456789abcdef'), randomBytes(3000), Buffer.from('0123456789abcdef')])
  const o2 = Buffer.alloc(snappyMaxCompressedLength(far.length))
  t.same(snappyDecompress(o2.subarray(0, snappyCompressBlock(far, 0, far.length, o2, 0)), MAX), far, 'a copy 3000 bytes back')
  const random = randomBytes(70_000)
  const o3 = Buffer.alloc(snappyMaxCompressedLength(random.length))
  const e3 = snappyCompressBlock(random, 0, random.length, o3, 0)
  t.ok(e3 <= snappyMaxCompressedLength(random.length), 'within the bound')
  t.same(snappyDecompress(o3.subarray(0, e3), MAX), random)
})
