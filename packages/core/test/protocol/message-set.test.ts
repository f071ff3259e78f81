// Message sets of magic v0 and v1: the wire grammar byte by byte, compressed wrappers, partial
// entries, and every kind of bad input as a coded error. (Against Kafka's own Java classes:
// message-set-java.test.ts.)
import t from 'tap'
import { crc32, gunzipSync, gzipSync } from 'node:zlib'
import { COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_SNAPPY, compress } from '../../src/protocol/compression.ts'
import { readMessageSet, recordsMagic } from '../../src/protocol/message-set.ts'
import { encodeMessageSet } from '../../src/protocol/message-set-encode.ts'
import type { LegacyMessageInput } from '../../src/protocol/message-set-encode.ts'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.ts'

const b = (s: string): Buffer => Buffer.from(s)

// An entry edited after the fact, with its CRC made right again (so the edit is what is tested).
function edited (e: Buffer, edit: (e: Buffer) => void): Buffer {
  const c = Buffer.from(e)
  edit(c)
  c.writeUInt32BE(crc32(c.subarray(16)), 12)
  return c
}

// One entry built by hand from the grammar, independent of the encoder.
function entry (offset: bigint, magic: number, attributes: number, key: Buffer | null, value: Buffer | null, timestamp = -1n, crcOverride?: number): Buffer {
  const parts: Buffer[] = [Buffer.from([magic, attributes])]
  if (magic === 1) {
    const ts = Buffer.alloc(8)
    ts.writeBigInt64BE(timestamp)
    parts.push(ts)
  }
  for (const x of [key, value]) {
    const len = Buffer.alloc(4)
    len.writeInt32BE(x === null ? -1 : x.length)
    parts.push(len)
    if (x !== null) parts.push(x)
  }
  const body = Buffer.concat(parts)
  const head = Buffer.alloc(16)
  head.writeBigInt64BE(offset, 0)
  head.writeInt32BE(body.length + 4, 8)
  head.writeUInt32BE(crcOverride ?? crc32(body), 12)
  return Buffer.concat([head, body])
}

t.test('the v0 and v1 grammar, byte by byte', async t => {
  const v0 = encodeMessageSet({ magic: 0, messages: [{ offset: 5n, key: b('k1'), value: b('v1') }, { offset: 6n, key: null, value: b('v2') }] })
  t.equal(v0.toString('hex'), entry(5n, 0, 0, b('k1'), b('v1')).toString('hex') + entry(6n, 0, 0, null, b('v2')).toString('hex'))
  // checked against what Kafka 3.9's MemoryRecordsBuilder wrote for the same two records
  t.equal(v0.toString('hex'), '00000000000000050000001257e7496e0000000000026b31000000027631000000000000000600000010d5960a780000ffffffff000000027632')
  const v1 = encodeMessageSet({ magic: 1, messages: [{ offset: 0n, timestamp: 1700000000000n, key: b('k'), value: null }] })
  t.equal(v1.toString('hex'), entry(0n, 1, 0, b('k'), null, 1700000000000n).toString('hex'))
  t.equal(recordsMagic(v0), 0)
  t.equal(recordsMagic(v1), 1)
  t.equal(recordsMagic(encodeRecordBatch({ baseTimestamp: 0n, records: [{ value: null }] })), 2)
  t.equal(recordsMagic(Buffer.alloc(5)), -1)
  t.equal(recordsMagic(null), -1)

  const read = readMessageSet(Buffer.concat([v0]))
  t.equal(read.partial, null)
  t.same(read.messages.map(m => [m.offset, m.magic, m.timestamp, m.key?.toString() ?? null, m.value?.toString() ?? null]),
    [[5n, 0, -1n, 'k1', 'v1'], [6n, 0, -1n, null, 'v2']])
  const one = readMessageSet(v1).messages[0]
  t.match(one, { offset: 0n, magic: 1, timestamp: 1700000000000n, logAppendTime: false, compression: 0, value: null })
})

const sample: LegacyMessageInput[] = [
  { offset: 100n, timestamp: 1700000000000n, key: b('a'), value: b('alpha '.repeat(20)) },
  { offset: 101n, timestamp: 1700000000007n, key: null, value: b('beta') },
  { offset: 104n, timestamp: 1699999999999n, key: b(''), value: null },
  { offset: 105n, timestamp: 1700000000003n, key: b('d'), value: Buffer.alloc(0) }
]

t.test('every magic and codec round-trips keys, values, offsets and timestamps', async t => {
  for (const magic of [0, 1]) {
    for (const compression of [COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
      const set = encodeMessageSet({ magic, compression, messages: sample })
      const { messages, partial } = readMessageSet(set)
      const what = `v${magic} codec ${compression}`
      t.equal(partial, null)
      t.same(messages.map(m => [m.offset, m.timestamp, m.key, m.value, m.compression, m.magic]),
        sample.map(s => [s.offset, magic === 0 ? -1n : s.timestamp, s.key, s.value, compression, magic]), what)
      if (compression !== COMPRESSION_NONE) {
        t.equal(set.readBigInt64BE(0), 105n, `${what}: the wrapper carries the last offset`)
        t.equal(set.readInt8(17) & 7, compression, `${what}: wrapper attributes name the codec`)
        if (magic === 1) t.equal(set.readBigInt64BE(18), 1700000000007n, `${what}: wrapper timestamp is the largest`)
      }
    }
  }
})

t.test('inner offsets: relative in a v1 wrapper, absolute in a v0 wrapper', async t => {
  const inner = (magic: number): bigint[] => {
    const set = encodeMessageSet({ magic, compression: COMPRESSION_GZIP, messages: sample })
    const value = set.subarray(12 + (magic === 1 ? 22 : 14))
    const plain = readMessageSet(gunzipSync(value), { strictOffsets: false })
    return plain.messages.map(m => m.offset)
  }
  t.same(inner(1), [0n, 1n, 4n, 5n])
  t.same(inner(0), [100n, 101n, 104n, 105n])
  // a hand-made v1 wrapper: relative offsets 0..2, the wrapper at 42 -> 40, 41, 42
  const plain = Buffer.concat([0n, 1n, 2n].map(o => entry(o, 1, 0, null, b(`m${o}`), 7n)))
  const wrapper = entry(42n, 1, COMPRESSION_GZIP, null, gzipSync(plain), 9n)
  t.same(readMessageSet(wrapper).messages.map(m => [m.offset, m.value?.toString(), m.timestamp]), [[40n, 'm0', 7n], [41n, 'm1', 7n], [42n, 'm2', 7n]])
  // log append time on the wrapper: inner messages take its timestamp
  const lat = entry(42n, 1, COMPRESSION_GZIP | 0x08, null, gzipSync(plain), 9n)
  t.same(readMessageSet(lat).messages.map(m => [m.timestamp, m.logAppendTime]), [[9n, true], [9n, true], [9n, true]])
  const encoded = encodeMessageSet({ magic: 1, compression: COMPRESSION_LZ4, logAppendTime: true, messages: sample.map(s => ({ ...s, timestamp: 5n })) })
  t.same(readMessageSet(encoded).messages.map(m => [m.timestamp, m.logAppendTime]), sample.map(() => [5n, true]))
})

t.test('a message cut short at the end of a fetched set is partial, not an error', async t => {
  const set = encodeMessageSet({ magic: 1, messages: sample })
  const first = 12 + 22 + 1 + 120
  const whole = readMessageSet(set.subarray(0, set.length - 1))
  t.equal(whole.messages.length, 3, 'the last message cut by one byte')
  t.equal(whole.partial?.expected, set.length - whole.partial!.position)
  for (const cut of [first + 5, first + 12, first + 20]) {
    const r = readMessageSet(set.subarray(0, cut))
    t.equal(r.messages.length, 1, `cut at ${cut}: the whole first message`)
    t.equal(r.partial?.position, first)
    t.equal(r.partial?.available, cut - first)
  }
  t.equal(readMessageSet(set.subarray(0, first + 5)).partial?.expected, -1, 'even the size is missing')
  t.same(readMessageSet(Buffer.alloc(0)), { messages: [], partial: null })
})

function codeOf (fn: () => unknown): string {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

t.test('bad input: a coded error for each, never a crash', async t => {
  const good = entry(0n, 1, 0, b('k'), b('v'), 1n)
  const cases: Array<[string, Buffer, string, RegExp?]> = [
    ['a wrong CRC', entry(0n, 1, 0, b('k'), b('v'), 1n, 0x1234), 'KPROXY_ERR_MESSAGE_SET_CRC', /fails its CRC-32 check/],
    ['magic 2 inside a message set', entry(0n, 2, 0, null, null), 'KPROXY_ERR_MESSAGE_SET', /magic 2/],
    ['magic 7', entry(0n, 7, 0, null, null), 'KPROXY_ERR_MESSAGE_SET', /magic 7/],
    ['a size below a header', Buffer.concat([Buffer.alloc(8), Buffer.from([0, 0, 0, 5]), Buffer.alloc(5)]), 'KPROXY_ERR_MESSAGE_SET', /less than a message header/],
    ['a negative size', Buffer.concat([Buffer.alloc(8), Buffer.from([0xff, 0xff, 0xff, 0xf0]), Buffer.alloc(20)]), 'KPROXY_ERR_MESSAGE_SET'],
    ['a v1 size too small for its timestamp', entry(0n, 0, 0, null, null).fill(1, 16, 17), 'KPROXY_ERR_MESSAGE_SET', /less than its header/],
    ['a key longer than the message', edited(good, e => e.writeInt32BE(100, 26)), 'KPROXY_ERR_MESSAGE_SET', /key of 100 bytes/],
    ['a key length of -5', edited(good, e => e.writeInt32BE(-5, 26)), 'KPROXY_ERR_MESSAGE_SET', /key of -5 bytes/],
    ['a value longer than the message', edited(good, e => e.writeInt32BE(1000, 31)), 'KPROXY_ERR_MESSAGE_SET', /value of 1000 bytes/],
    ['fields that do not fill the size', edited(Buffer.concat([good, Buffer.alloc(3)]), e => e.writeInt32BE(good.length - 12 + 3, 8)), 'KPROXY_ERR_MESSAGE_SET', /its fields use/],
    ['nested compression', entry(9n, 1, 1, null, gzipSync(entry(0n, 1, 1, null, gzipSync(good)))), 'KPROXY_ERR_MESSAGE_SET', /compressed again/],
    ['a v0 message in a v1 wrapper', entry(9n, 1, 1, null, gzipSync(entry(0n, 0, 0, null, b('x')))), 'KPROXY_ERR_MESSAGE_SET', /v1 wrapper holds a v0 message/],
    ['a wrapper with a null value', entry(9n, 1, 1, null, null), 'KPROXY_ERR_MESSAGE_SET', /has no value/],
    ['an empty wrapper', entry(9n, 1, 1, null, gzipSync(Buffer.alloc(0))), 'KPROXY_ERR_MESSAGE_SET', /holds no messages/],
    ['a wrapper cut inside an entry', entry(9n, 1, 1, null, gzipSync(good.subarray(0, 20))), 'KPROXY_ERR_MESSAGE_SET', /declares|ends inside/],
    ['a wrapper of garbage', entry(9n, 1, COMPRESSION_LZ4, null, b('not lz4 at all')), 'KPROXY_ERR_MESSAGE_SET', /LZ4-compressed records are corrupt/],
    ['a snappy wrapper of garbage', entry(9n, 0, COMPRESSION_SNAPPY, null, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])), 'KPROXY_ERR_MESSAGE_SET'],
    ['an unknown codec', entry(9n, 1, 6, null, b('x')), 'KPROXY_ERR_UNSUPPORTED_COMPRESSION'],
    ['offsets out of order', Buffer.concat([entry(5n, 1, 0, null, b('a')), entry(4n, 1, 0, null, b('b'))]), 'KPROXY_ERR_MESSAGE_SET', /offsets out of order/],
    ['repeated offsets', Buffer.concat([entry(5n, 1, 0, null, b('a')), entry(5n, 1, 0, null, b('b'))]), 'KPROXY_ERR_MESSAGE_SET', /out of order/],
    ['relative offsets beyond the wrapper', entry(1n, 1, 1, null, gzipSync(Buffer.concat([entry(0n, 1, 0, null, b('a')), entry(5n, 1, 0, null, b('b'))]))), 'KPROXY_ERR_MESSAGE_SET', /inner offsets up to 5/],
    ['inner offsets out of order', entry(9n, 1, 1, null, gzipSync(Buffer.concat([entry(1n, 1, 0, null, b('a')), entry(0n, 1, 0, null, b('b'))]))), 'KPROXY_ERR_MESSAGE_SET', /out of order/]
  ]
  for (const [what, bytes, code, message] of cases) {
    t.equal(codeOf(() => readMessageSet(bytes)), code, what)
    if (message !== undefined) t.throws(() => readMessageSet(bytes), { message }, `${what}: says why`)
  }
  t.equal(readMessageSet(Buffer.concat([entry(5n, 1, 0, null, b('a')), entry(5n, 1, 0, null, b('b'))]), { strictOffsets: false }).messages.length, 2,
    'produce requests may repeat offsets (librdkafka writes 0)')
  t.equal(readMessageSet(entry(0n, 1, 0, b('k'), b('v'), 1n, 0x1234), { verifyCrc: false }).messages.length, 1, 'verifyCrc: false skips the check')
})

t.test('compression bombs: one budget for the whole set', async t => {
  const zeros = Buffer.alloc(4 * 1024 * 1024)
  const innerSet = Buffer.concat([entry(0n, 1, 0, null, zeros)])
  const bomb = entry(0n, 1, COMPRESSION_GZIP, null, gzipSync(innerSet))
  t.ok(bomb.length < 10_000, `a ${bomb.length}-byte message`)
  t.throws(() => readMessageSet(bomb, { maxUncompressedSize: 1024 * 1024 }), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
  // ten wrappers of 1 MiB each: every one fits a 4 MiB limit, together they do not
  const mib = entry(0n, 1, 0, null, Buffer.alloc(1024 * 1024 - 40))
  const ten = Buffer.concat(Array.from({ length: 10 }, (_, i) => entry(BigInt(i), 1, COMPRESSION_GZIP, null, gzipSync(Buffer.from(mib)))))
  t.throws(() => readMessageSet(ten, { maxUncompressedSize: 4 * 1024 * 1024 }), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
  t.equal(readMessageSet(ten, { maxUncompressedSize: 11 * 1024 * 1024 }).messages.length, 10)
  for (const codec of [COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
    const packed = entry(0n, 1, codec, null, compress(codec, innerSet))
    t.throws(() => readMessageSet(packed, { maxUncompressedSize: 1024 * 1024 }), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' }, `codec ${codec}`)
  }
})

t.test('writing: zstd and unknown magics are refused', async t => {
  t.throws(() => encodeMessageSet({ magic: 1, compression: 4, messages: sample }), { code: 'KPROXY_ERR_UNSUPPORTED_COMPRESSION', message: /message format v1/ })
  t.throws(() => encodeMessageSet({ magic: 2, messages: sample }), { code: 'KPROXY_ERR_MESSAGE_SET' })
  t.equal(encodeMessageSet({ magic: 1, compression: COMPRESSION_GZIP, messages: [] }).length, 0, 'no messages, no wrapper')
  // default offsets: the index
  t.same(readMessageSet(encodeMessageSet({ magic: 0, messages: [{ value: b('a') }, { value: b('b') }] })).messages.map(m => m.offset), [0n, 1n])
})
