// The emitter on definitions written for the test: features Kafka's own definitions do not use
// (yet) get the same round-trip check as the real ones. The emitted module is written to a temp
// directory with its imports pointed at the real primitives, and loaded.
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { emitMessage } from '../../../src/protocol/generator/emit-message.ts'
import { kebabCase, moduleName, tsString, versionCondition } from '../../../src/protocol/generator/emit-names.ts'
import { parseMessage } from '../../../src/protocol/generator/spec.ts'
import type { MessageCodec } from '../../../src/protocol/primitives/message-codec.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { injectUnknownTags, SampleBuilder } from '../generated/samples.ts'

const primitives = pathToFileURL(join(import.meta.dirname, '../../../src/protocol/primitives')).href
const tmp = mkdtempSync(join(tmpdir(), 'kproxy-emit-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
let loaded = 0

async function load (definition: object): Promise<{ codec: MessageCodec<any>, source: string }> {
  const spec = parseMessage(definition, 'Test.json')
  const source = emitMessage(spec, '9.9.9')
  // a fresh file name per load: the module cache would return the first one otherwise
  const file = join(tmp, `${++loaded}-${moduleName(spec)}`)
  writeFileSync(file, source.replaceAll('\'../primitives/', `'${primitives}/`))
  const mod = await import(pathToFileURL(file).href)
  const codec = Object.values(mod).find(v => typeof v === 'object' && v !== null && 'decode' in v) as MessageCodec<any>
  return { codec, source }
}

const KITCHEN_SINK = {
  type: 'request',
  apiKey: 1000,
  name: 'KitchenSinkRequest',
  validVersions: '0-4',
  flexibleVersions: '2+',
  fields: [
    { name: 'Small', type: 'int8', versions: '0+', default: '-0x10' },
    { name: 'Unsigned', type: 'uint16', versions: '1+', default: '65535' },
    { name: 'Wide', type: 'uint32', versions: '0+' },
    { name: 'Ratio', type: 'float64', versions: '0+', default: '0.25' },
    { name: 'Flag', type: 'bool', versions: '0+', default: 'True' },
    { name: 'Name', type: 'string', versions: '0+', nullableVersions: '3+', default: 'hello' },
    { name: 'ClassicName', type: 'string', versions: '0+', flexibleVersions: 'none' },
    { name: 'Compact', type: 'string', versions: '0+', flexibleVersions: '3+' },
    { name: 'Blob', type: 'bytes', versions: '1+', nullableVersions: '4+' },
    { name: 'Data', type: 'records', versions: '0+', nullableVersions: '0+' },
    { name: 'Names', type: '[]string', versions: '0+' },
    { name: 'Blobs', type: '[]bytes', versions: '0+', nullableVersions: '2+' },
    { name: 'Ids', type: '[]uuid', versions: '0+' },
    { name: 'Longs', type: '[]int64', versions: '1-3' },
    { name: 'Maybe', type: 'Inner', versions: '0+', nullableVersions: '2+', fields: [
      { name: 'Value', type: 'int32', versions: '0+' },
      { name: 'Nested', type: 'Common', versions: '1+' }
    ] },
    { name: 'Items', type: '[]Common', versions: '0+' },
    { name: 'Gone', type: 'int16', versions: 'none' },
    { name: 'TagFloat', type: 'float64', versions: '2+', taggedVersions: '2+', tag: 0 },
    { name: 'TagBytes', type: 'bytes', versions: '2+', taggedVersions: '2+', tag: 1, nullableVersions: '2+' },
    { name: 'TagStruct', type: 'Common', versions: '3+', taggedVersions: '3+', tag: 2, nullableVersions: '3+', default: 'null' },
    { name: 'TagPlain', type: 'Common', versions: '2+', taggedVersions: '2+', tag: 3 },
    { name: 'TagList', type: '[]int32', versions: '2+', taggedVersions: '2+', tag: 4, nullableVersions: '2+' },
    { name: 'TagLong', type: 'int64', versions: '4+', taggedVersions: '4+', tag: 5, default: '-1' },
    { name: 'FutureTag', type: 'int32', versions: '7+', taggedVersions: '7+', tag: 6 },
    { name: 'LateList', type: '[]int8', versions: '0+', nullableVersions: '9+' },
    { name: 'LateStr', type: 'string', versions: '0+', nullableVersions: '9+' },
    { name: 'Nothing', type: 'Empty', versions: '0+' }
  ],
  commonStructs: [
    { name: 'Empty', versions: '0+', fields: [] },
    { name: 'Common', versions: '0+', fields: [
      { name: 'A', type: 'int16', versions: '0+' },
      { name: 'B', type: 'string', versions: '3+', nullableVersions: '3+', default: 'null' },
      { name: 'C', type: 'uuid', versions: '0+' },
      { name: 'F', type: 'float64', versions: '0+' },
      { name: 'D', type: 'bytes', versions: '0+' },
      { name: 'E', type: '[]int8', versions: '0+', nullableVersions: '0+' }
    ] }
  ]
}

t.test('a definition using every feature round-trips in every version', async t => {
  const { codec, source } = await load(KITCHEN_SINK)
  t.match(source, /^\/\/ Licensed to the Apache Software Foundation/)
  t.match(source, /This product includes software developed at The Apache Software Foundation \(http:\/\/www.apache.org\/\)\./)
  t.match(source, /Generated by packages\/core\/src\/protocol\/generator from Apache Kafka 9.9.9's JSON message\n\/\/ definitions, source: kafka-clients-9.9.9.jar common\/message\/Test.json — do not edit\./)
  t.match(source, /\/\/ {3}ClassicName {2,}string {2,}versions 0-4, flexible none/, 'grammar comment beside the code')
  const created = codec.create()
  t.same([created.small, created.unsigned, created.ratio, created.flag, created.name, created.data, created.tagStruct, created.tagLong], [-16, 65535, 0.25, true, 'hello', null, null, -1n])
  for (let v = 0; v <= 4; v++) {
    for (const variant of ['full', 'nulls'] as const) {
      const b = new SampleBuilder(codec.schema, v, variant)
      const sample = b.build(codec)
      if (variant === 'full') injectUnknownTags(b, sample)
      const w = new Writer()
      codec.encode(w, sample, v)
      const bytes = w.toBuffer()
      const decoded = codec.decode(new Reader(bytes), v)
      t.ok(isDeepStrictEqual(decoded, sample), `v${v} ${variant} decodes to the sample`)
      const again = new Writer()
      codec.encode(again, decoded, v)
      t.ok(again.toBuffer().equals(bytes), `v${v} ${variant} re-encodes identically`)
    }
  }
})

t.test('compactness and nullability switch where the definition says', async t => {
  const { codec } = await load(KITCHEN_SINK)
  const m = codec.create()
  m.maybe = null
  const w = new Writer()
  t.throws(() => codec.encode(w, m, 1), { code: 'KPROXY_ERR_ENCODE', message: /struct is null but not nullable/ }, 'v1: not nullable')
  const encode = (v: number): Buffer => { const x = new Writer(); codec.encode(x, m, v); return x.toBuffer() }
  const v2 = encode(2)
  const v3 = encode(3)
  // ClassicName is the 7th field: always an int16 length; Compact switches to compact at v3
  const r2 = new Reader(v2)
  r2.int8(); r2.uint16(); r2.uint32(); r2.float64(); r2.bool()
  t.equal(r2.string(true), 'hello', 'v2 is flexible: compact Name')
  t.equal(r2.string(false), '', 'ClassicName keeps int16 length')
  t.equal(r2.string(false), '', 'Compact is still classic at v2')
  const r3 = new Reader(v3)
  r3.int8(); r3.uint16(); r3.uint32(); r3.float64(); r3.bool()
  t.equal(r3.nullableString(true, true), 'hello')
  t.equal(r3.string(false), '')
  t.equal(r3.string(true), '', 'Compact is compact from v3')
  // the tagged section is empty when every tagged field holds its default
  t.equal(v3[v3.length - 1], 0)
})

t.test('helpers', async t => {
  t.equal(kebabCase('DescribeTopicPartitionsRequest'), 'describe-topic-partitions-request')
  t.equal(kebabCase('KRaftVersionRecord'), 'k-raft-version-record')
  t.equal(tsString("it's \\ \n"), "'it\\'s \\\\ \\n'")
  t.equal(versionCondition({ lo: 0, hi: 32767 }, { lo: 3, hi: 9 }), 'true')
  t.equal(versionCondition({ lo: 10, hi: 32767 }, { lo: 3, hi: 9 }), 'false')
  t.equal(versionCondition({ lo: 1, hi: 0 }, { lo: 3, hi: 9 }), 'false')
  t.equal(versionCondition({ lo: 5, hi: 7 }, { lo: 3, hi: 9 }), 'version >= 5 && version <= 7')
  t.equal(versionCondition({ lo: 0, hi: 7 }, { lo: 3, hi: 9 }), 'version <= 7')
})

t.test('bad defaults are refused when emitting', async t => {
  const bad = (field: object, message: RegExp): void => {
    const spec = parseMessage({ ...KITCHEN_SINK, fields: [field], commonStructs: [] }, 'Bad.json')
    t.throws(() => emitMessage(spec, '9.9.9'), { code: 'KPROXY_ERR_GENERATOR', message }, String(message))
  }
  bad({ name: 'A', type: 'int8', versions: '0+', default: '300' }, /default 300 does not fit int8/)
  bad({ name: 'A', type: 'int32', versions: '0+', default: 'ten' }, /default "ten" is not an integer/)
  bad({ name: 'A', type: 'int64', versions: '0+', default: '0x8000000000000000' }, /does not fit int64/)
  bad({ name: 'A', type: 'float64', versions: '0+', default: 'pi' }, /is not a number/)
  bad({ name: 'A', type: 'bool', versions: '0+', default: 'yes' }, /is not a bool/)
  bad({ name: 'A', type: 'string', versions: '0+', default: 'null' }, /default null on a field that is never nullable/)
  bad({ name: 'A', type: '[]int8', versions: '0+', default: 'x' }, /array default "x"/)
  bad({ name: 'A', type: 'uuid', versions: '0+', default: 'x' }, /uuid default "x"/)
  bad({ name: 'A', type: 'bytes', versions: '0+', default: 'x' }, /bytes default "x"/)
  bad({ name: 'A', type: 'S', versions: '0+', default: 'x', fields: [] }, /struct default "x"/)
})
