import t from 'tap'
import { idempotentProducerOf, withProducer } from '../../src/protocol/record-batch-producer.ts'
import { ATTR_TRANSACTIONAL, readBatches, readBatchHeader, verifyBatchCrc } from '../../src/protocol/record-batch.ts'
import { decodeRecordBatch } from '../../src/protocol/record-batch-records.ts'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'
import { dump, FIXTURES, segment } from '../fixtures/records/fixtures.ts'

function own (buf: Buffer): Buffer {
  const out = Buffer.alloc(buf.length)
  buf.copy(out)
  return out
}

const NEW_ID = 123456789012n
const NEW_EPOCH = 7

t.test('every idempotent batch Kafka\'s clients wrote (Java, kcat; all codecs): rewritten, CRC valid, all else kept', async t => {
  let rewritten = 0
  for (const name of FIXTURES) {
    for (const b of readBatches(segment(name)).batches) {
      const at = `${name} batch at ${b.offset}`
      const producer = idempotentProducerOf(b.bytes)
      if (b.header.producerId < 0n || (b.header.attributes & ATTR_TRANSACTIONAL) !== 0) {
        t.equal(producer, null, `${at}: not idempotent (id ${b.header.producerId}), left alone`)
        continue
      }
      t.same(producer, { producerId: b.header.producerId, producerEpoch: b.header.producerEpoch }, `${at}: its producer`)
      const before = own(b.bytes)
      const out = withProducer(b.bytes, producer!, NEW_ID, NEW_EPOCH)
      t.same(b.bytes, before, `${at}: the client's bytes are not touched`)
      t.ok(verifyBatchCrc(out), `${at}: the new CRC-32C is valid`)
      const h = readBatchHeader(out)
      t.equal(h.producerId, NEW_ID)
      t.equal(h.producerEpoch, NEW_EPOCH)
      t.not(h.crc, b.header.crc, `${at}: the CRC changed`)
      t.same({ ...h, producerId: 0n, producerEpoch: 0, crc: 0 }, { ...b.header, producerId: 0n, producerEpoch: 0, crc: 0 }, `${at}: base sequence, counts, timestamps, attributes kept`)
      t.same(out.subarray(61), b.bytes.subarray(61), `${at}: records (compressed or not) byte for byte`)
      t.same(decodeRecordBatch(out).records, decodeRecordBatch(b.bytes).records, `${at}: records decode the same`)
      // back to the original producer: exactly the bytes (and CRC) Kafka's client wrote
      t.same(withProducer(out, { producerId: NEW_ID, producerEpoch: NEW_EPOCH }, producer!.producerId, producer!.producerEpoch), b.bytes, `${at}: the round trip gives the client's bytes back`)
      rewritten++
    }
  }
  const idempotent = FIXTURES.flatMap(name => dump(name)).filter(b => b.producerId >= 0n && !b.isTransactional).length
  t.ok(idempotent > 0)
  t.equal(rewritten, idempotent, `the ${idempotent} idempotent batches DumpLogSegments listed, rewritten`)
})

t.test('the CRC matches the one the encoder computes for a batch written with the new producer', async t => {
  const input = { baseTimestamp: 1_700_000_000_000n, producerId: 5n, producerEpoch: 0, baseSequence: 42, records: [{ value: Buffer.from('a') }, { key: Buffer.from('k'), value: Buffer.from('bb') }] }
  const original = encodeRecordBatch(input)
  const out = withProducer(original, { producerId: 5n, producerEpoch: 0 }, 9_007_199_254_740_993n, 32767)
  t.same(out, encodeRecordBatch({ ...input, producerId: 9_007_199_254_740_993n, producerEpoch: 32767 }))
  t.equal(readBatchHeader(out).baseSequence, 42, 'the base sequence as the client sent it')
})

t.test('several batches in one blob: each rewritten', async t => {
  const one = encodeRecordBatch({ baseTimestamp: 1n, producerId: 3n, producerEpoch: 1, baseSequence: 0, records: [{ value: Buffer.from('x') }] })
  const two = encodeRecordBatch({ baseTimestamp: 2n, producerId: 3n, producerEpoch: 1, baseSequence: 1, records: [{ value: Buffer.from('y') }, { value: Buffer.from('z') }] })
  const out = withProducer(Buffer.concat([one, two]), { producerId: 3n, producerEpoch: 1 }, 77n, 0)
  const { batches, partial } = readBatches(out)
  t.equal(partial, null)
  t.same(batches.map(b => [b.header.producerId, b.header.producerEpoch, b.header.baseSequence, verifyBatchCrc(b.bytes)]), [[77n, 0, 0, true], [77n, 0, 1, true]])
})

t.test('no producer id, transactional, control, old magic or too short: not idempotent', async t => {
  t.equal(idempotentProducerOf(null), null)
  t.equal(idempotentProducerOf(Buffer.alloc(10)), null)
  t.equal(idempotentProducerOf(encodeRecordBatch({ baseTimestamp: 1n, records: [{ value: null }] })), null, 'producerId -1')
  t.equal(idempotentProducerOf(encodeRecordBatch({ baseTimestamp: 1n, producerId: 1n, producerEpoch: 0, baseSequence: 0, attributes: ATTR_TRANSACTIONAL, records: [{ value: null }] })), null, 'transactional')
  const v1 = encodeRecordBatch({ baseTimestamp: 1n, producerId: 1n, producerEpoch: 0, baseSequence: 0, records: [{ value: null }] })
  v1[16] = 1
  t.equal(idempotentProducerOf(v1), null, 'magic 1')
})

t.test('bad input is refused with KPROXY_ERR_RECORD_BATCH(_CRC), never made valid', async t => {
  const from = { producerId: 4n, producerEpoch: 0 }
  const good = encodeRecordBatch({ baseTimestamp: 1n, producerId: 4n, producerEpoch: 0, baseSequence: 0, records: [{ value: Buffer.from('hello') }] })
  const refused = (records: Buffer, what: string, pattern: RegExp, code = 'KPROXY_ERR_RECORD_BATCH'): void => {
    try {
      withProducer(records, from, 9n, 0)
      t.fail(`${what}: accepted`)
    } catch (err) {
      t.ok(isKproxyError(err) && err.code === code, `${what}: ${code}`)
      t.match((err as Error).message, pattern, what)
    }
  }
  const corrupt = own(good)
  corrupt[corrupt.length - 1] ^= 0xff
  refused(corrupt, 'a record byte flipped', /CRC-32C/, 'KPROXY_ERR_RECORD_BATCH_CRC')
  refused(good.subarray(0, good.length - 1), 'cut short', /cut short/)
  refused(good.subarray(0, 40), 'less than a header', /cut short/)
  const badLength = own(good)
  badLength.writeInt32BE(3, 8)
  refused(badLength, 'a length below a header', /cut short|bad length/)
  const other = encodeRecordBatch({ baseTimestamp: 1n, producerId: 5n, producerEpoch: 0, baseSequence: 0, records: [{ value: null }] })
  refused(Buffer.concat([good, other]), 'a second batch of another producer', /another producer/)
  const magic = own(good)
  magic[16] = 1
  refused(magic, 'magic 1', /magic 1/)
})
