// A filter's `frames` answer (a request answered, or a response replaced) must be exactly one
// response frame for the request it answers:
//   frame := size:int32 correlationId:int32 rest:byte[size - 4]
// Anything else would corrupt the client's byte stream: every later response would be read from
// the wrong place, or matched to the wrong request. The session treats such an answer as a failed
// filter (an error answer for that request, the filter's failure counted), never writes it.
export function responseFramesProblem (frames: unknown, correlationId: number): string | null {
  if (!Array.isArray(frames) || frames.length === 0) return 'are not a non-empty list of Buffers'
  let total = 0
  for (const f of frames) {
    if (!Buffer.isBuffer(f)) return 'are not a list of Buffers'
    total += f.length
  }
  if (total < 8) return `are ${total} bytes, too short for a size prefix and a correlation id`
  const head = firstBytes(frames as Buffer[], 8)
  const size = head.readInt32BE(0)
  if (size !== total - 4) return `have a size prefix of ${size} for ${total - 4} bytes (one whole frame is expected)`
  const id = head.readInt32BE(4)
  if (id !== correlationId) return `carry correlation id ${id} instead of the request's ${correlationId}`
  return null
}

function firstBytes (frames: readonly Buffer[], n: number): Buffer {
  if (frames[0]!.length >= n) return frames[0]!
  const out = Buffer.alloc(n)
  let at = 0
  for (const f of frames) {
    at += f.copy(out, at, 0, Math.min(f.length, n - at))
    if (at === n) break
  }
  return out
}
