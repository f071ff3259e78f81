import t from 'tap'
import { lz4FrameDecompress } from '../../src/protocol/compression-lz4.ts'
import { readBatches } from '../../src/protocol/record-batch.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'
import { segment } from '../fixtures/records/fixtures.ts'

const MAX = 1 << 22
const MAGIC = [0x04, 0x22, 0x4d, 0x18]

function u32 (n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]
}

// a frame: FLG, BD (64 KiB blocks), HC (not verified), blocks, end mark
function frame (blocks: number[][], flg = 0x60, extra: number[] = [], trailer: number[] = []): Buffer {
  const bytes = [...MAGIC, flg, 0x40, ...extra, 0x00]
  for (const b of blocks) bytes.push(...b)
  bytes.push(0, 0, 0, 0, ...trailer)
  return Buffer.from(bytes)
}

function block (data: number[], { uncompressed = false, checksum = false } = {}): number[] {
  return [...u32(data.length | (uncompressed ? 0x80000000 : 0)), ...data, ...(checksum ? [1, 2, 3, 4] : [])]
}

// "hello " (6 literals) + match of 11 from 6 back + last literals "!"
const helloSeq = [0x67, ...Buffer.from('hello '), 6, 0, 0x10, 0x21]

t.test('sequences: literals, overlapping matches, length extensions', async t => {
  t.equal(lz4FrameDecompress(frame([block(helloSeq)]), MAX).toString(), 'hello hello hello!')
  // 20 literals (15 + 5) then a match of 4 + 15 + 255 + 10 = 284 from 1 back, no last literals
  const lits = Array.from({ length: 20 }, (_, i) => 0x61 + (i % 26))
  const out = lz4FrameDecompress(frame([block([0xff, 5, ...lits, 1, 0, 255, 10])]), MAX)
  t.equal(out.length, 20 + 284)
  t.equal(out.subarray(0, 20).toString(), 'abcdefghijklmnopqrst')
  t.ok(out.subarray(20).every(b => b === 0x74), 'the overlapping match repeats the last byte')
})

t.test('frame options: uncompressed blocks, block/content checksums, content size, skippable and concatenated frames', async t => {
  const raw = [...Buffer.from('raw!')]
  t.equal(lz4FrameDecompress(frame([block(raw, { uncompressed: true }), block(helloSeq)]), MAX).toString(), 'raw!hello hello hello!')
  const withChecksums = frame([block(helloSeq, { checksum: true })], 0x60 | 0x10 | 0x04 | 0x08, [18, 0, 0, 0, 0, 0, 0, 0], [9, 9, 9, 9])
  t.equal(lz4FrameDecompress(withChecksums, MAX).toString(), 'hello hello hello!')
  const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, ...u32(3), 1, 2, 3])
  const two = Buffer.concat([skippable, frame([block(raw, { uncompressed: true })]), frame([block(helloSeq)])])
  t.equal(lz4FrameDecompress(two, MAX).toString(), 'raw!hello hello hello!')
  // dependent blocks (FLG bit 5 clear): a match reaching into the previous block
  const dependent = frame([block(raw, { uncompressed: true }), block([0x00, 4, 0])], 0x40)
  t.equal(lz4FrameDecompress(dependent, MAX).toString(), 'raw!raw!')
})

t.test('real Kafka frames: Java (multi-block) and librdkafka', async t => {
  for (const name of ['java-big-lz4', 'java-lz4', 'kcat-lz4']) {
    const body = readBatches(segment(name)).batches[0].bytes.subarray(61)
    t.same([...body.subarray(0, 4)], MAGIC, `${name} is an LZ4 frame`)
    t.ok(lz4FrameDecompress(body, MAX).length > body.length, `${name} expands`)
  }
})

t.test('corrupt input is KPROXY_ERR_RECORD_BATCH', async t => {
  const good = frame([block(helloSeq)])
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /no frame/],
    ['bad magic', Buffer.from([1, 2, 3, 4, 0x60, 0x40, 0]), /bad frame magic/],
    ['trailing bytes', Buffer.concat([good, Buffer.from([1])]), /trailing bytes/],
    ['version 0', frame([], 0x20), /frame version 0/],
    ['dictionary', frame([], 0x61), /dictionary/],
    ['block size code 3', Buffer.from([...MAGIC, 0x60, 0x30, 0, 0, 0, 0, 0]), /block size code 3/],
    ['descriptor cut short', Buffer.from([...MAGIC, 0x60]), /descriptor cut short/],
    ['no end mark', good.subarray(0, good.length - 4), /block size cut short/],
    ['block past the input', Buffer.from([...MAGIC, 0x60, 0x40, 0, ...u32(100), 1, 2]), /block of 100 bytes/],
    ['block above its maximum', Buffer.from([...MAGIC, 0x60, 0x40, 0, ...u32(0x10001)]), /block of 65537 bytes/],
    ['match before the start', frame([block([0x10, 0x61, 2, 0])]), /before the start/],
    ['match offset 0', frame([block([0x10, 0x61, 0, 0])]), /before the start/],
    ['offset cut short', frame([block([0x10, 0x61, 1])]), /offset cut short/],
    ['literals past the block', frame([block([0x50, 0x61])]), /literals overrun/],
    ['literal length cut short', frame([block([0xf0, 255])]), /literal length cut short/],
    ['match length cut short', frame([block([0x1f, 0x61, 1, 0, 255])]), /match length cut short/],
    ['content checksum missing', frame([block(helloSeq)], 0x64), /frame cut short/],
    ['skippable frame cut short', Buffer.from([0x50, 0x2a, 0x4d, 0x18, ...u32(10), 1]), /skippable/]
  ]
  for (const [what, bytes, message] of cases) {
    t.throws(() => lz4FrameDecompress(bytes, MAX), { code: 'KPROXY_ERR_RECORD_BATCH', message }, what)
  }
})

t.test('a block cannot expand beyond its maximum, output beyond the limit is TOO_LARGE', async t => {
  // 1 literal, then matches of 4 + 15 + 255*k from 1 back
  const ext = (k: number): number[] => [...Array(k).fill(255), 0]
  const big = [0x1f, 0x61, 1, 0, ...ext(300)] // 1 + 19 + 76500 bytes > 64 KiB
  t.throws(() => lz4FrameDecompress(frame([block(big)]), MAX), { code: 'KPROXY_ERR_RECORD_BATCH', message: /beyond its maximum/ })
  const fits = [0x1f, 0x61, 1, 0, ...ext(250)] // 1 + 19 + 63750 bytes
  const bomb = frame(Array.from({ length: 20 }, () => block(fits)))
  t.ok(bomb.length < 6000)
  t.equal(lz4FrameDecompress(bomb, MAX).length, 20 * (1 + 19 + 63750))
  t.throws(() => lz4FrameDecompress(bomb, 200000), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
})

t.test('random and mutated input never throws anything but KproxyError', async t => {
  let a = 11
  const rnd = (): number => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return a >>> 8 }
  const real = readBatches(segment('java-big-lz4')).batches[0].bytes.subarray(61)
  const seeds = [frame([block(helloSeq)]), real, readBatches(segment('kcat-lz4')).batches[0].bytes.subarray(61)]
  for (let round = 0; round < 3000; round++) {
    let buf: Buffer
    if (round % 3 === 0) {
      buf = Buffer.from([...MAGIC, ...Array.from({ length: rnd() % 64 }, () => rnd() & 0xff)])
    } else {
      buf = Buffer.from(seeds[round % seeds.length])
      for (let f = 0; f < 1 + (rnd() % 3); f++) buf[rnd() % buf.length] ^= 1 << (rnd() % 8)
    }
    try {
      lz4FrameDecompress(buf, MAX)
    } catch (err) {
      if (!isKproxyError(err)) t.fail(`round ${round}: ${String(err)}`)
    }
  }
  t.pass('only KproxyErrors')
})
