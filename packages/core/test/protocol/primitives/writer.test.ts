import t from 'tap'
import {
  sortedTags, Writer, writeBoolElement, writeBytesElement, writeCompactBytesElement, writeCompactStringElement, writeFloat64Element,
  writeInt16Element, writeInt32Element, writeInt64Element, writeInt8Element, writeStringElement, writeUint16Element, writeUint32Element,
  writeUuidElement
} from '../../../src/protocol/primitives/writer.ts'
import { Reader, ZERO_UUID } from '../../../src/protocol/primitives/reader.ts'

t.test('fixed-width types, varints and uuids', async t => {
  const w = new Writer()
  w.int8(-1)
  w.int16(-2)
  w.uint16(0xfffe)
  w.int32(-3)
  w.uint32(0xfffffffd)
  w.int64(-4n)
  w.int64(-(1n << 63n))
  w.int64((1n << 63n) - 1n)
  w.float64(0.5)
  w.bool(true)
  w.bool(false)
  w.uvarint(300)
  w.varint(-2)
  w.varlong(2n)
  w.uuid('ASNFZ4mrze8BI0VniavN7w')
  w.uuid(ZERO_UUID)
  const b = w.toBuffer()
  t.equal(w.length, b.length)
  const r = new Reader(b)
  t.same([r.int8(), r.int16(), r.uint16(), r.int32(), r.uint32(), r.int64(), r.int64(), r.int64(), r.float64(), r.bool(), r.bool(), r.uvarint(), r.varint(), r.varlong(), r.uuid(), r.uuid()],
    [-1, -2, 0xfffe, -3, 0xfffffffd, -4n, -(1n << 63n), (1n << 63n) - 1n, 0.5, true, false, 300, -2, 2n, 'ASNFZ4mrze8BI0VniavN7w', ZERO_UUID])
})

t.test('invalid values fail with KPROXY_ERR_ENCODE', async t => {
  const w = new Writer()
  for (const bad of ['short', 'ASNFZ4mrze8BI0VniavN7+', 'ASNFZ4mrze8BI0VniavN7x', 'ASNFZ4mrze8BI0Vn!avN7w', null]) {
    t.throws(() => w.uuid(bad as string), { code: 'KPROXY_ERR_ENCODE', message: /is not 22 characters of URL-safe base64/ }, String(bad))
  }
  t.throws(() => w.string(false, null as unknown as string), { code: 'KPROXY_ERR_ENCODE', message: /got null \(the field is not nullable/ })
  t.throws(() => w.string(false, 5 as unknown as string), { message: /expected a string, got number/ })
  t.throws(() => w.string(false, 'x'.repeat(0x8000)), { message: /32768 bytes does not fit an int16 length/ })
  t.throws(() => w.nullableString(true, false, null), { message: /not nullable/ })
  t.throws(() => w.bytes(false, null as unknown as Buffer), { message: /expected a Buffer, got null/ })
  t.throws(() => w.bytes(false, 'str' as unknown as Buffer), { message: /expected a Buffer, got string/ })
  t.throws(() => w.nullableBytes(false, false, null), { message: /not nullable/ })
  t.throws(() => w.array(false, null as unknown as number[], writeInt8Element, 0), { message: /expected an array, got null/ })
  t.throws(() => w.array(false, {} as unknown as number[], writeInt8Element, 0), { message: /expected an array, got object/ })
  t.throws(() => w.nullableArray(false, false, null, writeInt8Element, 0), { message: /not nullable/ })
  t.throws(() => w.present(false, null), { message: /struct is null but not nullable/ })
  t.throws(() => w.int64(1n << 63n), { code: 'KPROXY_ERR_ENCODE', message: /int64 value 9223372036854775808 is not a bigint in range/ })
  t.throws(() => w.int64(5 as unknown as bigint), { message: /int64 value 5 is not a bigint/ })
})

t.test('strings, bytes, arrays and struct prefixes in both forms', async t => {
  const w = new Writer()
  w.string(false, 'hi')
  w.string(true, '€')
  w.nullableString(false, true, null)
  w.nullableString(true, true, null)
  w.bytes(false, Buffer.from([1]))
  w.nullableBytes(true, true, null)
  w.nullableBytes(true, true, Buffer.from([2, 3]))
  w.array(false, [1, 2], writeInt16Element, 0)
  w.nullableArray(true, true, null, writeInt16Element, 0)
  w.nullableArray(true, true, [7], writeInt8Element, 0)
  t.equal(w.present(true, null), false)
  t.equal(w.present(true, {}), true)
  t.equal(w.present(false, {}), true)
  t.same([...w.toBuffer()], [0, 2, 0x68, 0x69, 4, 0xe2, 0x82, 0xac, 0xff, 0xff, 0, 0, 0, 0, 1, 1, 0, 3, 2, 3,
    0, 0, 0, 2, 0, 1, 0, 2, 0, 2, 7, 0xff, 1])
})

t.test('element writers cover every primitive', async t => {
  const w = new Writer()
  writeInt8Element(w, 1)
  writeInt16Element(w, 2)
  writeUint16Element(w, 3)
  writeInt32Element(w, 4)
  writeUint32Element(w, 5)
  writeInt64Element(w, 6n)
  writeFloat64Element(w, 1)
  writeBoolElement(w, true)
  writeUuidElement(w, ZERO_UUID)
  writeStringElement(w, 'a')
  writeCompactStringElement(w, 'b')
  writeBytesElement(w, Buffer.from([9]))
  writeCompactBytesElement(w, Buffer.from([8]))
  t.equal(w.toBuffer().toString('hex'), '010002000300000004000000050000000000000006' + '3ff0000000000000' + '01' + '00'.repeat(16) + '000161' + '0262' + '0000000109' + '0208')
})

t.test('large bytes are appended by reference, small ones copied', async t => {
  const w = new Writer(1024)
  const big = Buffer.alloc(4096, 7)
  const small = Buffer.alloc(1023, 8)
  w.int32(1)
  w.bytes(false, big)
  w.bytes(false, small)
  w.int8(2)
  const chunks = w.finish()
  t.equal(chunks.length, 3)
  t.equal(chunks[1], big, 'the very same Buffer')
  t.equal(chunks[0].length, 8, 'int32 + bytes length')
  t.not(chunks[2].buffer, small.buffer, 'small bytes were copied')
  t.equal(w.length, 8 + 4096 + 4 + 1023 + 1)
})

t.test('the scratch grows, and the size prefix spans every chunk', async t => {
  const w = new Writer(1024, 16)
  w.sizePrefix()
  for (let i = 0; i < 1000; i++) w.int32(i)
  w.raw(Buffer.alloc(2000, 1))
  w.string(false, 'z'.repeat(3000))
  const chunks = w.finish()
  const all = Buffer.concat(chunks)
  t.equal(all.readInt32BE(0), all.length - 4)
  t.equal(all.readInt32BE(4 + 4 * 999), 999)
  t.ok(chunks.length >= 4 && chunks.length < 16, `${chunks.length} chunks`)
})

t.test('reset keeps the chunks handed out before', async t => {
  const w = new Writer(1024, 64)
  w.int32(0x11111111)
  const first = w.finish()
  const copy = Buffer.concat(first)
  for (let round = 0; round < 40; round++) {
    w.reset()
    w.int32(round)
    w.finish()
  }
  t.ok(Buffer.concat(first).equals(copy))
})

t.test('tagged sections merge known and unknown fields in tag order', async t => {
  const w = new Writer()
  const unknown = sortedTags([{ tag: 9, data: Buffer.from([9]) }, { tag: 1, data: Buffer.from([1]) }])
  t.same(unknown?.map(u => u.tag), [1, 9], 'sorted copy')
  w.taggedHeader(1, unknown)
  let u = w.unknownTagsBelow(unknown, 0, 5)
  t.equal(u, 1)
  w.taggedField(5, 0x55, writeInt8Element, 0)
  u = w.unknownTagsBelow(unknown, u, Infinity)
  t.equal(u, 2)
  t.same([...w.toBuffer()], [3, 1, 1, 1, 5, 1, 0x55, 9, 1, 9])
  const none = new Writer()
  none.taggedFields(undefined)
  t.equal(none.unknownTagsBelow(undefined, 0, Infinity), 0)
  t.same([...none.toBuffer()], [0])
  t.equal(sortedTags([]), undefined)
  const inOrder = [{ tag: 0, data: Buffer.alloc(0) }, { tag: 2, data: Buffer.alloc(0) }]
  t.equal(sortedTags(inOrder), inOrder, 'no copy when already sorted')
})

t.test('a large value inside a tagged field still goes by reference', async t => {
  const w = new Writer(100)
  const big = Buffer.alloc(500, 3)
  w.taggedHeader(1, undefined)
  w.taggedField(0, big, writeCompactBytesElement, 0)
  const chunks = w.finish()
  t.ok(chunks.includes(big))
  const all = Buffer.concat(chunks)
  const r = new Reader(all)
  t.same([r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()], [1, 0, 502, 501])
})
