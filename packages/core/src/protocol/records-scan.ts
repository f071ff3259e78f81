// Where the records of a Produce request or a Fetch response go, without decoding the message:
// the scanner walks the frame's chunks by the lengths on the wire, hands each topic and each
// partition's record bytes to a visitor, and skips the record blobs themselves. Topic names and
// ids come interned (name-interner.ts), so a topic already seen costs no allocation. A Produce
// response gives the error code per partition, for the error rate of a flow.
//
// Frames are payloads as the frame reader emits them (size prefix excluded), header included.
//
// Produce request v3-13 (flexible from v9: compact lengths, tagged fields TF after each struct)
//   header   apiKey int16, apiVersion int16, correlationId int32,
//            clientId nullable string (int16 length, even when flexible), [TF]
//   body     transactionalId nullable string, acks int16, timeoutMs int32,
//            topicData array of
//              name string (v3-12) | topicId uuid (v13+),
//              partitionData array of (index int32, records nullable bytes, [TF]), [TF]
//            [TF]
// Fetch response v4-18 (flexible from v12)
//   header   correlationId int32, [TF]
//   body     throttleTimeMs int32, errorCode int16 (v7+), sessionId int32 (v7+),
//            responses array of
//              topic string (v4-12) | topicId uuid (v13+),
//              partitions array of
//                partitionIndex int32, errorCode int16, highWatermark int64,
//                lastStableOffset int64, logStartOffset int64 (v5+),
//                abortedTransactions nullable array of (producerId int64, firstOffset int64, [TF]),
//                preferredReadReplica int32 (v11+), records nullable bytes, [TF]
//              [TF]
//            [TF]
// Produce response v3-13 (flexible from v9)
//   header   correlationId int32, [TF]
//   body     responses array of
//              name string (v3-12) | topicId uuid (v13+),
//              partitionResponses array of
//                index int32, errorCode int16, baseOffset int64, logAppendTimeMs int64,
//                logStartOffset int64 (v5+),
//                recordErrors array of (batchIndex int32, message nullable string, [TF]) (v8+),
//                errorMessage nullable string (v8+), [TF]
//              [TF]
//            throttleTimeMs int32, [TF]
import { ChunkCursor } from './chunk-cursor.ts'
import type { Frame } from './frame-reader.ts'
import { NameInterner } from './name-interner.ts'

export const PRODUCE_MIN_VERSION = 3
export const PRODUCE_MAX_VERSION = 13
export const PRODUCE_FLEXIBLE_MIN = 9
export const PRODUCE_TOPIC_ID_MIN = 13
export const FETCH_MIN_VERSION = 4
export const FETCH_MAX_VERSION = 18
export const FETCH_FLEXIBLE_MIN = 12
export const FETCH_TOPIC_ID_MIN = 13

const UUID_BYTES = 16
const INT64 = 8

export interface RecordsVisitor {
  // A topic of the message, before its partitions. By name, or (byId) by topic id in Kafka's
  // base64url form for Produce v13+ and Fetch v13+. The same topic gives the same string object.
  onTopic (topic: string, byId: boolean): void
  // A partition of the last topic: its record bytes (0 when null or in a Produce response) and
  // its error code (0 in a Produce request).
  onPartition (partition: number, recordBytes: number, errorCode: number): void
}

export class RecordsScanner {
  readonly #c = new ChunkCursor()
  readonly #names = new NameInterner()
  // of the last response scanned (0 for a request)
  throttleTimeMs = 0
  // Fetch v7+: the top-level error code of the last Fetch response scanned, else 0
  errorCode = 0

  get internedNames (): number { return this.#names.size }

  // Each returns false when the frame does not parse as that message (truncated, malformed or
  // with bytes left over); the visitor may have seen its first topics by then. Never throws.
  produceRequest (frame: Frame, apiVersion: number, v: RecordsVisitor): boolean {
    if (apiVersion < PRODUCE_MIN_VERSION || apiVersion > PRODUCE_MAX_VERSION) return false
    const c = this.#c
    c.start(frame)
    const ok = this.#produceRequest(apiVersion, v)
    c.release()
    return ok
  }

  fetchResponse (frame: Frame, apiVersion: number, v: RecordsVisitor): boolean {
    if (apiVersion < FETCH_MIN_VERSION || apiVersion > FETCH_MAX_VERSION) return false
    const c = this.#c
    c.start(frame)
    const ok = this.#fetchResponse(apiVersion, v)
    c.release()
    return ok
  }

  produceResponse (frame: Frame, apiVersion: number, v: RecordsVisitor): boolean {
    if (apiVersion < PRODUCE_MIN_VERSION || apiVersion > PRODUCE_MAX_VERSION) return false
    const c = this.#c
    c.start(frame)
    const ok = this.#produceResponse(apiVersion, v)
    c.release()
    return ok
  }

  // topic name (compact or not) or topic id, handed to the visitor
  #topic (byId: boolean, compact: boolean, v: RecordsVisitor): boolean {
    const c = this.#c
    if (byId) {
      if (c.left < UUID_BYTES) return false
      v.onTopic(this.#names.take(c, UUID_BYTES, true), true)
      return true
    }
    const n = c.stringLength(compact)
    if (n < 0 || n > c.left) return false
    v.onTopic(this.#names.take(c, n, false), false)
    return true
  }

  #produceRequest (version: number, v: RecordsVisitor): boolean {
    const c = this.#c
    const flexible = version >= PRODUCE_FLEXIBLE_MIN
    this.throttleTimeMs = 0
    this.errorCode = 0
    // header: apiKey, apiVersion, correlationId, clientId (always an int16 length)
    if (!c.skip(8) || !c.skipString(false)) return false
    if (flexible && !c.skipTaggedFields()) return false
    if (!c.skipString(flexible) || !c.skip(2 + 4)) return false
    const topics = c.length32(flexible)
    if (topics < 0) return false
    const byId = version >= PRODUCE_TOPIC_ID_MIN
    for (let t = 0; t < topics; t++) {
      if (!this.#topic(byId, flexible, v)) return false
      const partitions = c.length32(flexible)
      if (partitions < 0) return false
      for (let p = 0; p < partitions; p++) {
        const index = c.int32()
        const bytes = c.length32(flexible)
        if (Number.isNaN(index) || bytes < -1) return false
        if (bytes > 0 && !c.skip(bytes)) return false
        if (flexible && !c.skipTaggedFields()) return false
        v.onPartition(index, bytes < 0 ? 0 : bytes, 0)
      }
      if (flexible && !c.skipTaggedFields()) return false
    }
    if (flexible && !c.skipTaggedFields()) return false
    return c.left === 0
  }

  #fetchResponse (version: number, v: RecordsVisitor): boolean {
    const c = this.#c
    const flexible = version >= FETCH_FLEXIBLE_MIN
    if (!c.skip(4)) return false // correlationId
    if (flexible && !c.skipTaggedFields()) return false
    const throttle = c.int32()
    if (Number.isNaN(throttle)) return false
    this.throttleTimeMs = throttle
    this.errorCode = 0
    if (version >= 7) {
      const error = c.int16()
      if (Number.isNaN(error) || !c.skip(4)) return false
      this.errorCode = error
    }
    const topics = c.length32(flexible)
    if (topics < 0) return false
    const byId = version >= FETCH_TOPIC_ID_MIN
    for (let t = 0; t < topics; t++) {
      if (!this.#topic(byId, flexible, v)) return false
      const partitions = c.length32(flexible)
      if (partitions < 0) return false
      for (let p = 0; p < partitions; p++) {
        const index = c.int32()
        const error = c.int16()
        if (Number.isNaN(index) || Number.isNaN(error)) return false
        if (!c.skip(INT64 + INT64 + (version >= 5 ? INT64 : 0))) return false
        const aborted = c.length32(flexible)
        if (aborted < -1) return false
        for (let a = 0; a < aborted; a++) {
          if (!c.skip(INT64 + INT64) || (flexible && !c.skipTaggedFields())) return false
        }
        if (version >= 11 && !c.skip(4)) return false
        const bytes = c.length32(flexible)
        if (bytes < -1 || (bytes > 0 && !c.skip(bytes))) return false
        if (flexible && !c.skipTaggedFields()) return false
        v.onPartition(index, bytes < 0 ? 0 : bytes, error)
      }
      if (flexible && !c.skipTaggedFields()) return false
    }
    if (flexible && !c.skipTaggedFields()) return false
    return c.left === 0
  }

  #produceResponse (version: number, v: RecordsVisitor): boolean {
    const c = this.#c
    const flexible = version >= PRODUCE_FLEXIBLE_MIN
    this.errorCode = 0
    if (!c.skip(4)) return false // correlationId
    if (flexible && !c.skipTaggedFields()) return false
    const topics = c.length32(flexible)
    if (topics < 0) return false
    const byId = version >= PRODUCE_TOPIC_ID_MIN
    for (let t = 0; t < topics; t++) {
      if (!this.#topic(byId, flexible, v)) return false
      const partitions = c.length32(flexible)
      if (partitions < 0) return false
      for (let p = 0; p < partitions; p++) {
        const index = c.int32()
        const error = c.int16()
        if (Number.isNaN(index) || Number.isNaN(error)) return false
        if (!c.skip(INT64 + INT64 + (version >= 5 ? INT64 : 0))) return false
        if (version >= 8) {
          const recordErrors = c.length32(flexible)
          if (recordErrors < 0) return false
          for (let e = 0; e < recordErrors; e++) {
            if (!c.skip(4) || !c.skipString(flexible) || (flexible && !c.skipTaggedFields())) return false
          }
          if (!c.skipString(flexible)) return false
        }
        if (flexible && !c.skipTaggedFields()) return false
        v.onPartition(index, 0, error)
      }
      if (flexible && !c.skipTaggedFields()) return false
    }
    const throttle = c.int32()
    if (Number.isNaN(throttle)) return false
    this.throttleTimeMs = throttle
    if (flexible && !c.skipTaggedFields()) return false
    return c.left === 0
  }
}
