// xxHash32 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), which the LZ4 frame
// format uses for its header checksum. Only the one-shot form over a byte range is needed.
//   4 lanes of 16-byte stripes: lane = rotl(lane + word * P2, 13) * P1
//   then the 4-byte words and single bytes left, and the avalanche.
const P1 = 0x9e3779b1
const P2 = 0x85ebca77
const P3 = 0xc2b2ae3d
const P4 = 0x27d4eb2f
const P5 = 0x165667b1

function rotl (x: number, r: number): number {
  return (x << r) | (x >>> (32 - r))
}

function round (lane: number, word: number): number {
  return Math.imul(rotl((lane + Math.imul(word, P2)) | 0, 13), P1)
}

export function xxhash32 (data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  let p = start
  let h: number
  if (end - start >= 16) {
    let v1 = (seed + P1 + P2) | 0
    let v2 = (seed + P2) | 0
    let v3 = seed | 0
    let v4 = (seed - P1) | 0
    for (; p <= end - 16; p += 16) {
      v1 = round(v1, view.getUint32(p, true))
      v2 = round(v2, view.getUint32(p + 4, true))
      v3 = round(v3, view.getUint32(p + 8, true))
      v4 = round(v4, view.getUint32(p + 12, true))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    h = (seed + P5) | 0
  }
  h = (h + (end - start)) | 0
  for (; p <= end - 4; p += 4) h = Math.imul(rotl((h + Math.imul(view.getUint32(p, true), P3)) | 0, 17), P4)
  for (; p < end; p++) h = Math.imul(rotl((h + Math.imul(data[p], P5)) | 0, 11), P1)
  h = Math.imul(h ^ (h >>> 15), P2)
  h = Math.imul(h ^ (h >>> 13), P3)
  return (h ^ (h >>> 16)) >>> 0
}
