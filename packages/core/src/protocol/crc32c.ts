// CRC-32C (Castagnoli), the checksum of Kafka record batches v2 (not zlib's CRC-32).
// Reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF (RFC 3720).
// Pure TypeScript, table-driven "slicing-by-8": eight 256-entry tables let the main loop consume
// 8 bytes per step with table lookups only, about 4x faster than the one-byte loop.
//
// Incremental use: the result of one call is the seed of the next, so
//   crc32c(b, 0, b.length, crc32c(a)) === crc32c(concat(a, b)).

const POLY = 0x82f63b78

function makeTables (): Int32Array {
  const t = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ POLY : c >>> 1
    t[n] = c
  }
  // table k maps a byte to its CRC contribution when k more zero bytes follow it
  for (let n = 0; n < 256; n++) {
    let c = t[n]
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
}

const T = makeTables()

export function crc32c (buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new RangeError(`crc32c range [${start}, ${end}) is outside a buffer of ${buf.length} bytes`)
  }
  let c = ~seed
  let i = start
  const end8 = end - ((end - i) & 7)
  while (i < end8) {
    const lo = c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))
    const hi = buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24)
    c = T[1792 + (lo & 0xff)] ^ T[1536 + ((lo >>> 8) & 0xff)] ^
      T[1280 + ((lo >>> 16) & 0xff)] ^ T[1024 + (lo >>> 24)] ^
      T[768 + (hi & 0xff)] ^ T[512 + ((hi >>> 8) & 0xff)] ^
      T[256 + ((hi >>> 16) & 0xff)] ^ T[hi >>> 24]
    i += 8
  }
  while (i < end) c = T[(c ^ buf[i++]) & 0xff] ^ (c >>> 8)
  return ~c >>> 0
}

// CRC-32C over several buffers taken in order (e.g. the chunks of a frame), as if concatenated.
export function crc32cChunks (chunks: readonly Uint8Array[], seed = 0): number {
  let c = seed
  for (let k = 0; k < chunks.length; k++) c = crc32c(chunks[k], 0, chunks[k].length, c)
  return c
}
