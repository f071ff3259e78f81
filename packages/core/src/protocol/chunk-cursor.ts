// A read cursor over a frame's payload as the frame reader hands it over: a list of chunks, never
// concatenated. For scanners that walk a message by its lengths and read only a few fields, so
// that megabytes of records spanning several socket reads are skipped, not copied.
//
// Every read checks what is left and reports a short or malformed input as -1 (or false) instead
// of throwing: a scanner gives up quietly and the message still goes through untouched. Integers
// wider than 32 bits (int64 fields) are only ever skipped.
import type { Frame } from './frame-reader.ts'

const NO_CHUNKS: readonly Buffer[] = []

export class ChunkCursor {
  #chunks: readonly Buffer[] = NO_CHUNKS
  #ci = 0
  #off = 0
  // bytes left in the frame from the cursor
  left = 0

  start (frame: Frame): void {
    this.#chunks = frame.chunks
    this.#ci = 0
    this.#off = 0
    this.left = frame.size
  }

  // Drops the references to the chunks so that the frame's memory is not kept alive.
  release (): void {
    this.#chunks = NO_CHUNKS
    this.left = 0
  }

  skip (n: number): boolean {
    if (n < 0 || n > this.left) return false
    this.left -= n
    const chunks = this.#chunks
    while (n > 0) {
      const avail = chunks[this.#ci]!.length - this.#off
      if (n < avail) {
        this.#off += n
        return true
      }
      n -= avail
      this.#ci++
      this.#off = 0
    }
    return true
  }

  // one byte, -1 at the end
  u8 (): number {
    if (this.left <= 0) return -1
    const chunks = this.#chunks
    while (this.#off >= chunks[this.#ci]!.length) {
      this.#ci++
      this.#off = 0
    }
    this.left--
    return chunks[this.#ci]![this.#off++]!
  }

  // big-endian int16; NaN when fewer than 2 bytes are left (-1 is a valid value here)
  int16 (): number {
    if (this.left < 2) return NaN
    const v = (this.u8() << 8) | this.u8()
    return (v << 16) >> 16
  }

  int32 (): number {
    if (this.left < 4) return NaN
    return ((this.u8() << 24) | (this.u8() << 16) | (this.u8() << 8) | this.u8())
  }

  // Overwrites the next 4 bytes with big-endian `value` (consumed); false when fewer are left. For
  // the few fields kproxy changes in place (a quota's throttle time), never for lengths.
  putInt32 (value: number): boolean {
    if (this.left < 4) return false
    const chunks = this.#chunks
    for (let shift = 24; shift >= 0; shift -= 8) {
      while (this.#off >= chunks[this.#ci]!.length) {
        this.#ci++
        this.#off = 0
      }
      chunks[this.#ci]![this.#off++] = (value >>> shift) & 0xff
    }
    this.left -= 4
    return true
  }

  // unsigned varint of at most 5 bytes (the ones Kafka's lengths and counts use), -1 if malformed
  uvarint (): number {
    let value = 0
    let shift = 0
    for (;;) {
      const b = this.u8()
      if (b < 0) return -1
      value += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return value
      shift += 7
      if (shift > 28) return -1
    }
  }

  // a tagged-field section: uvarint count, then (tag uvarint, size uvarint, size bytes) each
  skipTaggedFields (): boolean {
    const n = this.uvarint()
    if (n < 0) return false
    for (let i = 0; i < n; i++) {
      if (this.uvarint() < 0) return false
      const size = this.uvarint()
      if (size < 0 || !this.skip(size)) return false
    }
    return true
  }

  // Length of a string (int16 or compact); -1 for null, -2 when malformed.
  stringLength (compact: boolean): number {
    if (compact) {
      const n = this.uvarint()
      return n < 0 ? -2 : n - 1
    }
    const n = this.int16()
    return Number.isNaN(n) || n < -1 ? -2 : n
  }

  // Length of bytes/records (int32 or compact) or count of an array; -1 for null, -2 when malformed.
  length32 (compact: boolean): number {
    if (compact) {
      const n = this.uvarint()
      return n < 0 ? -2 : n - 1
    }
    const n = this.int32()
    return Number.isNaN(n) || n < -1 ? -2 : n
  }

  skipString (compact: boolean): boolean {
    const n = this.stringLength(compact)
    return n >= -1 && (n <= 0 || this.skip(n))
  }

  // FNV-1a of the next n bytes (kept to 30 bits: a small integer, which V8 never boxes), without
  // consuming them; for interning names.
  hash (n: number): number {
    let h = 0x811c9dc5
    let ci = this.#ci
    let off = this.#off
    const chunks = this.#chunks
    for (let i = 0; i < n; i++) {
      while (off >= chunks[ci]!.length) {
        ci++
        off = 0
      }
      h ^= chunks[ci]![off++]!
      h = Math.imul(h, 0x01000193)
    }
    return h & 0x3fffffff
  }

  // Whether the next bytes equal `bytes` (not consumed).
  equals (bytes: Buffer): boolean {
    const n = bytes.length
    if (n > this.left) return false
    let ci = this.#ci
    let off = this.#off
    const chunks = this.#chunks
    for (let i = 0; i < n; i++) {
      while (off >= chunks[ci]!.length) {
        ci++
        off = 0
      }
      if (chunks[ci]![off++] !== bytes[i]) return false
    }
    return true
  }

  // A copy of the next n bytes (consumed): the slow path, for a name seen the first time.
  copy (n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    const chunks = this.#chunks
    while (filled < n) {
      const chunk = chunks[this.#ci]!
      const avail = chunk.length - this.#off
      if (avail <= 0) {
        this.#ci++
        this.#off = 0
        continue
      }
      const take = Math.min(avail, n - filled)
      chunk.copy(out, filled, this.#off, this.#off + take)
      filled += take
      this.#off += take
    }
    this.left -= n
    return out
  }
}
