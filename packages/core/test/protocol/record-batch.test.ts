import t from 'tap'
import {
  ATTR_CONTROL, ATTR_TRANSACTIONAL, RECORD_BATCH_HEADER_SIZE, batchCompression, computeBatchCrc, countBatches,
  isControlBatch, isTransactionalBatch, readBatchHeader, readBatches, verifyBatchCrc
} from '../../src/protocol/record-batch.ts'
import { COMPRESSION_NAMES } from '../../src/protocol/compression.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'
import { FIXTURES, dump, segment } from '../fixtures/records/fixtures.ts'

function own (buf: Buffer): Buffer {
  const out = Buffer.alloc(buf.length)
  buf.copy(out)
  return out
}

t.test('batch headers of real Kafka 4.3.1 segments match DumpLogSegments', async t => {
  for (const name of FIXTURES) {
    const seg = segment(name)
    const expected = dump(name)
    const { batches, partial } = readBatches(seg)
    t.equal(partial, null, `${name}: no partial batch`)
    t.equal(batches.length, expected.length, `${name}: batch count`)
    t.equal(countBatches(seg), expected.length)
    for (let i = 0; i < batches.length; i++) {
      const { header: h, offset, bytes } = batches[i]
      const e = expected[i]
      const at = `${name} batch ${i}`
      t.equal(offset, e.position, `${at} position`)
      t.equal(bytes.length, e.size, `${at} size`)
      t.equal(bytes.buffer, seg.buffer, `${at} is a view, not a copy`)
      t.equal(h.baseOffset, e.baseOffset, `${at} baseOffset`)
      t.equal(h.baseOffset + BigInt(h.lastOffsetDelta), e.lastOffset, `${at} lastOffset`)
      t.equal(h.recordCount, e.count, `${at} count`)
      t.equal(h.baseSequence, e.baseSequence, `${at} baseSequence`)
      t.equal(h.producerId, e.producerId, `${at} producerId`)
      t.equal(h.producerEpoch, e.producerEpoch, `${at} producerEpoch`)
      t.equal(h.partitionLeaderEpoch, e.partitionLeaderEpoch, `${at} partitionLeaderEpoch`)
      t.equal(isTransactionalBatch(h), e.isTransactional, `${at} transactional`)
      t.equal(isControlBatch(h), e.isControl, `${at} control`)
      t.equal(h.maxTimestamp, e.createTime, `${at} max timestamp`)
      t.equal(h.magic, e.magic)
      t.equal(COMPRESSION_NAMES[batchCompression(h)], e.compresscodec, `${at} codec`)
      t.equal(h.crc, e.crc, `${at} stored crc`)
      t.equal(computeBatchCrc(seg, offset), e.crc, `${at} computed crc`)
      t.ok(verifyBatchCrc(seg, offset), `${at} crc verifies`)
      t.ok(verifyBatchCrc(bytes), `${at} crc verifies on the view`)
    }
  }
})

t.test('every codec and both batch kinds are covered by the fixtures', async t => {
  const seen = new Set<string>()
  for (const name of FIXTURES) {
    for (const { header } of readBatches(segment(name)).batches) {
      seen.add(COMPRESSION_NAMES[batchCompression(header)])
      if ((header.attributes & ATTR_CONTROL) !== 0) seen.add('control')
      if ((header.attributes & ATTR_TRANSACTIONAL) !== 0) seen.add('transactional')
      if (header.producerId === -1n) seen.add('not idempotent')
    }
  }
  t.same([...seen].sort(), ['control', 'gzip', 'lz4', 'none', 'not idempotent', 'snappy', 'transactional', 'zstd'])
})

t.test('a blob cut at every byte lists the complete batches and reports the partial one', async t => {
  const seg = segment('java-txn')
  const sizes = readBatches(seg).batches.map(b => [b.offset, b.bytes.length])
  for (let cut = 0; cut <= seg.length; cut++) {
    const blob = seg.subarray(0, cut)
    const { batches, partial } = readBatches(blob)
    const complete = sizes.filter(([o, s]) => o + s <= cut)
    if (batches.length !== complete.length) t.fail(`cut ${cut}: ${batches.length} batches`)
    const end = complete.length === 0 ? 0 : complete[complete.length - 1][0] + complete[complete.length - 1][1]
    if (cut === end) {
      if (partial !== null) t.fail(`cut ${cut}: unexpected partial`)
    } else {
      const next = sizes[complete.length]
      if (partial === null || partial.offset !== end || partial.available !== cut - end ||
          partial.expected !== (cut - end >= 12 ? next[1] : -1)) {
        t.fail(`cut ${cut}: partial ${JSON.stringify(partial)}`)
      }
    }
  }
  t.pass('all cuts agree')
  t.throws(() => countBatches(seg.subarray(0, 100)), { code: 'KPROXY_ERR_RECORD_BATCH' })
})

t.test('headers: malformed input is KPROXY_ERR_RECORD_BATCH', async t => {
  const good = own(readBatches(segment('java-none')).batches[0].bytes)
  const header = readBatchHeader(good)
  t.equal(header.recordCount, 10)
  t.throws(() => readBatchHeader(good.subarray(0, 60)), { code: 'KPROXY_ERR_RECORD_BATCH', message: /a header needs 61/ })
  t.throws(() => readBatchHeader(good, -1), { code: 'KPROXY_ERR_RECORD_BATCH' })

  const v1 = own(good)
  v1[16] = 1
  t.throws(() => readBatchHeader(v1), { code: 'KPROXY_ERR_RECORD_BATCH', message: /magic 1.*before 0\.11/ })
  t.throws(() => readBatches(v1), { code: 'KPROXY_ERR_RECORD_BATCH' })
  t.throws(() => readBatches(v1.subarray(0, 20)), { code: 'KPROXY_ERR_RECORD_BATCH' }, 'bad magic even in a partial batch')

  for (const length of [-1, 0, 48, -2147483648]) {
    const bad = own(good)
    bad.writeInt32BE(length, 8)
    t.throws(() => readBatches(bad), { code: 'KPROXY_ERR_RECORD_BATCH', message: /less than a header/ }, `length ${length}`)
    t.throws(() => verifyBatchCrc(bad), { code: 'KPROXY_ERR_RECORD_BATCH' })
  }
  const huge = own(good)
  huge.writeInt32BE(0x7fffffff, 8)
  const listed = readBatches(huge)
  t.equal(listed.batches.length, 0)
  t.same(listed.partial, { offset: 0, available: good.length, expected: 0x7fffffff + 12 }, 'a huge claim is just a partial batch')
  t.throws(() => verifyBatchCrc(huge), { code: 'KPROXY_ERR_RECORD_BATCH', message: /cut short/ })
})

t.test('verifyBatchCrc detects any flipped bit in attributes..end, ignores bytes 0..16', async t => {
  const good = own(readBatches(segment('kcat-none')).batches[0].bytes)
  let detected = 0
  for (let i = 21; i < good.length; i += 7) {
    good[i] ^= 0x10
    if (!verifyBatchCrc(good)) detected++
    good[i] ^= 0x10
  }
  t.equal(detected, Math.ceil((good.length - 21) / 7))
  good.writeBigInt64BE(12345n, 0) // baseOffset and leader epoch are outside the CRC
  good.writeInt32BE(7, 12)
  t.ok(verifyBatchCrc(good))
  good[17] ^= 1
  t.notOk(verifyBatchCrc(good), 'a damaged stored crc')
})

t.test('random garbage never throws anything but KproxyError', async t => {
  let a = 7
  const rnd = (): number => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return a >>> 8 }
  for (let round = 0; round < 2000; round++) {
    const buf = Buffer.alloc(rnd() % 200)
    for (let i = 0; i < buf.length; i++) buf[i] = rnd() & 0xff
    if (buf.length > 17 && round % 2 === 0) {
      buf.writeInt32BE(buf.length - 12 - (rnd() % 3), 8)
      buf[16] = 2
    }
    try {
      readBatches(buf)
      if (buf.length >= RECORD_BATCH_HEADER_SIZE) readBatchHeader(buf)
    } catch (err) {
      if (!isKproxyError(err)) t.fail(`round ${round}: ${String(err)}`)
    }
  }
  t.pass('only KproxyErrors')
})
