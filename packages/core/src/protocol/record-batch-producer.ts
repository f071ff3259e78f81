// The producer fields of v2 record batches (producerId at byte 43, producerEpoch at 51; layout in
// record-batch.ts): a cheap look at whether a Produce partition's records carry a producer id,
// and a copy of those records under another producer id and epoch, each batch's CRC-32C
// recomputed (it covers attributes..end, producer fields included). Base sequences, records and
// compression are kept byte for byte. Mesh mode uses it to give an idempotent producer a producer
// id of its own on each cluster it writes to (workers/src/mesh-mode/producer-ids.ts).
import { KproxyError } from '../kproxy-error.ts'
import { crc32c } from './crc32c.ts'
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, ATTRIBUTES_OFFSET, CRC_OFFSET, malformed, RECORD_BATCH_HEADER_SIZE, RECORD_BATCH_LOG_OVERHEAD, RECORD_BATCH_MAGIC } from './record-batch.ts'

export const PRODUCER_ID_OFFSET = 43
export const PRODUCER_EPOCH_OFFSET = 51
const MAGIC_OFFSET = 16
const LENGTH_OFFSET = 8

export interface BatchProducer {
  producerId: bigint
  producerEpoch: number
}

// The producer of the first batch of `records` when it is an idempotent, non-transactional v2
// batch (producerId >= 0, neither transactional nor control); else null. Reads three fields:
// what every Produce partition bound for a cluster other than its producer's pays.
export function idempotentProducerOf (records: Buffer | null): BatchProducer | null {
  if (records === null || records.length < RECORD_BATCH_HEADER_SIZE) return null
  if (records[MAGIC_OFFSET] !== RECORD_BATCH_MAGIC) return null
  // the high word of a negative id (-1: none) is negative
  if (records.readInt32BE(PRODUCER_ID_OFFSET) < 0) return null
  if ((records.readInt16BE(ATTRIBUTES_OFFSET) & (ATTR_TRANSACTIONAL | ATTR_CONTROL)) !== 0) return null
  return { producerId: records.readBigInt64BE(PRODUCER_ID_OFFSET), producerEpoch: records.readInt16BE(PRODUCER_EPOCH_OFFSET) }
}

// A copy of `records` whose batches carry `producerId` and `producerEpoch`, CRCs recomputed.
// Every batch must be an intact v2 batch of the same producer as the first (a CRC that does not
// match is refused here rather than made valid by the rewrite, so that corruption still reaches
// nobody's log). Throws KPROXY_ERR_RECORD_BATCH (malformed) or KPROXY_ERR_RECORD_BATCH_CRC.
export function withProducer (records: Buffer, from: BatchProducer, producerId: bigint, producerEpoch: number): Buffer {
  const out = Buffer.allocUnsafe(records.length)
  records.copy(out)
  let pos = 0
  while (pos < out.length) {
    if (out.length - pos < RECORD_BATCH_HEADER_SIZE) throw malformed(`batch at byte ${pos} is cut short`)
    const size = out.readInt32BE(pos + LENGTH_OFFSET) + RECORD_BATCH_LOG_OVERHEAD
    if (size < RECORD_BATCH_HEADER_SIZE || size > out.length - pos) throw malformed(`batch at byte ${pos} is cut short or has a bad length`)
    if (out[pos + MAGIC_OFFSET] !== RECORD_BATCH_MAGIC) throw malformed(`batch at byte ${pos} has magic ${out[pos + MAGIC_OFFSET]}, not 2`)
    if (out.readBigInt64BE(pos + PRODUCER_ID_OFFSET) !== from.producerId || out.readInt16BE(pos + PRODUCER_EPOCH_OFFSET) !== from.producerEpoch) {
      throw malformed(`batch at byte ${pos} has another producer than the first batch`)
    }
    const end = pos + size
    if (crc32c(out, pos + ATTRIBUTES_OFFSET, end) !== out.readUInt32BE(pos + CRC_OFFSET)) {
      throw new KproxyError('KPROXY_ERR_RECORD_BATCH_CRC', `Record batch at byte ${pos} fails its CRC-32C check: the records were corrupted before kproxy got them`)
    }
    out.writeBigInt64BE(producerId, pos + PRODUCER_ID_OFFSET)
    out.writeInt16BE(producerEpoch, pos + PRODUCER_EPOCH_OFFSET)
    out.writeUInt32BE(crc32c(out, pos + ATTRIBUTES_OFFSET, end), pos + CRC_OFFSET)
    pos = end
  }
  return out
}
