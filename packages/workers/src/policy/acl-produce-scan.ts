// The ACL filter's fast path for Produce, the request that carries the data: the frame is walked
// where it lies in the socket's chunks (records skipped by their length, never copied or decoded)
// and every (topic, partition) is checked against the connection's compiled view. Only when all
// of them are allowed and no batch is transactional does it answer "allowed", and the request goes
// upstream as the bytes that arrived; anything else (a denial, a transactional batch, a topic id
// the worker does not know, a frame it cannot read) sends the request down the decoded path,
// which decides.
//
// Produce request v0-13 (v9+ flexible: compact strings/arrays, tagged fields TF):
//   header  apiKey int16, apiVersion int16, correlationId int32, clientId nullable string
//           (always int16 length), v9+ TF
//   body    v3+ transactionalId nullable string, acks int16, timeoutMs int32,
//           topicData array of
//             name string (v0-12) | topicId uuid (v13),
//             partitionData array of
//               index int32, records nullable bytes, v9+ TF
//             v9+ TF
//           v9+ TF
// A record batch (magic 2) has its attributes at byte 21; bit 4 says transactional.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { ChunkCursor } from '@kproxy/core/protocol/chunk-cursor'
import type { NameInterner } from '@kproxy/core/protocol/name-interner'

const FLEXIBLE_MIN = 9
const TRANSACTIONAL_ID_MIN = 3
const TOPIC_ID_MIN = 13
const UUID_BYTES = 16
const BATCH_MAGIC_AT = 16
const BATCH_ATTRIBUTES_AT = 21
const TRANSACTIONAL_BIT = 0x10

// Decides one topic's partitions; the fast path asks it per topic, then per partition.
export interface ProduceChecker {
  // the topic by name (or by id when `id`): false when it cannot be checked here
  topic (name: string, id: boolean): boolean
  // the last topic given: may this partition be written
  partition (index: number): boolean
}

// true: every partition allowed, nothing transactional (forward as it is); false: decide on the
// decoded request.
export function produceAllowedFast (frame: Frame, version: number, cursor: ChunkCursor, names: NameInterner, checker: ProduceChecker): boolean {
  cursor.start(frame)
  try {
    return scan(version, cursor, names, checker)
  } finally {
    cursor.release()
  }
}

function scan (version: number, c: ChunkCursor, names: NameInterner, checker: ProduceChecker): boolean {
  const flexible = version >= FLEXIBLE_MIN
  if (!c.skip(8)) return false
  if (!c.skipString(false)) return false
  if (flexible && !c.skipTaggedFields()) return false
  if (version >= TRANSACTIONAL_ID_MIN) {
    const n = c.stringLength(flexible)
    // a transactional producer: the decoded path checks the transactional id
    if (n !== -1) return false
  }
  if (!c.skip(6)) return false
  const topics = c.length32(flexible)
  if (topics < 0) return false
  for (let t = 0; t < topics; t++) {
    if (version >= TOPIC_ID_MIN) {
      if (c.left < UUID_BYTES) return false
      if (!checker.topic(names.take(c, UUID_BYTES, true), true)) return false
    } else {
      const n = c.stringLength(flexible)
      if (n < 0 || c.left < n) return false
      if (!checker.topic(names.take(c, n, false), false)) return false
    }
    const partitions = c.length32(flexible)
    if (partitions < 0) return false
    for (let p = 0; p < partitions; p++) {
      const index = c.int32()
      if (Number.isNaN(index) || !checker.partition(index)) return false
      const size = c.length32(flexible)
      if (size < -1) return false
      if (size > BATCH_ATTRIBUTES_AT + 1) {
        if (!c.skip(BATCH_MAGIC_AT)) return false
        const magic = c.u8()
        if (!c.skip(BATCH_ATTRIBUTES_AT - BATCH_MAGIC_AT - 1)) return false
        const attributes = c.int16()
        if (Number.isNaN(attributes) || (magic === 2 && (attributes & TRANSACTIONAL_BIT) !== 0)) return false
        if (!c.skip(size - BATCH_ATTRIBUTES_AT - 2)) return false
      } else if (size > 0 && !c.skip(size)) {
        return false
      }
      if (flexible && !c.skipTaggedFields()) return false
    }
    if (flexible && !c.skipTaggedFields()) return false
  }
  // the whole frame read, nothing more or less: anything else is for the decoder to refuse
  if (flexible && !c.skipTaggedFields()) return false
  return c.left === 0
}
