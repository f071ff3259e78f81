// Reads Kafka's wire types from one Buffer, front to back. The generated codecs call these.
//
// Input comes from the network, so every length and count is checked against the bytes that
// remain BEFORE anything is allocated (a claimed array of 2^31 elements in a 20-byte frame fails
// at once), and every failure is a KproxyError('KPROXY_ERR_DECODE') naming the offset. No
// RangeError or TypeError may escape.
//
// Wire grammar (KIP-482 for the compact forms used in flexible versions):
//   intN / uintN / float64   big-endian, fixed width
//   string         int16 length (-1 = null) + UTF-8      | compact: uvarint length+1 (0 = null)
//   bytes/records  int32 length (-1 = null) + bytes      | compact: uvarint length+1 (0 = null)
//   array          int32 count (-1 = null) + elements    | compact: uvarint count+1 (0 = null)
//   uuid           16 bytes, shown as Kafka prints it: URL-safe base64 without padding
//   tagged fields  uvarint count, then per field: uvarint tag, uvarint size, size bytes
import { KproxyError } from '../../kproxy-error.ts'
import { readUnsignedVarint, readVarint, readVarlong, varintEnd } from '../varint.ts'

export interface TaggedField {
  tag: number
  data: Buffer
}

// Reads one element of an array; struct readers have this shape, primitives get adapters below.
export type ElementReader<T> = (r: Reader, version: number) => T

// Called for each tag of a tagged-field section; returns false for tags it does not know (they
// are kept as raw TaggedFields so that re-encoding gives back the same bytes).
export type TagReader<T> = (r: Reader, o: T, tag: number, version: number) => boolean

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0)

export class Reader {
  buf: Buffer
  offset: number
  private view: DataView | null = null

  constructor (buf: Buffer, offset = 0) {
    this.buf = buf
    this.offset = offset
  }

  get remaining (): number {
    return this.buf.length - this.offset
  }

  fail (message: string, at: number = this.offset): never {
    throw new KproxyError('KPROXY_ERR_DECODE', `${message} at offset ${at}; the frame is malformed or is not what the API key and version say.`)
  }

  private need (n: number, what: string): number {
    const at = this.offset
    if (n > this.buf.length - at) this.fail(`${what} needs ${n} bytes but only ${this.buf.length - at} remain`)
    this.offset = at + n
    return at
  }

  int8 (): number {
    return this.buf.readInt8(this.need(1, 'int8'))
  }

  int16 (): number {
    return this.buf.readInt16BE(this.need(2, 'int16'))
  }

  uint16 (): number {
    return this.buf.readUInt16BE(this.need(2, 'uint16'))
  }

  int32 (): number {
    return this.buf.readInt32BE(this.need(4, 'int32'))
  }

  uint32 (): number {
    return this.buf.readUInt32BE(this.need(4, 'uint32'))
  }

  int64 (): bigint {
    const at = this.need(8, 'int64')
    // DataView's getBigInt64 is native; Buffer's readBigInt64BE builds the bigint in JS
    const view = this.view ?? (this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length))
    return view.getBigInt64(at)
  }

  float64 (): number {
    return this.buf.readDoubleBE(this.need(8, 'float64'))
  }

  bool (): boolean {
    return this.buf[this.need(1, 'bool')] !== 0
  }

  uuid (): string {
    const at = this.need(16, 'uuid')
    return this.buf.toString('base64url', at, at + 16)
  }

  uvarint (): number {
    const value = readUnsignedVarint(this.buf, this.offset)
    if (varintEnd.offset < 0) this.fail('unsigned varint is truncated or longer than 5 bytes')
    this.offset = varintEnd.offset
    return value
  }

  varint (): number {
    const value = readVarint(this.buf, this.offset)
    if (varintEnd.offset < 0) this.fail('varint is truncated or longer than 5 bytes')
    this.offset = varintEnd.offset
    return value
  }

  varlong (): bigint {
    const value = readVarlong(this.buf, this.offset)
    if (varintEnd.offset < 0) this.fail('varlong is truncated or longer than 10 bytes')
    this.offset = varintEnd.offset
    return value
  }

  // Length of a string/bytes/array: -1 for null. Checked against the remaining bytes: a length
  // counts bytes, an array count counts elements of at least one byte each (as Kafka checks it).
  private length (compact: boolean, wide: boolean, nullable: boolean, what: string): number {
    const at = this.offset
    let n: number
    if (compact) n = this.uvarint() - 1
    else n = wide ? this.int32() : this.int16()
    if (n < 0) {
      if (n !== -1) this.fail(`${what} has negative length ${n}`, at)
      if (!nullable) this.fail(`${what} is null but not nullable in this version`, at)
      return -1
    }
    if (n > this.buf.length - this.offset) this.fail(`${what} claims ${n} ${what === 'array' ? 'elements' : 'bytes'} but only ${this.buf.length - this.offset} bytes remain`, at)
    return n
  }

  string (compact: boolean): string {
    const n = this.length(compact, false, false, 'string')
    const at = this.offset
    this.offset = at + n
    return this.buf.toString('utf8', at, at + n)
  }

  nullableString (compact: boolean, nullable: boolean): string | null {
    const n = this.length(compact, false, nullable, 'string')
    if (n < 0) return null
    const at = this.offset
    this.offset = at + n
    return this.buf.toString('utf8', at, at + n)
  }

  // bytes and records are subarrays of the input, never copies.
  bytes (compact: boolean): Buffer {
    const n = this.length(compact, true, false, 'bytes')
    const at = this.offset
    this.offset = at + n
    return this.buf.subarray(at, at + n)
  }

  nullableBytes (compact: boolean, nullable: boolean): Buffer | null {
    const n = this.length(compact, true, nullable, 'bytes')
    if (n < 0) return null
    const at = this.offset
    this.offset = at + n
    return this.buf.subarray(at, at + n)
  }

  array<T> (compact: boolean, read: ElementReader<T>, version: number): T[] {
    const n = this.length(compact, true, false, 'array')
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(read(this, version))
    return out
  }

  nullableArray<T> (compact: boolean, nullable: boolean, read: ElementReader<T>, version: number): T[] | null {
    const n = this.length(compact, true, nullable, 'array')
    if (n < 0) return null
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(read(this, version))
    return out
  }

  // Nullable struct prefix: int8 -1 = null, 1 = present — only in versions where the struct is
  // nullable; elsewhere the struct simply follows.
  present (nullable: boolean): boolean {
    if (!nullable) return true
    const at = this.offset
    const b = this.int8()
    if (b === 1) return true
    if (b === -1) return false
    return this.fail(`struct presence byte is ${b}`, at)
  }

  // The tagged-field section that ends every struct in flexible versions. Known tags are handed
  // to `known`, which must consume exactly `size` bytes; the others are kept raw, in input order —
  // including a known tag sent in a version where it is not tagged (Kafka's Java refuses that;
  // a proxy forwarding it unchanged lets the broker decide).
  taggedFields<T extends { _unknownTaggedFields?: TaggedField[] }> (o: T, known: TagReader<T> | null, version: number): void {
    const count = this.uvarint()
    if (count > this.buf.length - this.offset) this.fail(`tagged-field count ${count} exceeds the ${this.buf.length - this.offset} bytes that remain`)
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint()
      const size = this.uvarint()
      const start = this.offset
      if (size > this.buf.length - start) this.fail(`tagged field ${tag} claims ${size} bytes but only ${this.buf.length - start} remain`)
      if (known !== null && known(this, o, tag, version)) {
        if (this.offset !== start + size) this.fail(`tagged field ${tag} was ${this.offset - start} bytes long, its size said ${size}`, start)
      } else {
        this.offset = start + size
        const field = { tag, data: this.buf.subarray(start, start + size) }
        if (o._unknownTaggedFields === undefined) o._unknownTaggedFields = [field]
        else o._unknownTaggedFields.push(field)
      }
    }
  }

  end (what: string): void {
    if (this.offset !== this.buf.length) this.fail(`${this.buf.length - this.offset} unexpected bytes after ${what}`)
  }
}

// Element readers for arrays of primitives (struct readers already have this shape).
export function readInt8Element (r: Reader): number { return r.int8() }
export function readInt16Element (r: Reader): number { return r.int16() }
export function readUint16Element (r: Reader): number { return r.uint16() }
export function readInt32Element (r: Reader): number { return r.int32() }
export function readUint32Element (r: Reader): number { return r.uint32() }
export function readInt64Element (r: Reader): bigint { return r.int64() }
export function readFloat64Element (r: Reader): number { return r.float64() }
export function readBoolElement (r: Reader): boolean { return r.bool() }
export function readUuidElement (r: Reader): string { return r.uuid() }
export function readStringElement (r: Reader): string { return r.string(false) }
export function readCompactStringElement (r: Reader): string { return r.string(true) }
export function readBytesElement (r: Reader): Buffer { return r.bytes(false) }
export function readCompactBytesElement (r: Reader): Buffer { return r.bytes(true) }
