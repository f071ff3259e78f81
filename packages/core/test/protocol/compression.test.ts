import t from 'tap'
import {
  COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_SNAPPY, COMPRESSION_ZSTD, compress, compressionName,
  decompress
} from '../../src/protocol/compression.ts'

const text = Buffer.from('kafka '.repeat(1000))

t.test('none is the identity, without a copy', async t => {
  t.equal(decompress(COMPRESSION_NONE, text), text)
  t.equal(compress(COMPRESSION_NONE, text), text)
})

t.test('gzip and zstd round-trip through node:zlib', async t => {
  for (const codec of [COMPRESSION_GZIP, COMPRESSION_ZSTD]) {
    const packed = compress(codec, text)
    t.ok(packed.length < text.length / 10, `${compressionName(codec)} compresses`)
    t.same(decompress(codec, packed), text)
    t.throws(() => decompress(codec, packed, 100), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE', message: /beyond 100 bytes/ })
    t.throws(() => decompress(codec, Buffer.from('not compressed at all')),
      { code: 'KPROXY_ERR_RECORD_BATCH', message: new RegExp(`${compressionName(codec)}-compressed records are corrupt`) })
  }
  t.equal(compress(COMPRESSION_GZIP, text)[0], 0x1f, 'gzip magic')
  t.same([...compress(COMPRESSION_ZSTD, text).subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd magic')
})

t.test('snappy (xerial) and lz4 (frame) round-trip through the pure-TS codecs', async t => {
  for (const codec of [COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
    const packed = compress(codec, text)
    t.ok(packed.length < text.length / 10, `${compressionName(codec)} compresses`)
    t.same(decompress(codec, packed), text)
    t.throws(() => decompress(codec, packed, 100), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
  }
  t.same([...compress(COMPRESSION_SNAPPY, text).subarray(0, 8)], [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0], 'xerial magic')
  // message format v0 writes the frame-header checksum Kafka used before 0.10 (KAFKA-1493)
  const v0 = compress(COMPRESSION_LZ4, text, 0)
  const v2 = compress(COMPRESSION_LZ4, text)
  t.not(v0[6], v2[6], 'a different header checksum')
  t.same(v0.subarray(7), v2.subarray(7), 'the same blocks')
  t.same(decompress(COMPRESSION_LZ4, v0), text, 'both read back')
})

t.test('unknown codecs, and zstd before format v2, are KPROXY_ERR_UNSUPPORTED_COMPRESSION', async t => {
  for (const codec of [5, 6, 7]) {
    t.throws(() => decompress(codec, text), { code: 'KPROXY_ERR_UNSUPPORTED_COMPRESSION', message: /not defined by Kafka/ })
    t.throws(() => compress(codec, text), { code: 'KPROXY_ERR_UNSUPPORTED_COMPRESSION', message: /use none, gzip, snappy, lz4 or zstd/ })
  }
  for (const magic of [0, 1]) {
    t.throws(() => compress(COMPRESSION_ZSTD, text, magic), { code: 'KPROXY_ERR_UNSUPPORTED_COMPRESSION', message: new RegExp(`message format v${magic}`) })
  }
  t.equal(compressionName(3), 'lz4')
  t.equal(compressionName(6), 'unknown (6)')
})
