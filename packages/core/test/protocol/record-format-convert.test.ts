// Converting old message sets to record batch v2 (produce) and back (fetch), with the real
// Kafka 4.3.1 log segments of the fixtures as the v2 side.
import t from 'tap'
import { COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_SNAPPY, COMPRESSION_ZSTD } from '../../src/protocol/compression.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import { readMessageSet } from '../../src/protocol/message-set.ts'
import { encodeMessageSet } from '../../src/protocol/message-set-encode.ts'
import { messageFormatOf, messageSetToRecordBatch, recordBatchesToMessageSet } from '../../src/protocol/record-format-convert.ts'
import { isControlBatch, readBatches, verifyBatchCrc } from '../../src/protocol/record-batch.ts'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.ts'
import { decodeRecordBatch, recordOffset, recordTimestamp } from '../../src/protocol/record-batch-records.ts'
import { FIXTURES, segment } from '../fixtures/records/fixtures.ts'

const b = (s: string): Buffer => Buffer.from(s)

t.test('which message format each Produce and Fetch version carries', async t => {
  t.same([0, 1, 2, 3, 13].map(v => messageFormatOf(ApiKey.Produce, v)), [0, 0, 1, 2, 2])
  t.same([0, 1, 2, 3, 4, 18].map(v => messageFormatOf(ApiKey.Fetch, v)), [0, 0, 1, 1, 2, 2])
  t.throws(() => messageFormatOf(ApiKey.Metadata, 0), { code: 'KPROXY_ERR_MESSAGE_SET' })
})

// every record of a v2 blob, as the consumer sees it
function v2Records (blob: Buffer): Array<[bigint, bigint, string | null, string | null]> {
  const out: Array<[bigint, bigint, string | null, string | null]> = []
  for (const { bytes } of readBatches(blob).batches) {
    const d = decodeRecordBatch(bytes)
    if (isControlBatch(d.header)) continue
    for (const r of d.records) out.push([recordOffset(d.header, r), recordTimestamp(d.header, r), r.key?.toString('hex') ?? null, r.value?.toString('hex') ?? null])
  }
  return out
}

t.test('produce: a message set becomes ONE v2 batch with the same keys, values, timestamps and order', async t => {
  const messages = [
    { offset: 0n, timestamp: 1700000000000n, key: b('k1'), value: b('v1'.repeat(40)) },
    { offset: 0n, timestamp: 1700000000004n, key: null, value: b('v2') },
    { offset: 0n, timestamp: 1699999999000n, key: b('k3'), value: null }
  ]
  for (const compression of [COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
    for (const magic of [0, 1]) {
      // two wrappers (or plain runs) in one set, as a producer flushing twice would send
      const set = Buffer.concat([
        encodeMessageSet({ magic, compression, messages: messages.slice(0, 2).map((m, i) => ({ ...m, offset: BigInt(i) })) }),
        encodeMessageSet({ magic, compression, messages: messages.slice(2).map(m => ({ ...m, offset: 0n })) })
      ])
      const batch = messageSetToRecordBatch(set)
      const what = `v${magic} codec ${compression}`
      const { batches, partial } = readBatches(batch)
      t.equal(batches.length, 1, `${what}: one batch`)
      t.equal(partial, null)
      t.ok(verifyBatchCrc(batch))
      const h = batches[0].header
      t.equal(h.attributes & 7, compression, `${what}: the codec of the wrappers`)
      t.match(h, { baseOffset: 0n, producerId: -1n, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 2 })
      const ts = (m: typeof messages[0]): bigint => magic === 0 ? -1n : m.timestamp
      t.equal(h.maxTimestamp, magic === 0 ? -1n : 1700000000004n)
      t.same(v2Records(batch), messages.map((m, i) => [BigInt(i), ts(m), m.key?.toString('hex') ?? null, m.value?.toString('hex') ?? null]), `${what}: records`)
    }
  }
  // the codec can be chosen, offsets preserved
  const set = encodeMessageSet({ magic: 1, messages: [{ offset: 10n, timestamp: 5n, value: b('a') }, { offset: 13n, timestamp: 6n, value: b('b') }] })
  const zstd = messageSetToRecordBatch(set, { compression: COMPRESSION_ZSTD, offsets: 'preserve' })
  t.equal(readBatches(zstd).batches[0].header.attributes & 7, COMPRESSION_ZSTD)
  t.same(v2Records(zstd).map(r => r[0]), [10n, 13n], 'offsets preserved with gaps')
  t.equal(messageSetToRecordBatch(Buffer.alloc(0)).length, 0, 'nothing in, nothing out')
})

t.test('produce: a message cut short or offsets out of order', async t => {
  const set = encodeMessageSet({ magic: 1, messages: [{ value: b('a') }, { value: b('b') }] })
  t.throws(() => messageSetToRecordBatch(set.subarray(0, set.length - 3)), { code: 'KPROXY_ERR_MESSAGE_SET', message: /is cut short/ })
  const backwards = Buffer.concat([encodeMessageSet({ magic: 1, messages: [{ offset: 5n, value: b('a') }] }), encodeMessageSet({ magic: 1, messages: [{ offset: 2n, value: b('b') }] })])
  t.equal(v2Records(messageSetToRecordBatch(backwards)).length, 2, 'a produce request: offsets are the broker\'s to assign')
  t.throws(() => messageSetToRecordBatch(backwards, { offsets: 'preserve' }), { code: 'KPROXY_ERR_MESSAGE_SET', message: /out of order/ })
  const partialFetch = messageSetToRecordBatch(set.subarray(0, set.length - 3), { offsets: 'preserve' })
  t.equal(v2Records(partialFetch).length, 1, 'fetched data: the partial message is left for the next fetch')
})

t.test('fetch: the real Kafka 4.3.1 segments become v0/v1 message sets with every record', async t => {
  for (const name of FIXTURES) {
    const blob = segment(name)
    const expected = v2Records(blob)
    const sourceCodecs = new Set(readBatches(blob).batches.map(x => x.header.attributes & 7))
    for (const magic of [0, 1]) {
      const set = recordBatchesToMessageSet(blob, magic)
      const { messages, partial } = readMessageSet(set)
      const what = `${name} -> v${magic}`
      t.equal(partial, null)
      t.same(messages.map(m => [m.offset, m.timestamp, m.key?.toString('hex') ?? null, m.value?.toString('hex') ?? null]),
        expected.map(([o, ts, k, v]) => [o, magic === 0 ? -1n : ts, k, v]), `${what}: offsets, timestamps, keys, values, order`)
      const codecs = new Set(messages.map(m => m.compression))
      const want = [...sourceCodecs].map(c => c === COMPRESSION_ZSTD ? COMPRESSION_NONE : c)
      t.same([...codecs].sort(), [...new Set(want)].sort(), `${what}: same codec (zstd: none)`)
    }
  }
})

t.test('fetch: control batches are left out, aborted records kept, headers dropped, log append time kept', async t => {
  const txn = segment('java-txn')
  const all = readBatches(txn).batches
  t.ok(all.some(x => isControlBatch(x.header)), 'the fixture has commit markers')
  const set = readMessageSet(recordBatchesToMessageSet(txn, 1)).messages
  t.equal(set.length, all.filter(x => !isControlBatch(x.header)).reduce((n, x) => n + x.header.recordCount, 0))
  const lat = encodeRecordBatch({
    baseOffset: 7n, attributes: 0x08 | COMPRESSION_GZIP, baseTimestamp: 100n, maxTimestamp: 999n,
    records: [{ value: b('x'), timestampDelta: 1n, headers: [{ key: 'h', value: b('dropped') }] }, { value: b('y') }]
  })
  const v1 = readMessageSet(recordBatchesToMessageSet(lat, 1)).messages
  t.same(v1.map(m => [m.offset, m.timestamp, m.logAppendTime, m.compression]), [[7n, 999n, true, COMPRESSION_GZIP], [8n, 999n, true, COMPRESSION_GZIP]])
  // a batch cut short at the end of the fetched bytes is left for the next fetch
  const two = Buffer.concat([lat, lat.subarray(0, 30)])
  t.equal(readMessageSet(recordBatchesToMessageSet(two, 0)).messages.length, 2)
  t.equal(recordBatchesToMessageSet(Buffer.alloc(0), 1).length, 0)
  t.throws(() => recordBatchesToMessageSet(lat, 2), { code: 'KPROXY_ERR_MESSAGE_SET' })
  // forced codec
  const forced = readMessageSet(recordBatchesToMessageSet(segment('java-zstd'), 1, { compression: COMPRESSION_LZ4 })).messages
  t.ok(forced.every(m => m.compression === COMPRESSION_LZ4))
})

t.test('fetch: corrupt batches and bombs are coded errors', async t => {
  const good = encodeRecordBatch({ baseTimestamp: 0n, attributes: COMPRESSION_GZIP, records: [{ value: Buffer.alloc(2 * 1024 * 1024) }] })
  const bad = Buffer.from(good)
  bad[bad.length - 5] ^= 0xff
  t.throws(() => recordBatchesToMessageSet(bad, 1), { code: 'KPROXY_ERR_RECORD_BATCH_CRC' })
  t.throws(() => recordBatchesToMessageSet(good, 1, { maxUncompressedSize: 1024 * 1024 }), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
  // the budget is shared by the batches of the blob
  const three = Buffer.concat([0n, 1n, 2n].map(baseOffset => encodeRecordBatch({ baseOffset, baseTimestamp: 0n, attributes: COMPRESSION_GZIP, records: [{ value: Buffer.alloc(2 * 1024 * 1024) }] })))
  t.throws(() => recordBatchesToMessageSet(three, 1, { maxUncompressedSize: 5 * 1024 * 1024 }), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
  t.equal(readMessageSet(recordBatchesToMessageSet(three, 1, { maxUncompressedSize: 7 * 1024 * 1024 })).messages.length, 3)
  const v1Blob = encodeMessageSet({ magic: 1, messages: [{ value: b('old'.repeat(20)) }] })
  t.throws(() => recordBatchesToMessageSet(v1Blob, 1), { code: 'KPROXY_ERR_RECORD_BATCH', message: /magic 1/ }, 'an old message set is not a record batch')
})

t.test('fetch: the old client\'s fetch size holds whole entries (the first always), records below the fetch offset left out', async t => {
  const rec = (i: number): { offsetDelta: number, timestampDelta: bigint, key: Buffer, value: Buffer } => ({ offsetDelta: i, timestampDelta: BigInt(i), key: b(`k${i}`), value: b(`value-${i}-${'x'.repeat(20)}`) })
  const plain = encodeRecordBatch({ baseOffset: 100n, baseTimestamp: 1700000000000n, records: [0, 1, 2, 3, 4].map(rec) })
  const gzip = encodeRecordBatch({ baseOffset: 105n, attributes: COMPRESSION_GZIP, baseTimestamp: 1700000000000n, records: [0, 1, 2].map(rec) })
  const blob = Buffer.concat([plain, gzip])
  const all = recordBatchesToMessageSet(blob, 1)
  const offsets = (set: Buffer): bigint[] => readMessageSet(set).messages.map(m => m.offset)
  t.same(offsets(all), [100n, 101n, 102n, 103n, 104n, 105n, 106n, 107n])
  // each uncompressed v1 entry: 12 + 22 + key + value bytes
  const entry = 12 + 22 + 2 + 28
  const cut = recordBatchesToMessageSet(blob, 1, { maxBytes: entry * 2 + 10 })
  t.equal(cut.length, entry * 2, 'only whole entries')
  t.same(offsets(cut), [100n, 101n])
  t.equal(readMessageSet(cut).partial, null)
  const tiny = recordBatchesToMessageSet(blob, 1, { maxBytes: 1 })
  t.same(offsets(tiny), [100n], 'the first entry even when larger than the limit')
  // the compressed wrapper is one entry: whole or not at all
  const wrapperOnly = recordBatchesToMessageSet(gzip, 1, { maxBytes: 1 })
  t.same(offsets(wrapperOnly), [105n, 106n, 107n])
  t.same(offsets(recordBatchesToMessageSet(blob, 1, { maxBytes: entry * 5 + 1 })), [100n, 101n, 102n, 103n, 104n], 'a wrapper that does not fit after others is left for the next fetch')
  // a fetch from offset 103: the plain records below are left out, the wrapper stays whole
  t.same(offsets(recordBatchesToMessageSet(blob, 1, { fromOffset: 103n })), [103n, 104n, 105n, 106n, 107n])
  t.same(offsets(recordBatchesToMessageSet(blob, 0, { fromOffset: 106n })), [105n, 106n, 107n], 'a compressed batch is not cut (old clients skip what is below their position)')
})
