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

t.test('unknown codecs, and encoding snappy/lz4, are KPROXY_ERR_UNSUPPORTED_COMPRESSION', async t => {
  for (const codec of [5, 6, 7]) {
    t.throws(() => decompress(codec, text), { code: 'KPROXY_ERR_UNSUPPORTED_COMPRESSION', message: /not defined by Kafka/ })
  }
  for (const codec of [COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
    t.throws(() => compress(codec, text), { code: 'KPROXY_ERR_UNSUPPORTED_COMPRESSION', message: /use none, gzip or zstd/ })
  }
  t.equal(compressionName(3), 'lz4')
  t.equal(compressionName(6), 'unknown (6)')
})
