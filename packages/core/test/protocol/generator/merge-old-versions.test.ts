// Merging old versions into a current definition: fields shared, fields only the old versions
// have, and what is refused. The merged module is emitted, loaded and round-tripped.
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { emitMessage } from '../../../src/protocol/generator/emit-message.ts'
import { mergeOldVersions } from '../../../src/protocol/generator/merge-old-versions.ts'
import { formatRange, parseMessage } from '../../../src/protocol/generator/spec.ts'
import type { MessageSpec } from '../../../src/protocol/generator/spec.ts'
import type { MessageCodec } from '../../../src/protocol/primitives/message-codec.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { SampleBuilder } from '../generated/samples.ts'

const primitives = pathToFileURL(join(import.meta.dirname, '../../../src/protocol/primitives')).href
const tmp = mkdtempSync(join(tmpdir(), 'kproxy-merge-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

const def = (validVersions: string, fields: object[], extra: object = {}): MessageSpec =>
  parseMessage({ type: 'request', apiKey: 1000, name: 'TestRequest', validVersions, flexibleVersions: '4+', fields, ...extra }, 'TestRequest.json')

// 3.x: versions 0-4; the current release dropped 0-1 and the fields only they had
const OLD = def('0-4', [
  { name: 'Group', type: 'string', versions: '0+' },
  { name: 'Generation', type: 'int32', versions: '1+', default: '-1' },
  { name: 'Topics', type: '[]OldTopic', versions: '0+', fields: [
    { name: 'Name', type: 'string', versions: '0+' },
    { name: 'Stamp', type: 'int64', versions: '1', default: '-1' },
    { name: 'Legacy', type: 'LegacyInfo', versions: '0', fields: [{ name: 'Code', type: 'int16', versions: '0+' }] },
    { name: 'Meta', type: 'string', versions: '0+', nullableVersions: '0+' }
  ] }
])
const CUR = def('2-5', [
  { name: 'Group', type: 'string', versions: '0+' },
  { name: 'Generation', type: 'int32', versions: '1+', default: '-1' },
  { name: 'Topics', type: '[]Topic', versions: '0+', fields: [
    { name: 'Name', type: 'string', versions: '0+' },
    { name: 'Epoch', type: 'int32', versions: '3+', default: '-1' },
    { name: 'Meta', type: 'string', versions: '0+', nullableVersions: '0+' }
  ] },
  { name: 'Tagged', type: 'int32', versions: '4+', taggedVersions: '4+', tag: 0 }
])

let loaded = 0
async function load (spec: MessageSpec): Promise<MessageCodec<any>> {
  const file = join(tmp, `${++loaded}-test-request.ts`)
  writeFileSync(file, emitMessage(spec, '9.9.9').replaceAll('\'../primitives/', `'${primitives}/`))
  const mod = await import(pathToFileURL(file).href)
  return Object.values(mod).find(v => typeof v === 'object' && v !== null && 'decode' in v) as MessageCodec<any>
}

t.test('one codec for every version: old-only fields where 3.x had them', async t => {
  const merged = mergeOldVersions(CUR, OLD, { lo: 0, hi: 1 }, 'kafka-clients-3.jar common/message/TestRequest.json')
  t.equal(formatRange(merged.validVersions), '2-5', 'the supported range is unchanged')
  t.equal(formatRange(merged.codecVersions), '0-5')
  t.equal(formatRange(merged.bridgedVersions), '0-1')
  const topic = merged.structs.find(s => s.name === 'Topic')
  t.same(topic?.fields.map(f => `${f.name} ${formatRange(f.versions)}`), ['Name 0+', 'Stamp 1', 'Legacy 0', 'Epoch 3+', 'Meta 0+'])
  t.same(merged.structs.map(s => `${s.name} ${formatRange(s.context)}`), ['Topic 0-5', 'LegacyInfo 0'])
  t.same(CUR.structs.find(s => s.name === 'Topic')?.fields.length, 3, 'the current definition is not changed')
  const source = emitMessage(merged, '9.9.9')
  t.match(source, /bridged versions 0-1 \(which 9\.9\.9 dropped\) from kafka-clients-3\.jar common\/message\/TestRequest\.json/)
  t.match(source, /bridgedVersions: '0-1',/)

  const codec = await load(merged)
  for (let v = 0; v <= 5; v++) {
    for (const variant of ['full', 'nulls'] as const) {
      const sample = new SampleBuilder(codec.schema, v, variant).build(codec)
      const w = new Writer()
      codec.encode(w, sample, v)
      const bytes = w.toBuffer()
      const back = codec.decode(new Reader(bytes), v)
      t.ok(isDeepStrictEqual(back, sample), `v${v} ${variant} round-trips`)
    }
  }
  // v0 on the wire: group, topics [name, legacy.code, meta] — no generation, no stamp, no epoch
  const m = codec.create()
  m.group = 'g'
  m.generation = 7
  m.topics = [{ ...codec.structs.Topic(), name: 't', stamp: 5n, epoch: 3, legacy: { code: 9 }, meta: null }]
  const w0 = new Writer()
  codec.encode(w0, m, 0)
  t.equal(w0.toBuffer().toString('hex'), '000167' + '00000001' + '000174' + '0009' + 'ffff')
  const w1 = new Writer()
  codec.encode(w1, m, 1)
  t.equal(w1.toBuffer().toString('hex'), '000167' + '00000007' + '00000001' + '000174' + '0000000000000005' + 'ffff')
})

t.test('what cannot be merged is refused, not guessed', async t => {
  const bridged = { lo: 0, hi: 1 }
  const cur = (fields: object[]): MessageSpec => def('2-3', fields, { flexibleVersions: 'none' })
  const old = (fields: object[]): MessageSpec => def('0-3', fields, { flexibleVersions: 'none' })
  t.throws(() => mergeOldVersions(cur([{ name: 'A', type: 'int64', versions: '0+' }]), old([{ name: 'A', type: 'int32', versions: '0+' }]), bridged, 'x'),
    { code: 'KPROXY_ERR_GENERATOR', message: /TestRequest\.json\.A: type int32 in 3\.x is int64 now/ })
  t.throws(() => mergeOldVersions(cur([{ name: 'B', type: 'int32', versions: '0+' }]), old([{ name: 'A', type: 'int32', versions: '0+' }]), bridged, 'x'),
    { message: /\.B: on the wire in versions 0-1 but missing from the 3\.x definition \(renamed\?\)/ })
  t.throws(() => mergeOldVersions(cur([{ name: 'A', type: 'int32', versions: '0+' }, { name: 'B', type: 'int32', versions: '0+' }]),
    old([{ name: 'B', type: 'int32', versions: '0+' }, { name: 'A', type: 'int32', versions: '0+' }]), bridged, 'x'),
  { message: /TestRequest v0 would be read as A:int32, B:int32 instead of B:int32, A:int32/ })
  t.throws(() => mergeOldVersions(cur([{ name: 'A', type: 'int32', versions: '0+' }]), old([{ name: 'A', type: 'int32', versions: '0' }]), bridged, 'x'),
    { message: /versions 0 \(3\.x\) and 0\+ do not join into one range/ })
  t.equal(formatRange(mergeOldVersions(cur([{ name: 'A', type: 'int32', versions: '0+' }]), old([{ name: 'A', type: 'int32', versions: '1+' }]), bridged, 'x').fields[0].versions),
    '1+', 'a field the old v0 lacked starts at v1')
  t.throws(() => mergeOldVersions(def('2-3', [], { flexibleVersions: '2+' }), def('0-3', [], { flexibleVersions: '1+' }), bridged, 'x'),
    { message: /version 1 is flexible in one release and not in the other/ })
})

t.test('a field the current release made nullable keeps the old versions non-nullable', async t => {
  const merged = mergeOldVersions(
    def('2-3', [{ name: 'A', type: 'string', versions: '0+', nullableVersions: '0+' }], { flexibleVersions: 'none' }),
    def('0-3', [{ name: 'A', type: 'string', versions: '0+', nullableVersions: '2+' }], { flexibleVersions: 'none' }), { lo: 0, hi: 1 }, 'x')
  t.equal(formatRange(merged.fields[0].nullableVersions), '2+')
})
