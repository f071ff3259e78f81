// Writes Kafka's wire types (grammar in reader.ts) as a list of chunks, ready for writev.
//
// Small fields go into a scratch buffer that grows as needed; `bytes` and `records` values of at
// least `refThreshold` bytes are appended BY REFERENCE as their own chunk, so re-encoding a Fetch
// response keeps its record batches as the very same memory it was decoded from.
// The chunks returned by finish() view the writer's scratch memory: use them before reset().
import { KproxyError } from '../../kproxy-error.ts'
import { sizeOfUnsignedVarint, sizeOfVarint, sizeOfVarlong, writeUnsignedVarint, writeVarint, writeVarlong } from '../varint.ts'
import type { TaggedField } from './reader.ts'

export type ElementWriter<T> = (w: Writer, value: T, version: number) => void

const DEFAULT_SCRATCH = 512
const MAX_SCRATCH = 1024 * 1024
const CARRY_LIMIT = 256
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

export class Writer {
  readonly refThreshold: number
  private chunks: Buffer[] = []
  private buf: Buffer
  private start = 0
  private pos = 0
  private flushed = 0
  private sizeSlot: { buf: Buffer, pos: number } | null = null
  private view: DataView | null = null

  constructor (refThreshold = 1024, scratchSize = DEFAULT_SCRATCH) {
    this.refThreshold = refThreshold
    this.buf = Buffer.allocUnsafe(scratchSize)
  }

  // Bytes written so far.
  get length (): number {
    return this.flushed + this.pos - this.start
  }

  fail (message: string): never {
    throw new KproxyError('KPROXY_ERR_ENCODE', `${message}; fix the message before encoding it.`)
  }

  private flush (): void {
    if (this.pos > this.start) {
      this.chunks.push(this.buf.subarray(this.start, this.pos))
      this.flushed += this.pos - this.start
      this.start = this.pos
    }
  }

  // Makes room for n bytes. A short unflushed tail moves to the new scratch instead of becoming
  // a tiny chunk of its own (fewer, larger chunks for writev).
  private ensure (n: number): void {
    if (this.buf.length - this.pos >= n) return
    const pending = this.pos - this.start
    const carry = pending <= CARRY_LIMIT ? pending : 0
    if (carry === 0) this.flush()
    const next = Buffer.allocUnsafe(Math.max(n + carry + DEFAULT_SCRATCH, Math.min(this.buf.length * 2, MAX_SCRATCH)))
    if (carry > 0) {
      this.buf.copy(next, 0, this.start, this.pos)
      const slot = this.sizeSlot
      if (slot !== null && slot.buf === this.buf && slot.pos >= this.start) {
        slot.buf = next
        slot.pos -= this.start
      }
    }
    this.buf = next
    this.start = 0
    this.pos = carry
  }

  // Reserves the 4-byte size prefix of a frame; finish() fills it with the length that follows.
  sizePrefix (): void {
    this.ensure(4)
    this.sizeSlot = { buf: this.buf, pos: this.pos }
    this.pos += 4
  }

  int8 (v: number): void {
    this.ensure(1)
    this.pos = this.buf.writeInt8(v, this.pos)
  }

  int16 (v: number): void {
    this.ensure(2)
    this.pos = this.buf.writeInt16BE(v, this.pos)
  }

  uint16 (v: number): void {
    this.ensure(2)
    this.pos = this.buf.writeUInt16BE(v, this.pos)
  }

  int32 (v: number): void {
    this.ensure(4)
    this.pos = this.buf.writeInt32BE(v, this.pos)
  }

  uint32 (v: number): void {
    this.ensure(4)
    this.pos = this.buf.writeUInt32BE(v, this.pos)
  }

  int64 (v: bigint): void {
    this.ensure(8)
    // DataView's setBigInt64 is native; Buffer's writeBigInt64BE does bigint arithmetic in JS
    if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) this.fail(`int64 value ${String(v)} is not a bigint in range`)
    let view = this.view
    if (view === null || view.buffer !== this.buf.buffer) view = this.view = new DataView(this.buf.buffer, 0, this.buf.buffer.byteLength)
    view.setBigInt64(this.buf.byteOffset + this.pos, v)
    this.pos += 8
  }

  float64 (v: number): void {
    this.ensure(8)
    this.pos = this.buf.writeDoubleBE(v, this.pos)
  }

  bool (v: boolean): void {
    this.ensure(1)
    this.buf[this.pos++] = v ? 1 : 0
  }

  uuid (v: string): void {
    this.ensure(16)
    // base64url of 16 bytes is 22 characters; Buffer.write ignores what it cannot decode, so
    // check the length it wrote as well.
    if (typeof v !== 'string' || v.length !== 22 || this.buf.write(v, this.pos, 16, 'base64url') !== 16 ||
      this.buf.toString('base64url', this.pos, this.pos + 16) !== v) {
      this.fail(`uuid ${JSON.stringify(v)} is not 22 characters of URL-safe base64 (Kafka's Uuid.toString())`)
    }
    this.pos += 16
  }

  uvarint (v: number): void {
    this.ensure(5)
    this.pos = writeUnsignedVarint(this.buf, this.pos, v)
  }

  varint (v: number): void {
    this.ensure(5)
    this.pos = writeVarint(this.buf, this.pos, v)
  }

  varlong (v: bigint): void {
    this.ensure(10)
    this.pos = writeVarlong(this.buf, this.pos, v)
  }

  private writeLength (compact: boolean, wide: boolean, n: number): void {
    if (compact) this.uvarint(n + 1)
    else if (wide) this.int32(n)
    else this.int16(n)
  }

  string (compact: boolean, v: string): void {
    if (typeof v !== 'string') this.fail(`expected a string, got ${v === null ? 'null (the field is not nullable in this version)' : typeof v}`)
    const n = Buffer.byteLength(v)
    if (!compact && n > 0x7fff) this.fail(`a string of ${n} bytes does not fit an int16 length`)
    this.writeLength(compact, false, n)
    this.ensure(n)
    this.pos += this.buf.write(v, this.pos, n, 'utf8')
  }

  nullableString (compact: boolean, nullable: boolean, v: string | null): void {
    if (v === null && nullable) this.writeLength(compact, false, -1)
    else this.string(compact, v as string)
  }

  bytes (compact: boolean, v: Buffer): void {
    if (!(v instanceof Uint8Array)) this.fail(`expected a Buffer, got ${v === null ? 'null (the field is not nullable in this version)' : typeof v}`)
    this.writeLength(compact, true, v.length)
    this.raw(v)
  }

  nullableBytes (compact: boolean, nullable: boolean, v: Buffer | null): void {
    if (v === null && nullable) this.writeLength(compact, true, -1)
    else this.bytes(compact, v as Buffer)
  }

  // Appends bytes as they are: copied when small, by reference when large.
  raw (v: Buffer): void {
    if (v.length >= this.refThreshold) {
      this.flush()
      this.chunks.push(v)
      this.flushed += v.length
      return
    }
    this.ensure(v.length)
    this.buf.set(v, this.pos)
    this.pos += v.length
  }

  array<T> (compact: boolean, v: T[], write: ElementWriter<T>, version: number): void {
    if (!Array.isArray(v)) this.fail(`expected an array, got ${v === null ? 'null (the field is not nullable in this version)' : typeof v}`)
    this.writeLength(compact, true, v.length)
    for (let i = 0; i < v.length; i++) write(this, v[i], version)
  }

  nullableArray<T> (compact: boolean, nullable: boolean, v: T[] | null, write: ElementWriter<T>, version: number): void {
    if (v === null && nullable) this.writeLength(compact, true, -1)
    else this.array(compact, v as T[], write, version)
  }

  // Nullable struct prefix: int8 -1 = null, 1 = present, written only in versions where the
  // struct is nullable. Returns whether the struct follows.
  present (nullable: boolean, v: object | null): boolean {
    if (v === null || v === undefined) {
      if (!nullable) this.fail('a struct is null but not nullable in this version')
      this.int8(-1)
      return false
    }
    if (nullable) this.int8(1)
    return true
  }

  // A tagged-field section holding only the unknown fields kept from decoding (sorted by tag).
  taggedFields (unknown: TaggedField[] | undefined): void {
    this.uvarint(unknown === undefined ? 0 : unknown.length)
    this.unknownTagsBelow(unknown, 0, Infinity)
  }

  // Tagged-field section: `count` known fields will follow (the caller writes each with
  // taggedField), merged in tag order with the unknown ones kept from decoding (sorted by tag).
  taggedHeader (count: number, unknown: TaggedField[] | undefined): void {
    this.uvarint(count + (unknown === undefined ? 0 : unknown.length))
  }

  // Writes the unknown tagged fields with tags below `tag` (Infinity: all remaining), starting
  // at index `from` of the sorted list; returns the next index.
  unknownTagsBelow (unknown: TaggedField[] | undefined, from: number, tag: number): number {
    if (unknown === undefined) return 0
    let i = from
    for (; i < unknown.length && unknown[i].tag < tag; i++) {
      const f = unknown[i]
      this.uvarint(f.tag)
      this.uvarint(f.data.length)
      this.raw(f.data)
    }
    return i
  }

  // A known tagged field: its size must precede it, so it is written to a separate writer first.
  taggedField<T> (tag: number, value: T, write: ElementWriter<T>, version: number): void {
    const sub = new Writer(this.refThreshold, 64)
    write(sub, value, version)
    const chunks = sub.finish()
    this.uvarint(tag)
    this.uvarint(sub.length)
    for (const c of chunks) this.raw(c)
  }

  // The chunks written so far (the frame size filled in if sizePrefix() was called).
  finish (): Buffer[] {
    this.flush()
    const slot = this.sizeSlot
    if (slot !== null) {
      slot.buf.writeInt32BE(this.flushed - 4, slot.pos)
      this.sizeSlot = null
    }
    return this.chunks
  }

  toBuffer (): Buffer {
    const chunks = this.finish()
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.flushed)
  }

  // Starts over; the chunks handed out before stay valid (they keep the old scratch).
  reset (): void {
    this.chunks = []
    this.buf = this.buf.subarray(this.pos)
    if (this.buf.length < 64) this.buf = Buffer.allocUnsafe(DEFAULT_SCRATCH)
    this.start = 0
    this.pos = 0
    this.flushed = 0
    this.sizeSlot = null
  }
}

// Sorted copy of unknown tagged fields, or the same array when already in order (the usual case).
export function sortedTags (unknown: TaggedField[] | undefined): TaggedField[] | undefined {
  if (unknown === undefined || unknown.length === 0) return undefined
  for (let i = 1; i < unknown.length; i++) {
    if (unknown[i].tag <= unknown[i - 1].tag) return [...unknown].sort((a, b) => a.tag - b.tag)
  }
  return unknown
}

// Element writers for arrays of primitives (struct writers already have this shape).
export function writeInt8Element (w: Writer, v: number): void { w.int8(v) }
export function writeInt16Element (w: Writer, v: number): void { w.int16(v) }
export function writeUint16Element (w: Writer, v: number): void { w.uint16(v) }
export function writeInt32Element (w: Writer, v: number): void { w.int32(v) }
export function writeUint32Element (w: Writer, v: number): void { w.uint32(v) }
export function writeInt64Element (w: Writer, v: bigint): void { w.int64(v) }
export function writeFloat64Element (w: Writer, v: number): void { w.float64(v) }
export function writeBoolElement (w: Writer, v: boolean): void { w.bool(v) }
export function writeUuidElement (w: Writer, v: string): void { w.uuid(v) }
export function writeStringElement (w: Writer, v: string): void { w.string(false, v) }
export function writeCompactStringElement (w: Writer, v: string): void { w.string(true, v) }
export function writeBytesElement (w: Writer, v: Buffer): void { w.bytes(false, v) }
export function writeCompactBytesElement (w: Writer, v: Buffer): void { w.bytes(true, v) }
