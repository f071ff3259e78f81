// Fuzzing the old message formats and their conversions: thousands of malformed variants of valid
// message sets (every magic and codec) and of v2 batches, with and without their checksums
// repaired, must only ever give a coded KproxyError (or decode), never another exception, and
// never allocate much. The decompressors get the same treatment on raw snappy/lz4 bytes.
import t from 'tap'
import { crc32 } from 'node:zlib'
import { isKproxyError } from '../../src/kproxy-error.ts'
import { COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_SNAPPY, compress, decompress } from '../../src/protocol/compression.ts'
import { crc32c } from '../../src/protocol/crc32c.ts'
import { LOG_OVERHEAD, readMessageSet } from '../../src/protocol/message-set.ts'
import { encodeMessageSet } from '../../src/protocol/message-set-encode.ts'
import { messageSetToRecordBatch, recordBatchesToMessageSet } from '../../src/protocol/record-format-convert.ts'
import { encodeRecordBatch } from '../../src/protocol/record-batch-encode.ts'
import { mutants } from './fuzz-inputs.ts'

const CODES = new Set([
  'KPROXY_ERR_MESSAGE_SET', 'KPROXY_ERR_MESSAGE_SET_CRC', 'KPROXY_ERR_RECORD_BATCH', 'KPROXY_ERR_RECORD_BATCH_CRC',
  'KPROXY_ERR_RECORD_BATCH_TOO_LARGE', 'KPROXY_ERR_UNSUPPORTED_COMPRESSION'
])
// small enough that a lying size shows as KPROXY_ERR_RECORD_BATCH_TOO_LARGE, not as memory
const LIMIT = 1024 * 1024

interface Outcome { ok: number, rejected: number, escaped: string[], codes: Set<string> }

function attempt (fn: () => unknown, label: string, out: Outcome): void {
  try {
    fn()
    out.ok++
  } catch (err) {
    if (isKproxyError(err) && CODES.has(err.code)) {
      out.rejected++
      out.codes.add(err.code)
    } else {
      out.escaped.push(`${label}: ${(err as Error)?.name}: ${(err as Error)?.message}`)
    }
  }
}

// Recomputes the CRC-32 of every top-level entry that still parses far enough, so that a
// mutation inside a message reaches the field parsers instead of stopping at the checksum.
function fixCrcs (b: Buffer): Buffer {
  let pos = 0
  while (b.length - pos >= LOG_OVERHEAD + 4) {
    const size = b.readInt32BE(pos + 8)
    if (size < 5 || size > b.length - pos - LOG_OVERHEAD) break
    b.writeUInt32BE(crc32(b.subarray(pos + 16, pos + LOG_OVERHEAD + size)), pos + 12)
    pos += LOG_OVERHEAD + size
  }
  return b
}

function fixBatchCrc (b: Buffer): Buffer {
  if (b.length >= 61) b.writeUInt32BE(crc32c(b, 21, b.length), 17)
  return b
}

const messages = [
  { offset: 0n, timestamp: 1700000000000n, key: Buffer.from('key'), value: Buffer.from('some value '.repeat(12)) },
  { offset: 1n, timestamp: 1700000000001n, key: null, value: Buffer.from('v') },
  { offset: 2n, timestamp: 1700000000002n, key: Buffer.alloc(0), value: null }
]

t.test('malformed message sets only produce coded errors, in the reader and both conversions', async t => {
  const out: Outcome = { ok: 0, rejected: 0, escaped: [], codes: new Set() }
  let seed = 1000
  const before = process.memoryUsage().arrayBuffers
  for (const magic of [0, 1]) {
    for (const compression of [COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
      const valid = Buffer.concat([encodeMessageSet({ magic, compression, messages }), encodeMessageSet({ magic, messages: [{ offset: 3n, value: Buffer.from('tail') }] })])
      for (const fix of [(b: Buffer) => b, fixCrcs]) {
        for (const m of mutants(valid, seed++, fix)) {
          const label = `v${magic} codec ${compression} ${m.label}`
          attempt(() => readMessageSet(m.bytes, { maxUncompressedSize: LIMIT }), label, out)
          attempt(() => messageSetToRecordBatch(m.bytes, { maxUncompressedSize: LIMIT }), `${label} -> v2`, out)
          attempt(() => readMessageSet(m.bytes, { maxUncompressedSize: LIMIT, strictOffsets: false, verifyCrc: false }), `${label} lenient`, out)
        }
      }
    }
  }
  t.same(out.escaped.slice(0, 10), [], 'nothing but coded KproxyErrors escaped')
  t.ok(out.rejected > 2500, `${out.rejected} inputs rejected (${out.ok} decoded), codes: ${[...out.codes].sort().join(', ')}`)
  t.ok(out.codes.has('KPROXY_ERR_MESSAGE_SET') && out.codes.has('KPROXY_ERR_MESSAGE_SET_CRC'))
  t.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'no large allocation')
})

t.test('malformed record batches only produce coded errors in the v2 -> v0/v1 conversion', async t => {
  const out: Outcome = { ok: 0, rejected: 0, escaped: [], codes: new Set() }
  let seed = 5000
  for (const attributes of [0, 1, 2, 3, 4, 0x08 | 1, 0x20]) {
    const valid = encodeRecordBatch({
      baseOffset: 40n, attributes, baseTimestamp: 1700000000000n,
      records: messages.map((m, i) => ({ key: m.key, value: m.value, timestampDelta: BigInt(i), headers: [{ key: 'h', value: Buffer.from('x') }] }))
    })
    for (const fix of [(b: Buffer) => b, fixBatchCrc]) {
      for (const m of mutants(valid, seed++, fix)) {
        for (const magic of [0, 1]) attempt(() => recordBatchesToMessageSet(m.bytes, magic, { maxUncompressedSize: LIMIT }), `attributes ${attributes} ${m.label} -> v${magic}`, out)
      }
    }
  }
  t.same(out.escaped.slice(0, 10), [], 'nothing but coded KproxyErrors escaped')
  t.ok(out.rejected > 500, `${out.rejected} inputs rejected (${out.ok} converted), codes: ${[...out.codes].sort().join(', ')}`)
})

t.test('malformed snappy and lz4 bytes only produce coded errors', async t => {
  const out: Outcome = { ok: 0, rejected: 0, escaped: [], codes: new Set() }
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(300))
  let seed = 9000
  for (const codec of [COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
    for (const magic of [0, 1]) {
      for (const m of mutants(compress(codec, text, magic), seed++)) attempt(() => decompress(codec, m.bytes, LIMIT), `codec ${codec} ${m.label}`, out)
    }
  }
  t.same(out.escaped.slice(0, 10), [], 'nothing but coded KproxyErrors escaped')
  t.ok(out.rejected > 200, `${out.rejected} inputs rejected (${out.ok} decoded)`)
})
