import t from 'tap'
import {
  EMPTY_BUFFER, Reader, readBoolElement, readBytesElement, readCompactBytesElement, readCompactStringElement, readFloat64Element,
  readInt16Element, readInt32Element, readInt64Element, readInt8Element, readStringElement, readUint16Element, readUint32Element,
  readUuidElement, ZERO_UUID
} from '../../../src/protocol/primitives/reader.ts'
import type { TaggedField } from '../../../src/protocol/primitives/reader.ts'

const bytes = (...b: number[]): Buffer => Buffer.from(b)

t.test('fixed-width types are big-endian', async t => {
  const r = new Reader(bytes(0xff, 0x80, 0x00, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0))
  t.equal(r.int8(), -1)
  t.equal(r.int16(), -32768)
  t.equal(r.uint16(), 0xffff)
  t.equal(r.int32(), 0x7fffffff)
  t.equal(r.uint32(), 0x80000000)
  t.equal(r.remaining, 7)
  t.equal(r.uint16(), 0)
  t.equal(r.uint16(), 0)
  t.equal(r.int8(), 2)
  t.equal(r.bool(), true)
  t.equal(r.bool(), false)
  t.equal(r.remaining, 0)
  const l = new Reader(bytes(0x80, 0, 0, 0, 0, 0, 0, 1, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18))
  t.equal(l.int64(), -(2n ** 63n) + 1n)
  t.equal(l.float64(), 3.141592653589793)
})

t.test('varints come from varint.ts with bounds', async t => {
  const r = new Reader(bytes(0xac, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))
  t.equal(r.uvarint(), 300)
  t.equal(r.varint(), -2)
  t.equal(r.varlong(), 2n)
  t.throws(() => r.uvarint(), { code: 'KPROXY_ERR_DECODE', message: /longer than 5 bytes at offset 4/ })
  t.throws(() => new Reader(bytes(0x80)).varint(), { code: 'KPROXY_ERR_DECODE' })
  t.throws(() => new Reader(bytes(0x80)).varlong(), { code: 'KPROXY_ERR_DECODE' })
})

t.test('uuids read as Kafka prints them', async t => {
  t.equal(new Reader(Buffer.alloc(16)).uuid(), ZERO_UUID)
  const b = Buffer.from('0123456789abcdef0123456789abcdef', 'hex')
  t.equal(new Reader(b).uuid(), 'ASNFZ4mrze8BI0VniavN7w')
  t.throws(() => new Reader(Buffer.alloc(15)).uuid(), { code: 'KPROXY_ERR_DECODE', message: /uuid needs 16 bytes but only 15 remain at offset 0/ })
})

t.test('strings, classic and compact, nullable or not', async t => {
  t.equal(new Reader(bytes(0, 2, 0x68, 0x69)).string(false), 'hi')
  t.equal(new Reader(bytes(3, 0x68, 0x69)).string(true), 'hi')
  t.equal(new Reader(bytes(0xff, 0xff)).nullableString(false, true), null)
  t.equal(new Reader(bytes(0)).nullableString(true, true), null)
  t.equal(new Reader(bytes(1)).nullableString(true, true), '')
  t.equal(new Reader(bytes(0, 1, 0x41)).nullableString(false, false), 'A')
  t.throws(() => new Reader(bytes(0xff, 0xff)).string(false), { code: 'KPROXY_ERR_DECODE', message: /string is null but not nullable in this version at offset 0/ })
  t.throws(() => new Reader(bytes(0xff, 0xff)).nullableString(false, false), { message: /not nullable/ })
  t.throws(() => new Reader(bytes(0xff, 0xfe)).nullableString(false, true), { message: /negative length -2/ })
  t.throws(() => new Reader(bytes(0, 5, 0x41)).string(false), { message: /claims 5 bytes but only 1 bytes remain at offset 0/ })
  t.throws(() => new Reader(bytes(0)).string(true), { message: /null but not nullable/ })
  t.equal(new Reader(Buffer.from([0, 3, 0xe2, 0x82, 0xac])).string(false), '€')
})

t.test('bytes and records are subarrays of the input', async t => {
  const input = bytes(0, 0, 0, 3, 7, 8, 9, 4, 1, 2, 3)
  const r = new Reader(input)
  const b = r.bytes(false)
  t.same([...b], [7, 8, 9])
  t.equal(b.buffer, input.buffer)
  t.equal(b.byteOffset, input.byteOffset + 4)
  const c = r.nullableBytes(true, true)
  t.same([...(c ?? [])], [1, 2, 3])
  t.equal(c?.buffer, input.buffer)
  t.equal(new Reader(bytes(0xff, 0xff, 0xff, 0xff)).nullableBytes(false, true), null)
  t.equal(new Reader(bytes(0)).nullableBytes(true, true), null)
  t.throws(() => new Reader(bytes(0xff, 0xff, 0xff, 0xff)).bytes(false), { message: /bytes is null/ })
  t.throws(() => new Reader(bytes(0x7f, 0xff, 0xff, 0xff)).bytes(false), { message: /claims 2147483647 bytes but only 0 bytes remain/ })
  t.equal(EMPTY_BUFFER.length, 0)
})

t.test('arrays check their count against the bytes that remain', async t => {
  t.same(new Reader(bytes(0, 0, 0, 2, 0, 1, 0, 2)).array(false, readInt16Element, 0), [1, 2])
  t.same(new Reader(bytes(3, 0, 1, 0, 2)).array(true, readInt16Element, 0), [1, 2])
  t.equal(new Reader(bytes(0xff, 0xff, 0xff, 0xff)).nullableArray(false, true, readInt8Element, 0), null)
  t.equal(new Reader(bytes(0)).nullableArray(true, true, readInt8Element, 0), null)
  t.same(new Reader(bytes(2, 5)).nullableArray(true, true, readInt8Element, 0), [5])
  t.throws(() => new Reader(bytes(0xff, 0xff, 0xff, 0xff)).array(false, readInt8Element, 0), { message: /array is null but not nullable/ })
  t.throws(() => new Reader(bytes(0x7f, 0xff, 0xff, 0xff, 1, 2)).array(false, readInt8Element, 0), { message: /array claims 2147483647 elements but only 2 bytes remain at offset 0/ })
  t.throws(() => new Reader(bytes(0, 0, 0, 2, 0, 1, 5)).array(false, readInt16Element, 0), { message: /int16 needs 2 bytes but only 1 remain at offset 6/ })
})

t.test('element readers cover every primitive', async t => {
  const b = Buffer.concat([
    bytes(1), bytes(0, 2), bytes(0, 3), bytes(0, 0, 0, 4), bytes(0, 0, 0, 5), bytes(0, 0, 0, 0, 0, 0, 0, 6),
    Buffer.from([0x3f, 0xf0, 0, 0, 0, 0, 0, 0]), bytes(1), Buffer.alloc(16), bytes(0, 1, 0x61), bytes(2, 0x62),
    bytes(0, 0, 0, 1, 9), bytes(2, 8)
  ])
  const r = new Reader(b)
  t.same([readInt8Element(r), readInt16Element(r), readUint16Element(r), readInt32Element(r), readUint32Element(r), readInt64Element(r),
    readFloat64Element(r), readBoolElement(r), readUuidElement(r), readStringElement(r), readCompactStringElement(r)],
  [1, 2, 3, 4, 5, 6n, 1, true, ZERO_UUID, 'a', 'b'])
  t.same([...readBytesElement(r)], [9])
  t.same([...readCompactBytesElement(r)], [8])
  t.equal(r.remaining, 0)
})

t.test('nullable struct presence byte', async t => {
  t.equal(new Reader(bytes(1)).present(true), true)
  t.equal(new Reader(bytes(0xff)).present(true), false)
  t.equal(new Reader(bytes(0xff)).present(false), true, 'no prefix where the struct is not nullable')
  t.throws(() => new Reader(bytes(2)).present(true), { message: /presence byte is 2 at offset 0/ })
})

interface Tagged { known: number, _unknownTaggedFields?: TaggedField[] }

function knownTag (r: Reader, o: Tagged, tag: number): boolean {
  if (tag !== 1) return false
  o.known = r.int8()
  return true
}

t.test('tagged-field sections keep unknown tags raw and check sizes', async t => {
  const input = bytes(3, 0, 2, 0xaa, 0xbb, 1, 1, 0x05, 9, 0)
  const o: Tagged = { known: 0 }
  const r = new Reader(input)
  r.taggedFields(o, knownTag, 0)
  t.equal(o.known, 5)
  t.same(o._unknownTaggedFields, [{ tag: 0, data: bytes(0xaa, 0xbb) }, { tag: 9, data: Buffer.alloc(0) }])
  t.equal(o._unknownTaggedFields?.[0].data.buffer, input.buffer, 'raw tags are subarrays')
  t.equal(r.remaining, 0)
  const none: Tagged = { known: 0 }
  new Reader(bytes(0)).taggedFields(none, knownTag, 0)
  t.equal(none._unknownTaggedFields, undefined)
  t.throws(() => new Reader(bytes(1, 1, 2, 5, 6)).taggedFields({ known: 0 }, knownTag, 0), { message: /tagged field 1 was 1 bytes long, its size said 2 at offset 3/ })
  t.throws(() => new Reader(bytes(1, 4, 9, 1)).taggedFields<Tagged>({ known: 0 }, null, 0), { message: /tagged field 4 claims 9 bytes but only 1 remain/ })
  t.throws(() => new Reader(bytes(50, 0)).taggedFields<Tagged>({ known: 0 }, null, 0), { message: /tagged-field count 50 exceeds the 1 bytes that remain/ })
})

t.test('end() refuses trailing bytes', async t => {
  const r = new Reader(bytes(1, 2), 1)
  t.throws(() => r.end('the body'), { code: 'KPROXY_ERR_DECODE', message: /1 unexpected bytes after the body at offset 1/ })
  r.int8()
  r.end('the body')
})
