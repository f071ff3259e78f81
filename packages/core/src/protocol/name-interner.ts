// Topic names and ids read off the wire, as strings, without making a new string each time the
// same topic passes: the bytes are hashed where they lie in the frame and compared with the
// names seen before, so a hot path that counts per topic allocates only for a topic it has never
// seen. Bounded: past MAX_ENTRIES new names are still returned, but not remembered.
import type { ChunkCursor } from './chunk-cursor.ts'

export const MAX_INTERNED_NAMES = 65_536

interface Entry {
  bytes: Buffer
  name: string
  id: boolean
  next: Entry | null
}

export class NameInterner {
  readonly #table = new Map<number, Entry>()
  #size = 0

  get size (): number { return this.#size }

  // The next n bytes at the cursor as a name (UTF-8) or, with id, as a topic id (16 bytes shown
  // the way Kafka prints a Uuid: URL-safe base64 without padding). Consumes the bytes; the
  // caller has checked that n bytes are left.
  take (cursor: ChunkCursor, n: number, id: boolean): string {
    const h = id ? cursor.hash(n) ^ 0x15bd1e99 : cursor.hash(n)
    const first = this.#table.get(h)
    for (let e = first ?? null; e !== null; e = e.next) {
      if (e.id === id && e.bytes.length === n && cursor.equals(e.bytes)) {
        cursor.skip(n)
        return e.name
      }
    }
    const bytes = cursor.copy(n)
    const name = id ? bytes.toString('base64url') : bytes.toString('utf8')
    if (this.#size < MAX_INTERNED_NAMES) {
      this.#table.set(h, { bytes, name, id, next: first ?? null })
      this.#size++
    }
    return name
  }
}
