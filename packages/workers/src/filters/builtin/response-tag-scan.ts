// Produce v10+ and Fetch v16+ responses carry NodeEndpoints (a top-level tagged field) only when
// a partition moved. Decoding every one to find out would cost a decode per produce request, and
// for Fetch a copy of megabytes of records into one buffer when they span several socket chunks.
// So this walks the frame's chunks without copying (records are skipped by their length) and
// reports how many top-level tagged fields the response has: 0 means "nothing to rewrite".
//
// Produce response v10-13 (flexible):
//   header     correlationId int32, TF
//   body       responses compact array of
//                name compact string (v10-12) | topicId uuid (v13+),
//                partitionResponses compact array of
//                  index int32, errorCode int16, baseOffset int64, logAppendTimeMs int64,
//                  logStartOffset int64,
//                  recordErrors compact array of (batchIndex int32, batchIndexErrorMessage compact nullable string, TF),
//                  errorMessage compact nullable string, TF
//                TF
//              throttleTimeMs int32, TF   <- NodeEndpoints is tag 0 here
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
export const PRODUCE_SCAN_MIN_VERSION = 10
export const PRODUCE_SCAN_MAX_VERSION = 13

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
  start(frame)
  const n = scanFetch()
  chunks = []
  return n
}

// The same for a Produce v10-13 response.
export function produceTopLevelTagCount (frame: Frame, apiVersion: number): number {
  start(frame)
  const n = scanProduce(apiVersion)
  chunks = []
  return n
}

function start (frame: Frame): void {
  chunks = frame.chunks
  ci = 0
  off = 0
  left = frame.size
}

// compact nullable string: uvarint N+1, 0 = null
function skipCompactString (): boolean {
  const n = uvarint() - 1
  return n >= -1 && (n <= 0 || skip(n))
}

// the last tagged-field section of the message: its count, -1 on trailing bytes
function finalTagCount (): number {
  const count = uvarint()
  // bytes after an empty tag section: not a response of this version after all
  if (count === 0 && left !== 0) return -1
  return count
}

function scanProduce (apiVersion: number): number {
  if (!skip(4) || !skipTaggedFields()) return -1
  const topics = uvarint() - 1
  if (topics < 0) return -1
  for (let t = 0; t < topics; t++) {
    if (apiVersion >= 13 ? !skip(16) : !skipCompactString()) return -1
    const partitions = uvarint() - 1
    if (partitions < 0) return -1
    for (let p = 0; p < partitions; p++) {
      if (!skip(4 + 2 + 8 + 8 + 8)) return -1
      const recordErrors = uvarint() - 1
      if (recordErrors < 0) return -1
      for (let e = 0; e < recordErrors; e++) {
        if (!skip(4) || !skipCompactString() || !skipTaggedFields()) return -1
      }
      if (!skipCompactString() || !skipTaggedFields()) return -1
    }
    if (!skipTaggedFields()) return -1
  }
  if (!skip(4)) return -1
  return finalTagCount()
}

function scanFetch (): number {
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
  return finalTagCount()
}
