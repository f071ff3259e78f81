import t from 'tap'
import { gzipSync } from 'node:zlib'
import { readBatches } from '../../src/protocol/record-batch.ts'
import {
  CONTROL_COMMIT, decodeRecordBatch, decodeRecords, readControlRecord, recordOffset, recordTimestamp
} from '../../src/protocol/record-batch-records.ts'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'
import { FIXTURES, dump, fixtureText, segment } from '../fixtures/records/fixtures.ts'

interface Expected { key: string | null, value: string | null, headers: Array<[string, string | null]> }

// what ConsoleProducer was given: "h1:v1,h2:v2<TAB>key<TAB>value", NULL = null
const consoleInput: Expected[] = fixtureText('console-producer-input.txt').split('\n').slice(0, -1).map(line => {
  const [h, k, v] = line.split('\t')
  return {
    key: k === 'NULL' ? null : k,
    value: v === 'NULL' ? null : v,
    headers: h.split(',').map(kv => {
      const [hk, hv] = kv.split(':')
      return [hk, hv === 'NULL' ? null : hv] as [string, string | null]
    })
  }
})
// what kcat was given: "key<TAB>value", an empty value = null (-Z)
const kcatInput = fixtureText('kcat-input.txt').split('\n').slice(0, -1).map(line => {
  const [k, v] = line.split('\t')
  return { key: k, value: v === '' ? null : v }
})

function str (b: Buffer | null): string | null {
  return b === null ? null : b.toString('utf8')
}

t.test('records of every fixture match DumpLogSegments (offsets, times, sizes, sequences, header keys)', async t => {
  for (const name of FIXTURES) {
    const seg = segment(name)
    const expected = dump(name)
    const { batches } = readBatches(seg)
    for (let i = 0; i < batches.length; i++) {
      const { header, records } = decodeRecordBatch(batches[i].bytes)
      const e = expected[i].records
      t.equal(records.length, e.length, `${name} batch ${i} record count`)
      let bad = 0
      for (let j = 0; j < records.length; j++) {
        const r = records[j]
        const x = e[j]
        const seq = header.baseSequence === -1 ? -1 : header.baseSequence + r.offsetDelta
        if (recordOffset(header, r) !== x.offset || recordTimestamp(header, r) !== x.createTime ||
            (r.key?.length ?? -1) !== x.keySize || (r.value?.length ?? -1) !== x.valueSize || seq !== x.sequence ||
            r.headers.map(h => h.key).join(',') !== x.headerKeys.join(',')) {
          bad++
          t.fail(`${name} batch ${i} record ${j}: ${JSON.stringify({ ...r, key: str(r.key), value: null, timestampDelta: String(r.timestampDelta) })}`)
        }
      }
      t.equal(bad, 0, `${name} batch ${i} records agree with Kafka`)
    }
  }
})

t.test('ConsoleProducer fixtures: keys, values and headers are the input lines, for every codec', async t => {
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const { batches } = readBatches(segment(`java-${codec}`))
    for (const b of batches) {
      const { records } = decodeRecordBatch(b.bytes)
      t.same(records.map(r => ({
        key: str(r.key),
        value: str(r.value),
        headers: r.headers.map(h => [h.key, str(h.value)])
      })), consoleInput, `java-${codec} batch at ${b.header.baseOffset}`)
    }
  }
})

t.test('kcat fixtures (librdkafka, raw snappy): records and headers', async t => {
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const { batches } = readBatches(segment(`kcat-${codec}`))
    t.equal(batches.length, 2)
    for (const [i, b] of batches.entries()) {
      const { records } = decodeRecordBatch(b.bytes)
      t.same(records.map(r => ({ key: str(r.key), value: str(r.value) })), kcatInput, `kcat-${codec} batch ${i}`)
      const headers = i === 0 ? [['app', 'kcat'], ['codec', codec]] : [['app', 'kcat']]
      t.ok(records.every(r => JSON.stringify(r.headers.map(h => [h.key, str(h.value)])) === JSON.stringify(headers)))
    }
  }
})

t.test('big batches (multi-block lz4 and xerial snappy) hold the payload file lines', async t => {
  const lines = new Set(fixtureText('perf-payload-big.txt').split('\n').slice(0, -1))
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    const { batches } = readBatches(segment(`java-big-${codec}`))
    const { records } = decodeRecordBatch(batches[0].bytes)
    t.equal(records.length, 150)
    t.ok(records.every(r => r.key === null && r.value !== null && lines.has(r.value.toString())), `java-big-${codec} values`)
    t.ok(records.reduce((n, r) => n + (r.value?.length ?? 0), 0) > 128 * 1024, 'more than two 64 KiB blocks of data')
  }
})

t.test('transactional fixture: data records and COMMIT control records', async t => {
  const { batches } = readBatches(segment('java-txn'))
  const values: string[] = []
  const markers: number[] = []
  for (const b of batches) {
    const { records } = decodeRecordBatch(b.bytes)
    if ((b.header.attributes & 0x20) !== 0) {
      t.equal(records.length, 1)
      const c = readControlRecord(records[0])
      markers.push(c.type)
      t.equal(c.coordinatorEpoch, 0)
    } else {
      for (const r of records) values.push(str(r.value)!)
    }
  }
  t.same(markers, [CONTROL_COMMIT, CONTROL_COMMIT])
  t.equal(values.length, 12)
  t.ok(values.every(v => ['alpha', 'beta', 'gamma'].includes(v)))
  t.throws(() => readControlRecord({ attributes: 0, timestampDelta: 0n, offsetDelta: 0, key: null, value: null, headers: [] }),
    { code: 'KPROXY_ERR_RECORD_BATCH' })
})

t.test('keys and values are views of the batch, not copies', async t => {
  const seg = segment('java-none')
  const { records } = decodeRecordBatch(readBatches(seg).batches[0].bytes)
  t.equal(records[0].key!.buffer, seg.buffer)
  t.equal(records[0].value!.buffer, seg.buffer)
  t.equal(records[0].headers[0].value!.buffer, seg.buffer)
})

t.test('a corrupted batch fails its CRC with KPROXY_ERR_RECORD_BATCH_CRC unless verifyCrc is off', async t => {
  const bytes = Buffer.from(readBatches(segment('java-none')).batches[0].bytes)
  const at = bytes.indexOf('value-0')
  bytes[at] = 'V'.charCodeAt(0)
  t.throws(() => decodeRecordBatch(bytes), { code: 'KPROXY_ERR_RECORD_BATCH_CRC', message: /CRC-32C/ })
  t.equal(decodeRecordBatch(bytes, { verifyCrc: false }).records[0].value!.toString(), 'Value-0')
})

t.test('a decompression bomb stops at maxUncompressedSize with KPROXY_ERR_RECORD_BATCH_TOO_LARGE', async t => {
  const batch = encodeRecordBatch({ baseTimestamp: 0n, attributes: 1, records: [{ value: Buffer.alloc(4 * 1024 * 1024) }] })
  t.ok(batch.length < 10000, `4 MiB of zeros gzip to ${batch.length} bytes`)
  t.throws(() => decodeRecordBatch(batch, { maxUncompressedSize: 1024 * 1024 }), { code: 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' })
  t.equal(decodeRecordBatch(batch).records[0].value!.length, 4 * 1024 * 1024)
  const garbage = Buffer.from(batch)
  garbage.fill(0x55, 61)
  t.throws(() => decodeRecordBatch(garbage, { verifyCrc: false }), { code: 'KPROXY_ERR_RECORD_BATCH', message: /gzip/ })
  t.ok(gzipSync(Buffer.alloc(1)).length > 0)
})

t.test('malformed records are KPROXY_ERR_RECORD_BATCH with a reason', async t => {
  const one = Buffer.from([
    0x18, // length 12
    0x00, 0x00, 0x00, // attributes, timestampDelta 0, offsetDelta 0
    0x02, 0x6b, // key "k"
    0x04, 0x76, 0x76, // value "vv"
    0x02, 0x02, 0x68, 0x01 // one header "h" = null
  ])
  const ok = decodeRecords(one, 1)
  t.equal(ok[0].key!.toString(), 'k')
  t.equal(ok[0].value!.toString(), 'vv')
  t.same(ok[0].headers, [{ key: 'h', value: null }])
  const cases: Array<[string, Buffer, number, RegExp]> = [
    ['fewer records than announced', one, 2, /announces 2 records but holds 1/],
    ['trailing bytes', Buffer.concat([one, Buffer.from([0])]), 1, /1 bytes follow/],
    ['length past the end', Buffer.from([0x7e, 0, 0, 0]), 1, /bad length/],
    ['negative length', Buffer.from([0x01, 0, 0, 0, 0, 0, 0]), 1, /bad length/],
    ['bad varint', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 1, /bad length/],
    ['key longer than the record', Buffer.from([0x0c, 0, 0, 0, 0x7e, 0, 0]), 1, /bad key length/],
    ['key length -2', Buffer.from([0x0c, 0, 0, 0, 0x03, 0, 0]), 1, /bad key length -2/],
    ['negative header count', Buffer.from([0x0c, 0, 0, 0, 1, 1, 1]), 1, /negative header count/],
    ['null header key', Buffer.from([0x10, 0, 0, 0, 1, 1, 2, 1, 1]), 1, /bad header key length/],
    ['fields shorter than the length', Buffer.from([0x0e, 0, 0, 0, 1, 1, 0, 0]), 1, /fields use 6/],
    ['header runs past the record', Buffer.from([0x0e, 0, 0, 0, 1, 1, 2, 2]), 1, /bad header/]
  ]
  for (const [what, bytes, count, message] of cases) {
    t.throws(() => decodeRecords(bytes, count), { code: 'KPROXY_ERR_RECORD_BATCH', message }, what)
  }
  const bad = encodeRecordBatch({ baseTimestamp: 0n, records: [{ value: null }] })
  bad.writeInt32BE(-1, 57)
  t.throws(() => decodeRecordBatch(bad, { verifyCrc: false }), { code: 'KPROXY_ERR_RECORD_BATCH', message: /negative record count/ })
  bad.writeInt32BE(2147483647, 57)
  t.throws(() => decodeRecordBatch(bad, { verifyCrc: false }), { code: 'KPROXY_ERR_RECORD_BATCH', message: /holds 1/ },
    'a huge record count costs nothing')
})

t.test('bit flips in real batches (every codec) never throw anything but KproxyError', async t => {
  let a = 99
  const rnd = (): number => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return a >>> 8 }
  let kproxyErrors = 0
  let decoded = 0
  for (const name of FIXTURES) {
    const original = readBatches(segment(name)).batches[0].bytes
    for (let round = 0; round < 150; round++) {
      const bytes = Buffer.from(original)
      const flips = 1 + (rnd() % 4)
      for (let f = 0; f < flips; f++) {
        const i = 21 + (rnd() % (bytes.length - 21))
        bytes[i] ^= 1 << (rnd() % 8)
      }
      try {
        decodeRecordBatch(bytes, { verifyCrc: false, maxUncompressedSize: 4 * 1024 * 1024 })
        decoded++
      } catch (err) {
        if (isKproxyError(err)) kproxyErrors++
        else t.fail(`${name} round ${round}: ${String(err)}`)
      }
    }
  }
  t.ok(kproxyErrors > 100, `${kproxyErrors} rejected, ${decoded} still decodable`)
})
