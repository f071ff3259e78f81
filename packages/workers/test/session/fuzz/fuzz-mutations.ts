// How the session fuzz spoils a valid frame. Request mutations reach every layer: the framing
// (sizes that lie, frames under 8 bytes, claims above the frame limit), the header peek (unknown
// API keys, versions nobody advertised), and the decoders of the filters that read bodies (flipped
// bits, huge or negative lengths, truncated or extended bodies with a consistent size). Response
// mutations keep the size prefix and the correlation id: the route hands the session whole
// frames, and a correlation id is the upstream connection's business, not the session's.
import { API_TABLE } from '@kproxy/core/protocol/api-keys'

export type RequestMutation =
  | 'valid' | 'flip' | 'pattern' | 'truncated' | 'extended' | 'random-body' | 'unknown-key' | 'unknown-version'
  | 'negative-version' | 'tiny' | 'oversized-claim' | 'lying-size' | 'random'

// [mutation, weight] of a spoiled frame
const REQUEST_MUTATIONS: ReadonlyArray<readonly [RequestMutation, number]> = [
  ['flip', 20], ['pattern', 16], ['truncated', 12], ['extended', 8], ['random-body', 6], ['unknown-key', 6],
  ['unknown-version', 6], ['negative-version', 2], ['tiny', 2], ['oversized-claim', 2], ['lying-size', 4], ['random', 6]
]
const REQUEST_WEIGHT = REQUEST_MUTATIONS.reduce((n, [, w]) => n + w, 0)

// big or negative int32 / int16 / unsigned varint values, written over a length or a count
const PATTERNS: ReadonlyArray<readonly number[]> = [
  [0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xfe], [0x80, 0x00], [0xff, 0xff, 0xff, 0xff, 0x0f], [0xfe, 0xff, 0xff, 0xff, 0x07], [0x7f, 0xff], [0, 0, 0, 0], [0xff, 0xff]
]

export type Random = () => number // uint32

export function pick<T> (next: Random, list: readonly T[]): T {
  return list[next() % list.length]!
}

function chooseSpoiling (next: Random): RequestMutation {
  let r = next() % REQUEST_WEIGHT
  for (const [m, w] of REQUEST_MUTATIONS) {
    if (r < w) return m
    r -= w
  }
  return 'valid'
}

function randomBytes (next: Random, n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = next() & 0xff
  return b
}

function withSize (payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 4)
  out.writeInt32BE(payload.length, 0)
  payload.copy(out, 4)
  return out
}

// Spoils bytes at or after `from` of a copy of `payload`.
function spoil (next: Random, payload: Buffer, from: number, how: 'flip' | 'pattern'): Buffer {
  const b = Buffer.from(payload)
  if (b.length <= from) return b
  if (how === 'flip') {
    const n = 1 + next() % 3
    for (let i = 0; i < n; i++) b[from + next() % (b.length - from)]! ^= 1 << (next() % 8)
  } else {
    const p = pick(next, PATTERNS)
    const at = from + next() % (b.length - from)
    for (let j = 0; j < p.length && at + j < b.length; j++) b[at + j] = p[j]!
  }
  return b
}

// The request frame to send (size prefix included) and what was done to it: spoiled with
// probability `rate` (0..1).
export function mutateRequest (next: Random, frame: Buffer, maxFrameSize: number, rate: number): { bytes: Buffer, mutation: RequestMutation } {
  const mutation = (next() % 10000) < rate * 10000 ? chooseSpoiling(next) : 'valid'
  const payload = frame.subarray(4)
  let bytes: Buffer
  switch (mutation) {
    case 'valid':
      bytes = frame
      break
    case 'flip':
    case 'pattern':
      // after the correlation id: the header peek stays plausible, the body and client id do not
      bytes = withSize(spoil(next, payload, 8, mutation))
      break
    case 'truncated':
      bytes = withSize(payload.subarray(0, next() % payload.length))
      break
    case 'extended':
      bytes = withSize(Buffer.concat([payload, randomBytes(next, 1 + next() % 32)]))
      break
    case 'random-body':
      bytes = withSize(Buffer.concat([payload.subarray(0, 8), randomBytes(next, next() % 64)]))
      break
    case 'unknown-key': {
      const b = Buffer.from(payload)
      // beyond the table, a gap in it, or negative
      const keys = [API_TABLE.length + (next() % 1000), 32767, -1, -32768]
      for (let k = 0; k < API_TABLE.length; k++) if (API_TABLE[k] === undefined) keys.push(k)
      b.writeInt16BE(pick(next, keys), 0)
      bytes = withSize(b)
      break
    }
    case 'unknown-version': {
      const b = Buffer.from(payload)
      const api = API_TABLE[b.readInt16BE(0)]
      const max = api?.maxVersion ?? 0
      b.writeInt16BE(Math.min(32767, max + 1 + (next() % 40)), 2)
      bytes = withSize(b)
      break
    }
    case 'negative-version': {
      const b = Buffer.from(payload)
      b.writeInt16BE(-1 - (next() % 32768), 2)
      bytes = withSize(b)
      break
    }
    case 'tiny':
      bytes = withSize(payload.subarray(0, next() % 8))
      break
    case 'oversized-claim': {
      bytes = Buffer.from(frame)
      bytes.writeInt32BE(pick(next, [maxFrameSize + 1, 0x7fffffff, -1, -0x80000000, 0]), 0)
      break
    }
    case 'lying-size': {
      // a prefix that says less (the rest is read as the next frame) or more (it swallows what
      // follows) than the payload
      bytes = Buffer.from(frame)
      const delta = 1 + next() % 64
      bytes.writeInt32BE(next() % 2 === 0 ? Math.max(0, payload.length - delta) : payload.length + delta, 0)
      break
    }
    case 'random': {
      const body = randomBytes(next, next() % 96)
      bytes = next() % 4 === 0 ? body : withSize(body)
      break
    }
  }
  return { bytes, mutation }
}

export type ResponseMutation = 'valid' | 'flip' | 'pattern' | 'truncated' | 'extended'

// A spoiled response payload (no size prefix), correlation id kept.
export function mutateResponse (next: Random, payload: Buffer): { payload: Buffer, mutation: ResponseMutation } {
  const r = next() % 100
  if (r < 88) return { payload, mutation: 'valid' }
  if (r < 92) return { payload: spoil(next, payload, 4, 'flip'), mutation: 'flip' }
  if (r < 95) return { payload: spoil(next, payload, 4, 'pattern'), mutation: 'pattern' }
  if (r < 98) return { payload: payload.subarray(0, 4 + next() % Math.max(1, payload.length - 4)), mutation: 'truncated' }
  return { payload: Buffer.concat([payload, randomBytes(next, 1 + next() % 16)]), mutation: 'extended' }
}

// Cuts a byte stream into 1..4 socket reads at random places.
export function cutIntoReads (next: Random, bytes: Buffer): Buffer[] {
  const n = 1 + next() % 4
  if (n === 1 || bytes.length < 2) return [bytes]
  const cuts = new Set<number>()
  for (let i = 1; i < n; i++) cuts.add(1 + next() % (bytes.length - 1))
  const sorted = [...cuts].sort((a, b) => a - b)
  const out: Buffer[] = []
  let at = 0
  for (const c of sorted) {
    out.push(bytes.subarray(at, c))
    at = c
  }
  out.push(bytes.subarray(at))
  return out
}
