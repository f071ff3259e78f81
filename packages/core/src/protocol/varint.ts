// Variable-length integers as Kafka writes them (the protobuf encodings):
//   unsigned varint: 7 bits per byte, least significant group first, high bit = "more follows".
//   varint / varlong: zig-zag mapped ((n << 1) ^ (n >> 31)), then an unsigned varint.
// Decoders take (buf, offset) and leave the position after the value in `varintEnd.offset`, a
// shared scratch object, so that hot loops allocate nothing. They return -1 in varintEnd.offset
// when the input ends early or the encoding is longer than the type allows.

export const varintEnd = { offset: 0 }

export function readUnsignedVarint (buf: Uint8Array, offset: number): number {
  let value = 0
  for (let shift = 0, i = offset; shift <= 28; shift += 7, i++) {
    if (i >= buf.length) break
    const b = buf[i]
    value |= (b & 0x7f) << shift
    if ((b & 0x80) === 0) {
      // a 5th byte may only carry the top 4 bits of 32
      if (shift === 28 && b > 0x0f) break
      varintEnd.offset = i + 1
      return value >>> 0
    }
  }
  varintEnd.offset = -1
  return 0
}

export function readVarint (buf: Uint8Array, offset: number): number {
  const raw = readUnsignedVarint(buf, offset)
  return (raw >>> 1) ^ -(raw & 1)
}

export function readUnsignedVarlong (buf: Uint8Array, offset: number): bigint {
  let value = 0n
  for (let shift = 0n, i = offset; shift <= 63n; shift += 7n, i++) {
    if (i >= buf.length) break
    const b = buf[i]
    value |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) {
      if (shift === 63n && b > 0x01) break
      varintEnd.offset = i + 1
      return value
    }
  }
  varintEnd.offset = -1
  return 0n
}

export function readVarlong (buf: Uint8Array, offset: number): bigint {
  const raw = readUnsignedVarlong(buf, offset)
  return (raw >> 1n) ^ -(raw & 1n)
}

export function sizeOfUnsignedVarint (value: number): number {
  let v = value >>> 0
  let size = 1
  while (v >= 0x80) {
    v >>>= 7
    size++
  }
  return size
}

export function sizeOfVarint (value: number): number {
  return sizeOfUnsignedVarint((value << 1) ^ (value >> 31))
}

export function sizeOfVarlong (value: bigint): number {
  let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n))
  let size = 1
  while (v >= 0x80n) {
    v >>= 7n
    size++
  }
  return size
}

// Writers return the offset after the value. The caller makes sure the buffer is large enough
// (sizeOf* tell how much).
export function writeUnsignedVarint (buf: Uint8Array, offset: number, value: number): number {
  let v = value >>> 0
  while (v >= 0x80) {
    buf[offset++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[offset++] = v
  return offset
}

export function writeVarint (buf: Uint8Array, offset: number, value: number): number {
  return writeUnsignedVarint(buf, offset, (value << 1) ^ (value >> 31))
}

export function writeVarlong (buf: Uint8Array, offset: number, value: bigint): number {
  let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n))
  while (v >= 0x80n) {
    buf[offset++] = Number(v & 0x7fn) | 0x80
    v >>= 7n
  }
  buf[offset++] = Number(v)
  return offset
}
