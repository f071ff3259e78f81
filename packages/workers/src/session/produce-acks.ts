// Produce requests with acks=0 get no response at all, so the pipeline must not wait for one.
// Reading acks without decoding the request:
//   header    apiKey int16, apiVersion int16, correlationId int32,
//             clientId nullable string (ALWAYS int16 length),
//             v9+ (header v2): tagged fields = count uvarint, then per field tag uvarint,
//             size uvarint, size bytes
//   body      v0-2: acks int16 first (no transactional id; Kafka 4 refuses these versions, but
//             kproxy forwards them so that the broker answers, see docs/broker-mode.md)
//             v3+: transactionalId nullable string (v3-8: int16 length, -1 null;
//             v9+: compact, uvarint length+1, 0 null), then acks int16
export const NEED_MORE = -100

const PRODUCE_FLEXIBLE_MIN = 9
const PRODUCE_TRANSACTIONAL_MIN = 3

// The acks value, or NEED_MORE when `buf` (the start of the payload) is too short to tell.
export function produceAcks (buf: Buffer, apiVersion: number): number {
  const len = buf.length
  if (len < 10) return NEED_MORE
  const clientIdLen = buf.readInt16BE(8)
  let pos = 10 + (clientIdLen > 0 ? clientIdLen : 0)
  const flexible = apiVersion >= PRODUCE_FLEXIBLE_MIN
  if (flexible) {
    const count = uvarint(buf, pos)
    pos = next
    for (let i = 0; i < count && pos >= 0; i++) {
      uvarint(buf, pos) // tag
      if (next < 0) { pos = -1; break }
      const size = uvarint(buf, next)
      pos = next < 0 ? -1 : next + size
    }
    if (pos < 0) return NEED_MORE
    const n = uvarint(buf, pos)
    if (next < 0) return NEED_MORE
    pos = next + (n > 0 ? n - 1 : 0)
  } else if (apiVersion >= PRODUCE_TRANSACTIONAL_MIN) {
    if (pos + 2 > len) return NEED_MORE
    const n = buf.readInt16BE(pos)
    pos += 2 + (n > 0 ? n : 0)
  }
  if (pos + 2 > len) return NEED_MORE
  return buf.readInt16BE(pos)
}

// The offset after the last varint read; -1 when the buffer ended inside it.
let next = 0

function uvarint (buf: Buffer, pos: number): number {
  let value = 0
  let shift = 0
  while (pos < buf.length) {
    const b = buf[pos++]
    value += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) {
      next = pos
      return value
    }
    shift += 7
    if (shift > 28) break
  }
  next = -1
  return value
}
