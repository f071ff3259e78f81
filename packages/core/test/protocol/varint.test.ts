import t from 'tap'
import {
  readUnsignedVarint, readVarint, readVarlong, readUnsignedVarlong, sizeOfUnsignedVarint, sizeOfVarint,
  sizeOfVarlong, varintEnd, writeUnsignedVarint, writeVarint, writeVarlong
} from '../../src/protocol/varint.ts'

t.test('known encodings from the protobuf/Kafka specification', async t => {
  // zig-zag: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, 300 -> 600 = 0xd8 0x04
  const cases: Array<[number, number[]]> = [[0, [0]], [-1, [1]], [1, [2]], [-2, [3]], [300, [0xd8, 0x04]],
    [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]], [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]]]
  for (const [value, bytes] of cases) {
    const buf = Buffer.alloc(bytes.length)
    t.equal(writeVarint(buf, 0, value), bytes.length)
    t.same([...buf], bytes, `encode ${value}`)
    t.equal(readVarint(buf, 0), value, `decode ${value}`)
    t.equal(varintEnd.offset, bytes.length)
    t.equal(sizeOfVarint(value), bytes.length)
  }
})

t.test('unsigned varints round-trip across the 32-bit range', async t => {
  const buf = Buffer.alloc(5)
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28, 2 ** 32 - 1]) {
    const end = writeUnsignedVarint(buf, 0, v)
    t.equal(end, sizeOfUnsignedVarint(v))
    t.equal(readUnsignedVarint(buf, 0), v)
  }
})

t.test('varlongs round-trip across the 64-bit range', async t => {
  const buf = Buffer.alloc(10)
  for (const v of [0n, -1n, 1n, 1n << 40n, -(1n << 40n), (1n << 63n) - 1n, -(1n << 63n)]) {
    const end = writeVarlong(buf, 0, v)
    t.equal(end, sizeOfVarlong(v))
    t.equal(readVarlong(buf, 0), v)
    t.equal(varintEnd.offset, end)
  }
  t.equal(readUnsignedVarlong(Buffer.from([0x80, 0x01]), 0), 128n)
})

t.test('truncated and over-long encodings are reported, not misread', async t => {
  readUnsignedVarint(Buffer.from([0x80, 0x80]), 0)
  t.equal(varintEnd.offset, -1, 'truncated')
  readUnsignedVarint(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), 0)
  t.equal(varintEnd.offset, -1, 'fifth byte overflows 32 bits')
  readUnsignedVarint(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0)
  t.equal(varintEnd.offset, -1, 'six bytes')
  readUnsignedVarlong(Buffer.alloc(11, 0x80), 0)
  t.equal(varintEnd.offset, -1, 'varlong too long')
  readUnsignedVarlong(Buffer.from([0x80]), 0)
  t.equal(varintEnd.offset, -1, 'varlong truncated')
})
