import t from 'tap'
import { isXerialSnappy, snappyDecompress } from '../../src/protocol/compression-snappy.ts'
import { readBatches } from '../../src/protocol/record-batch.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'
import { segment } from '../fixtures/records/fixtures.ts'

const MAX = 1 << 20
const xerialHeader = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])

function xerial (...blocks: Buffer[]): Buffer {
  const parts: Buffer[] = [xerialHeader]
  for (const b of blocks) {
    const len = Buffer.alloc(4)
    len.writeInt32BE(b.length)
    parts.push(len, b)
  }
  return Buffer.concat(parts)
}

// "hello " then a 1-byte-offset copy of 5 bytes from 6 back
const helloHello = Buffer.from([11, 0x14, ...Buffer.from('hello '), 0x05, 6])
// 'a' then an overlapping 2-byte-offset copy of 9 bytes from 1 back
const tenA = Buffer.from([10, 0x00, 0x61, 0x22, 1, 0])

t.test('raw snappy elements: literals (short and 60+ forms), the three copy kinds, overlap', async t => {
  t.equal(snappyDecompress(helloHello, MAX).toString(), 'hello hello')
  t.equal(snappyDecompress(tenA, MAX).toString(), 'aaaaaaaaaa')
  const lit = Buffer.alloc(100, 0x41)
  t.same(snappyDecompress(Buffer.from([100, 0xf0, 99, ...lit]), MAX), lit, 'literal length in 1 extra byte')
  t.same(snappyDecompress(Buffer.from([100, 0xf4, 99, 0, ...lit]), MAX), lit, 'literal length in 2 extra bytes')
  // 4-byte-offset copy: "abcd" + copy 4 from 4 back
  t.equal(snappyDecompress(Buffer.from([8, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x0f, 4, 0, 0, 0]), MAX).toString(), 'abcdabcd')
  t.equal(snappyDecompress(Buffer.from([0]), MAX).length, 0, 'empty')
})

t.test('xerial framing: blocks are concatenated; header detection', async t => {
  const data = xerial(helloHello, tenA)
  t.ok(isXerialSnappy(data))
  t.notOk(isXerialSnappy(helloHello))
  t.notOk(isXerialSnappy(xerialHeader.subarray(0, 12)))
  t.equal(snappyDecompress(data, MAX).toString(), 'hello helloaaaaaaaaaa')
  t.equal(snappyDecompress(xerial(), MAX).length, 0)
})

t.test('real batches: Java writes xerial, librdkafka writes raw', async t => {
  t.ok(isXerialSnappy(readBatches(segment('java-snappy')).batches[0].bytes.subarray(61)))
  t.notOk(isXerialSnappy(readBatches(segment('kcat-snappy')).batches[0].bytes.subarray(61)))
})

t.test('corrupt input is KPROXY_ERR_RECORD_BATCH', async t => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['no preamble', Buffer.alloc(0), /preamble/],
    ['endless preamble', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /preamble/],
    ['copy before the start', Buffer.from([5, 0x05, 1]), /before the start/],
    ['copy offset 0', Buffer.from([6, 0x00, 0x61, 0x05, 0]), /before the start/],
    ['literal past the input', Buffer.from([10, 0x24, 0x61]), /literal overruns/],
    ['literal past the declared size', Buffer.from([1, 0x04, 0x61, 0x62]), /literal overruns/],
    ['copy past the declared size', Buffer.from([3, 0x00, 0x61, 0x22, 1, 0]), /copy overruns/],
    ['short output', Buffer.from([5, 0x00, 0x61]), /decoded 1 bytes, the preamble announced 5/],
    ['copy cut short', Buffer.from([5, 0x00, 0x61, 0x02, 1]), /copy cut short/],
    ['literal length cut short', Buffer.from([5, 0xf4, 1]), /literal length cut short/],
    ['xerial length past the end', xerial(helloHello).subarray(0, 25), /xerial block claims/],
    ['xerial length cut short', Buffer.concat([xerialHeader, Buffer.from([0, 0])]), /cut short/]
  ]
  for (const [what, bytes, message] of cases) {
    t.throws(() => snappyDecompress(bytes, MAX), { code: 'KPROXY_ERR_RECORD_BATCH', message }, what)
  }
})

t.test('sizes: an impossible preamble allocates nothing, a real one beyond the limit is TOO_LARGE', async t => {
  const before = process.memoryUsage().arrayBuffers
  // claims 4 GiB - 1 from 6 bytes
  t.throws(() => snappyDecompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), 2 ** 32),
    { code: 'KPROXY_ERR_RECORD_BATCH', message: /cannot expand/ })
  t.ok(process.memoryUsage().arrayBuffers - before < 1 << 20)
  t.throws(() => snappyDecompress(tenA, 9), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
  t.throws(() => snappyDecompress(xerial(tenA, tenA), 15), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' }, 'counted across blocks')
})

t.test('random and mutated input never throws anything but KproxyError', async t => {
  let a = 5
  const rnd = (): number => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return a >>> 8 }
  const real = readBatches(segment('java-big-snappy')).batches[0].bytes.subarray(61)
  const seeds = [helloHello, tenA, xerial(helloHello, tenA), real]
  for (let round = 0; round < 3000; round++) {
    let buf: Buffer
    if (round % 3 === 0) {
      buf = Buffer.alloc(rnd() % 64)
      for (let i = 0; i < buf.length; i++) buf[i] = rnd() & 0xff
    } else {
      buf = Buffer.from(seeds[round % seeds.length])
      for (let f = 0; f < 1 + (rnd() % 3); f++) buf[rnd() % buf.length] ^= 1 << (rnd() % 8)
    }
    try {
      snappyDecompress(buf, MAX)
    } catch (err) {
      if (!isKproxyError(err)) t.fail(`round ${round}: ${String(err)}`)
    }
  }
  t.pass('only KproxyErrors')
})
