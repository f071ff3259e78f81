import t from 'tap'
import { crc32c, crc32cChunks } from '../../src/protocol/crc32c.ts'

// bit-at-a-time reference, straight from the definition, to check the sliced tables
function reference (buf: Uint8Array): number {
  let c = 0xffffffff
  for (const b of buf) {
    c ^= b
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  }
  return (c ^ 0xffffffff) >>> 0
}

t.test('published test vectors (RFC 3720 B.4 and the check value)', async t => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  t.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa)
  t.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43)
  t.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e)
  t.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c)
  t.equal(crc32c(Buffer.alloc(0)), 0)
})

t.test('matches the bit-wise definition for every length 0..64 and odd offsets', async t => {
  const data = Buffer.alloc(80)
  let x = 12345
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    data[i] = x >>> 24
  }
  for (let start = 0; start < 9; start++) {
    for (let len = 0; len <= 64; len++) {
      const got = crc32c(data, start, start + len)
      if (got !== reference(data.subarray(start, start + len))) {
        t.fail(`start ${start} len ${len}`)
        return
      }
    }
  }
  t.pass('all ranges agree')
})

t.test('incremental: seed chaining equals one pass, across any split', async t => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog, twice: the quick brown fox.')
  const whole = crc32c(data)
  for (let cut = 0; cut <= data.length; cut++) {
    t.equal(crc32c(data, cut, data.length, crc32c(data, 0, cut)), whole)
  }
  t.equal(crc32cChunks([data.subarray(0, 5), data.subarray(5, 40), data.subarray(40)]), whole)
  t.equal(crc32cChunks([]), 0)
})

t.test('rejects ranges outside the buffer', async t => {
  t.throws(() => crc32c(Buffer.alloc(4), 0, 5), RangeError)
  t.throws(() => crc32c(Buffer.alloc(4), 3, 2), RangeError)
  t.throws(() => crc32c(Buffer.alloc(4), -1, 2), RangeError)
})
