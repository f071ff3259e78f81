// The old message formats and the snappy/lz4 encoders against Kafka's own Java (kafka-clients
// 3.9.2, the last release that writes magic v0/v1, with its lz4-java and snappy-java), through
// LegacyRecords.java: Kafka writes, kproxy reads; kproxy writes, Kafka reads (checking CRCs and the
// LZ4 frame-header checksum); compressed bytes both ways; and kproxy's v2 -> v0/v1 conversion of
// the real Kafka 4.3.1 segments next to Kafka's own down-conversion. Skipped without Java or the
// jar (pnpm exec kproxy sandbox fetch).
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { BRIDGE_KAFKA_VERSION } from '../../src/kafka-release.ts'
import { defaultJarPath } from '../../src/protocol/generator/main.ts'
import { COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_SNAPPY, compress, decompress } from '../../src/protocol/compression.ts'
import { readMessageSet } from '../../src/protocol/message-set.ts'
import type { LegacyMessage } from '../../src/protocol/message-set.ts'
import { encodeMessageSet } from '../../src/protocol/message-set-encode.ts'
import type { LegacyMessageInput } from '../../src/protocol/message-set-encode.ts'
import { recordBatchesToMessageSet } from '../../src/protocol/record-format-convert.ts'
import { readBatches } from '../../src/protocol/record-batch.ts'
import { FIXTURES, segment } from '../fixtures/records/fixtures.ts'

const jar = defaultJarPath(BRIDGE_KAFKA_VERSION)
const java = process.env.JAVA ?? 'java'
const skip = !existsSync(jar)
  ? `the kafka-clients ${BRIDGE_KAFKA_VERSION} jar is not downloaded (pnpm exec kproxy sandbox fetch)`
  : spawnSync(java, ['-version']).error !== undefined ? 'no java on PATH' : false

// All commands in one JVM run: answers in order, one line each.
function kafka (commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(java, ['-cp', join(dirname(jar), '*'), join(import.meta.dirname, 'LegacyRecords.java')], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    child.on('error', reject)
    child.on('close', code => {
      const lines = out.split('\n').slice(0, commands.length)
      if (code !== 0 || lines.length < commands.length) reject(new Error(`java exited ${code}: ${err.slice(0, 500)}`))
      else resolve(lines)
    })
    child.stdin.end(commands.join('\n') + '\n')
  })
}

const hexOrDash = (x: Uint8Array | null | undefined): string => x == null ? '-' : Buffer.from(x).toString('hex')

const RECORDS: LegacyMessageInput[] = [
  { timestamp: 1700000000000n, key: Buffer.from('key-1'), value: Buffer.from('value one '.repeat(30)) },
  { timestamp: 1700000000123n, key: null, value: Buffer.from('ü€ two') },
  { timestamp: 1699999999999n, key: Buffer.alloc(0), value: null },
  { timestamp: 1700000000456n, key: Buffer.from('k4'), value: randomBytes(300) }
]
const spec = RECORDS.map(r => `${r.timestamp},${hexOrDash(r.key)},${hexOrDash(r.value)}`).join(';')
const CODECS = [COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4]

// a record as LegacyRecords.java prints it (Kafka's timestamp type id: -1 none in v0, 0 create, 1 log append)
function ours (m: LegacyMessage): string {
  return `${m.offset},${m.timestamp},${m.magic === 0 ? -1 : m.logAppendTime ? 1 : 0},${hexOrDash(m.key)},${hexOrDash(m.value)}`
}

function tsType (magic: number, lat: boolean): number {
  return magic === 0 ? -1 : lat ? 1 : 0
}

t.test('Kafka writes v0/v1 message sets with every codec; kproxy reads the same records', { skip }, async t => {
  const cases: Array<{ magic: number, codec: number, lat: boolean }> = []
  for (const magic of [0, 1]) for (const codec of CODECS) for (const lat of magic === 1 ? [false, true] : [false]) cases.push({ magic, codec, lat })
  const answers = await kafka(cases.map(c => `W ${c.magic} ${c.codec} ${c.lat ? 1 : 0} 1000 ${spec}`))
  cases.forEach((c, i) => {
    const what = `magic ${c.magic} codec ${c.codec}${c.lat ? ' log append time' : ''}`
    t.notMatch(answers[i], /^ERR/, `${what}: Kafka wrote it`)
    const { messages, partial } = readMessageSet(Buffer.from(answers[i], 'hex'))
    t.equal(partial, null)
    const ts = (r: LegacyMessageInput): bigint => c.magic === 0 ? -1n : c.lat ? 1700000000999n : r.timestamp ?? -1n
    t.same(messages.map(ours), RECORDS.map((r, j) => `${1000 + j},${ts(r)},${tsType(c.magic, c.lat)},${hexOrDash(r.key)},${hexOrDash(r.value)}`), what)
    t.ok(messages.every(m => m.compression === c.codec && m.magic === c.magic))
  })
})

t.test('kproxy writes v0/v1 message sets with every codec; Kafka reads them (CRCs and LZ4 header checksums checked)', { skip }, async t => {
  const cases: Array<{ magic: number, codec: number, lat: boolean, set: Buffer }> = []
  for (const magic of [0, 1]) {
    for (const codec of CODECS) {
      for (const lat of magic === 1 ? [false, true] : [false]) {
        const messages = RECORDS.map((r, j) => ({ ...r, offset: 500n + BigInt(j * 2), timestamp: lat ? 77n : r.timestamp }))
        cases.push({ magic, codec, lat, set: encodeMessageSet({ magic, compression: codec, logAppendTime: lat, messages }) })
      }
    }
  }
  const answers = await kafka(cases.map(c => `R ${c.set.toString('hex')}`))
  cases.forEach((c, i) => {
    const what = `magic ${c.magic} codec ${c.codec}${c.lat ? ' log append time' : ''}`
    const expected = RECORDS.map((r, j) => `${500 + j * 2},${c.magic === 0 ? -1n : c.lat ? 77n : r.timestamp},${tsType(c.magic, c.lat)},${hexOrDash(r.key)},${hexOrDash(r.value)}`)
    t.same(answers[i].split(' '), expected, what)
  })
})

// payloads that exercise the encoders: empty, tiny, incompressible, repetitive, several blocks
function payloads (): Buffer[] {
  const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i % 97} of a log file, user=${i % 13} status=ok\n`).join(''))
  const mixed = Buffer.concat([randomBytes(70_000), Buffer.alloc(70_000, 7), text.subarray(0, 100_000)])
  return [Buffer.alloc(0), Buffer.from('a'), Buffer.from('hello hello hello hello'), randomBytes(1000), Buffer.alloc(300_000), text, mixed]
}

t.test('snappy and lz4 bytes cross both ways: kproxy compresses, Kafka decompresses, and back', { skip }, async t => {
  const data = payloads()
  const cases: Array<{ codec: number, magic: number, input: Buffer }> = []
  for (const input of data) {
    cases.push({ codec: COMPRESSION_SNAPPY, magic: 1, input }, { codec: COMPRESSION_LZ4, magic: 0, input }, { codec: COMPRESSION_LZ4, magic: 1, input })
  }
  const commands = [
    ...cases.map(c => `X ${c.codec} ${c.magic} ${compress(c.codec, c.input, c.magic).toString('hex')}`),
    ...cases.map(c => `C ${c.codec} ${c.magic} ${c.input.toString('hex')}`)
  ]
  const answers = await kafka(commands)
  cases.forEach((c, i) => {
    const what = `codec ${c.codec} magic ${c.magic}, ${c.input.length} bytes`
    t.equal(answers[i], c.input.toString('hex'), `${what}: Kafka decompresses what kproxy compressed`)
    const theirs = answers[cases.length + i]
    t.notMatch(theirs, /^ERR/, `${what}: Kafka compressed it`)
    t.equal(decompress(c.codec, Buffer.from(theirs, 'hex')).toString('hex'), c.input.toString('hex'), `${what}: kproxy decompresses what Kafka compressed`)
    if (c.codec === COMPRESSION_LZ4) {
      const mine = compress(c.codec, c.input, c.magic)
      t.equal(mine.subarray(0, 7).toString('hex'), theirs.slice(0, 14), `${what}: the same frame header (and its checksum)`)
    }
  })
  // an LZ4 frame with the v0 (broken) header checksum is refused by the v1 reader: the checksum matters
  const broken = compress(COMPRESSION_LZ4, Buffer.from('checksums'), 0)
  const [refused] = await kafka([`X ${COMPRESSION_LZ4} 1 ${broken.toString('hex')}`])
  t.match(refused, /^ERR .*(checksum|Stream frame descriptor corrupted)/i, 'Kafka\'s v1 reader checks the header checksum')
})

t.test('v2 -> v0/v1 of the real Kafka 4.3.1 segments, next to Kafka\'s own down-conversion', { skip }, async t => {
  const cases: Array<{ name: string, magic: number, mine: Buffer }> = []
  for (const name of FIXTURES) for (const magic of [0, 1]) cases.push({ name, magic, mine: recordBatchesToMessageSet(segment(name), magic) })
  const answers = await kafka([
    ...cases.map(c => `D ${c.magic} ${segment(c.name).toString('hex')}`),
    ...cases.map(c => `R ${c.mine.toString('hex')}`)
  ])
  let identical = 0
  cases.forEach((c, i) => {
    const what = `${c.name} -> v${c.magic}`
    const theirs = answers[i]
    if (/zstd/.test(c.name)) {
      // Kafka refuses to down-convert zstd (old clients could not read it); kproxy sends it uncompressed
      t.match(theirs, /^ERR .*UnsupportedCompressionType/, `${what}: Kafka refuses zstd`)
    } else {
      t.notMatch(theirs, /^ERR/, `${what}: Kafka down-converted`)
      const a = readMessageSet(Buffer.from(theirs, 'hex')).messages.map(ours)
      t.same(readMessageSet(c.mine).messages.map(ours), a, `${what}: the same records as Kafka's down-conversion`)
      if (readBatches(segment(c.name)).batches.every(b => (b.header.attributes & 7) === 0)) {
        t.equal(c.mine.toString('hex'), theirs, `${what}: byte for byte (uncompressed)`)
        identical++
      }
    }
    const read = answers[cases.length + i]
    t.same(read.split(' '), readMessageSet(c.mine).messages.map(ours), `${what}: Kafka reads kproxy's conversion`)
  })
  t.ok(identical >= 4, `${identical} uncompressed conversions equal Kafka's byte for byte`)
})
