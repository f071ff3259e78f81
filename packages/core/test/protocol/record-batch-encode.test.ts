import t from 'tap'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.ts'
import { readBatchHeader, readBatches, verifyBatchCrc } from '../../src/protocol/record-batch.ts'
import { decodeRecordBatch } from '../../src/protocol/record-batch-records.ts'
import { decompress } from '../../src/protocol/compression.ts'
import { FIXTURES, segment } from '../fixtures/records/fixtures.ts'

t.test('uncompressed real batches (incl. transactional and control) re-encode byte for byte', async t => {
  for (const name of ['java-none', 'kcat-none', 'java-txn']) {
    const seg = segment(name)
    const { batches } = readBatches(seg)
    for (const b of batches) {
      const { header, records } = decodeRecordBatch(b.bytes)
      const again = encodeRecordBatch({ ...header, records })
      t.ok(again.equals(b.bytes), `${name} batch at ${header.baseOffset}: identical bytes`)
    }
    // defaults derived from the records give the same bytes too (lastOffsetDelta, maxTimestamp)
    const { header, records } = decodeRecordBatch(batches[0].bytes)
    const derived = encodeRecordBatch({
      baseOffset: header.baseOffset,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      attributes: header.attributes,
      baseTimestamp: header.baseTimestamp,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      records
    })
    t.ok(derived.equals(batches[0].bytes), `${name}: derived lastOffsetDelta and maxTimestamp match Kafka's`)
  }
})

t.test('the records section we write equals the decompressed section of every compressed real batch', async t => {
  for (const name of FIXTURES) {
    for (const b of readBatches(segment(name)).batches) {
      const codec = b.header.attributes & 7
      if (codec === 0) continue
      const { header, records } = decodeRecordBatch(b.bytes)
      const plain = encodeRecordBatch({ ...header, attributes: header.attributes & ~7, records })
      const theirs = decompress(codec, b.bytes.subarray(61))
      t.ok(plain.subarray(61).equals(theirs), `${name} batch at ${header.baseOffset}`)
    }
  }
})

t.test('gzip and zstd: real compressed batches re-encode to valid batches with the same records', async t => {
  for (const name of ['java-gzip', 'java-zstd', 'kcat-gzip', 'kcat-zstd', 'java-big-gzip', 'java-big-zstd']) {
    const b = readBatches(segment(name)).batches[0]
    const { header, records } = decodeRecordBatch(b.bytes)
    const again = encodeRecordBatch({ ...header, records })
    t.ok(verifyBatchCrc(again), `${name}: crc`)
    const h2 = readBatchHeader(again)
    t.same({ ...h2, batchLength: 0, crc: 0 }, { ...header, batchLength: 0, crc: 0 }, `${name}: header fields kept`)
    const decoded = decodeRecordBatch(again)
    t.same(decoded.records.map(r => [r.key, r.value, r.headers, r.offsetDelta, r.timestampDelta]),
      records.map(r => [r.key, r.value, r.headers, r.offsetDelta, r.timestampDelta]), `${name}: same records`)
  }
})

t.test('every codec Kafka defines encodes; codec ids 5-7 are KPROXY_ERR_UNSUPPORTED_COMPRESSION', async t => {
  for (const attributes of [1, 2, 3, 4]) {
    const records = [{ key: Buffer.from('k'), value: Buffer.from('value '.repeat(50)) }, { value: null }]
    const back = decodeRecordBatch(encodeRecordBatch({ baseTimestamp: 5n, attributes, records }))
    t.equal(back.header.attributes & 7, attributes)
    t.same(back.records.map(r => [r.key, r.value]), records.map(r => [r.key ?? null, r.value]))
  }
  for (const attributes of [5, 7]) {
    t.throws(() => encodeRecordBatch({ baseTimestamp: 0n, attributes, records: [{ value: Buffer.from('x') }] }),
      { code: 'KPROXY_ERR_UNSUPPORTED_COMPRESSION' })
  }
})

t.test('a batch built from scratch: defaults, nulls, headers, deltas', async t => {
  const batch = encodeRecordBatch({
    baseTimestamp: 1700000000000n,
    records: [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'trace-ïd', value: Buffer.from('x') }, { key: 'n', value: null }] },
      { key: null, value: null, timestampDelta: 5n },
      { value: Buffer.alloc(300, 1), timestampDelta: -3n, offsetDelta: 7 }
    ]
  })
  const h = readBatchHeader(batch)
  t.equal(h.baseOffset, 0n)
  t.equal(h.partitionLeaderEpoch, -1)
  t.equal(h.attributes, 0)
  t.equal(h.lastOffsetDelta, 7)
  t.equal(h.maxTimestamp, 1700000000005n)
  t.equal(h.producerId, -1n)
  t.equal(h.producerEpoch, -1)
  t.equal(h.baseSequence, -1)
  t.equal(h.recordCount, 3)
  t.equal(h.batchLength, batch.length - 12)
  t.ok(verifyBatchCrc(batch))
  const { records } = decodeRecordBatch(batch)
  t.equal(records[0].headers[0].key, 'trace-ïd')
  t.same(records[0].headers[1], { key: 'n', value: null })
  t.equal(records[1].key, null)
  t.equal(records[1].value, null)
  t.same(records.map(r => r.offsetDelta), [0, 1, 7])
  t.same(records.map(r => r.timestampDelta), [0n, 5n, -3n])
  t.equal(records[2].value!.length, 300)

  const empty = encodeRecordBatch({ baseTimestamp: 5n, records: [] })
  t.equal(empty.length, 61)
  t.equal(readBatchHeader(empty).recordCount, 0)
  t.same(decodeRecordBatch(empty).records, [])

  const zstd = encodeRecordBatch({ baseTimestamp: 5n, attributes: 4 | 0x10, producerId: 9n, producerEpoch: 1, baseSequence: 0, records: [{ value: Buffer.from('z') }] })
  const dz = decodeRecordBatch(zstd)
  t.equal(dz.header.attributes, 0x14)
  t.equal(dz.records[0].value!.toString(), 'z')
})
