// Fetch responses are the big ones, and only v16+ responses for a partition that moved carry
// NodeEndpoints (a top-level tagged field). Decoding every Fetch response to find out would copy
// megabytes of records into one buffer when they span several socket chunks, so this walks the
// frame's chunks without copying, skipping records by their length, and reports how many
// top-level tagged fields the response has: 0 means "nothing to rewrite, forward the bytes".
//
// Fetch response v16-18 (flexible; every struct ends with tagged fields TF):
//   header     correlationId int32, TF
//   body       throttleTimeMs int32, errorCode int16, sessionId int32,
//              responses compact array of
//                topicId uuid(16), partitions compact array of
//                  partitionIndex int32, errorCode int16, highWatermark int64,
//                  lastStableOffset int64, logStartOffset int64,
//                  abortedTransactions compact nullable array of (producerId int64, firstOffset int64, TF),
//                  preferredReadReplica int32, records compact nullable bytes, TF
//                TF
//              TF   <- NodeEndpoints is tag 0 here
// compact array/bytes: uvarint N+1 (0 = null). TF: uvarint count, then (tag uvarint, size uvarint, bytes).
import type { Frame } from '@kproxy/core/protocol/frame-reader'

export const FETCH_SCAN_MIN_VERSION = 16
export const FETCH_SCAN_MAX_VERSION = 18

// A cursor over the frame's chunks; module state, so no allocation per response.
let chunks: readonly Buffer[] = []
let ci = 0
let off = 0
let left = 0

function skip (n: number): boolean {
  if (n < 0 || n > left) return false
  left -= n
  while (n > 0) {
    const avail = chunks[ci].length - off
    if (n < avail) {
      off += n
      return true
    }
    n -= avail
    ci++
    off = 0
  }
  return true
}

function u8 (): number {
  if (left <= 0) return -1
  while (off >= chunks[ci].length) {
    ci++
    off = 0
  }
  left--
  return chunks[ci][off++]
}

function uvarint (): number {
  let value = 0
  let shift = 0
  for (;;) {
    const b = u8()
    if (b < 0) return -1
    value += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) return value
    shift += 7
    if (shift > 28) return -1
  }
}

function skipTaggedFields (): boolean {
  const n = uvarint()
  if (n < 0) return false
  for (let i = 0; i < n; i++) {
    if (uvarint() < 0) return false
    const size = uvarint()
    if (size < 0 || !skip(size)) return false
  }
  return true
}

// The number of top-level tagged fields of a Fetch v16-18 response, or -1 when the frame does
// not parse (the caller then decodes it in full, which reports the error properly). Only 0 lets
// the bytes through undecoded; a truncated frame may also give a count > 0 (decoded, fails).
export function fetchTopLevelTagCount (frame: Frame): number {
  chunks = frame.chunks
  ci = 0
  off = 0
  left = frame.size
  const n = scan()
  chunks = []
  return n
}

function scan (): number {
  if (!skip(4) || !skipTaggedFields() || !skip(4 + 2 + 4)) return -1
  const topics = uvarint() - 1
  if (topics < 0) return -1
  for (let t = 0; t < topics; t++) {
    if (!skip(16)) return -1
    const partitions = uvarint() - 1
    if (partitions < 0) return -1
    for (let p = 0; p < partitions; p++) {
      if (!skip(4 + 2 + 8 + 8 + 8)) return -1
      const aborted = uvarint() - 1
      if (aborted < -1) return -1
      for (let a = 0; a < aborted; a++) {
        if (!skip(16) || !skipTaggedFields()) return -1
      }
      if (!skip(4)) return -1
      const records = uvarint() - 1
      if (records < -1 || (records > 0 && !skip(records))) return -1
      if (!skipTaggedFields()) return -1
    }
    if (!skipTaggedFields()) return -1
  }
  const count = uvarint()
  // bytes after an empty tag section: not a Fetch response of this version after all
  if (count === 0 && left !== 0) return -1
  return count
}
