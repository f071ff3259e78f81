// Every (apiKey, version) of the API table, requests and responses: a sample with every field of
// that version set to a non-default value (and one with every nullable field null) must encode,
// decode to the same value, and re-encode to the same bytes. Flexible versions also carry
// unknown tagged fields at message level and in a nested struct, which must survive as they were.
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { API_TABLE } from '../../../src/protocol/generated/api-table.ts'
import { OTHER_MESSAGES } from '../../../src/protocol/generated/messages.ts'
import type { MessageCodec } from '../../../src/protocol/primitives/message-codec.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../../src/protocol/codec.ts'
import { BRIDGED_APIS } from '../../../src/protocol/generated/bridged-versions.ts'
import { createStruct, defaultOf, injectUnknownTags, SampleBuilder, versionsOf } from './samples.ts'
import type { Variant } from './samples.ts'

interface Failure { what: string, why: string, expected?: unknown, actual?: unknown }

function encode (codec: MessageCodec<any>, message: unknown, version: number): Buffer {
  const w = new Writer()
  codec.encode(w, message, version)
  return w.toBuffer()
}

// Returns the problems found for one message, [] when it round-trips.
function roundTrip (codec: MessageCodec<any>, version: number, variant: Variant, what: string): Failure[] {
  const b = new SampleBuilder(codec.schema, version, variant)
  const sample = b.build(codec)
  const injected = variant === 'full' ? injectUnknownTags(b, sample) : 0
  const bytes = encode(codec, sample, version)
  const r = new Reader(bytes)
  const decoded = codec.decode(r, version)
  const out: Failure[] = []
  if (r.offset !== bytes.length) out.push({ what, why: `decode stopped at ${r.offset} of ${bytes.length} bytes` })
  if (!isDeepStrictEqual(decoded, sample)) out.push({ what, why: 'decoded value differs from the sample', expected: sample, actual: decoded })
  const again = encode(codec, decoded, version)
  if (!again.equals(bytes)) out.push({ what, why: 're-encoding the decoded value gave different bytes' })
  if (b.flexible && variant === 'full') {
    if (injected < 1 || !isDeepStrictEqual(decoded._unknownTaggedFields, sample._unknownTaggedFields)) {
      out.push({ what, why: 'unknown tagged fields at message level did not survive' })
    }
  }
  return out
}

t.test('every API key and version round-trips, requests and responses', async t => {
  const failures: Failure[] = []
  let requestPairs = 0
  let responsePairs = 0
  let expectedPairs = 0
  let nestedUnknownTags = 0
  for (const api of API_TABLE) {
    if (api.minVersion < 0) continue
    expectedPairs += api.maxVersion - api.minVersion + 1
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      for (const variant of ['full', 'nulls'] as const) {
        failures.push(...roundTrip(api.request, v, variant, `${api.name} request v${v} (${variant})`))
        failures.push(...roundTrip(api.response, v, variant, `${api.name} response v${v} (${variant})`))
      }
      requestPairs++
      responsePairs++
      // nested unknown tags: count the flexible versions in which a struct inside got them
      const b = new SampleBuilder(api.response.schema, v, 'full')
      const m = b.build(api.response)
      if (injectUnknownTags(b, m) === 2) nestedUnknownTags++
    }
  }
  for (const f of failures.slice(0, 5)) t.same(f.actual, f.expected, `${f.what}: ${f.why}`)
  t.equal(failures.length, 0, `no round-trip failures (first: ${failures[0]?.what ?? '-'} ${failures[0]?.why ?? ''})`)
  t.comment(`codec round-trip covered ${requestPairs} request and ${responsePairs} response (apiKey, version) pairs`)
  t.equal(requestPairs, expectedPairs, 'every request version of the API table was covered')
  t.equal(responsePairs, expectedPairs, 'every response version of the API table was covered')
  t.ok(expectedPairs > 250, `the table has a plausible number of versions (${expectedPairs})`)
  t.ok(nestedUnknownTags > 100, `unknown tags were injected in nested structs of ${nestedUnknownTags} response versions`)
})

t.test('every bridged (apiKey, version) round-trips: the old versions the codecs cover for the version bridge', async t => {
  const failures: Failure[] = []
  let pairs = 0
  for (const b of BRIDGED_APIS) {
    const api = API_TABLE[b.apiKey]
    t.equal(api.bridgedMinVersion, b.bridgedMinVersion, `${api.name}: API table and bridged-versions.ts agree`)
    t.equal(api.bridgedMaxVersion, b.bridgedMaxVersion)
    t.same(versionsOf(api.request.schema, 'bridged'), versionsOf(api.response.schema, 'bridged'), `${api.name}: request and response bridge the same versions`)
    for (const v of versionsOf(api.request.schema, 'bridged')) {
      t.notOk(api.supports(v), `${api.name} v${v} is not a supported version`)
      t.ok(api.isBridged(v) && api.decodes(v), `${api.name} v${v} is bridged`)
      for (const variant of ['full', 'nulls'] as const) {
        failures.push(...roundTrip(api.request, v, variant, `${api.name} request v${v} (${variant})`))
        failures.push(...roundTrip(api.response, v, variant, `${api.name} response v${v} (${variant})`))
      }
      pairs++
    }
  }
  for (const f of failures.slice(0, 5)) t.same(f.actual, f.expected, `${f.what}: ${f.why}`)
  t.equal(failures.length, 0, `no round-trip failures (first: ${failures[0]?.what ?? '-'} ${failures[0]?.why ?? ''})`)
  t.equal(pairs, BRIDGED_APIS.reduce((n, b) => n + b.bridgedMaxVersion - b.bridgedMinVersion + 1, 0))
  t.comment(`bridged round-trip covered ${pairs} (apiKey, version) pairs of ${BRIDGED_APIS.length} APIs`)
  // the APIs an old client needs first (KIP-896's list, as the definitions say)
  const named = Object.fromEntries(BRIDGED_APIS.map(b => [b.name, `${b.bridgedMinVersion}-${b.bridgedMaxVersion}`]))
  t.match(named, { Produce: '0-2', Fetch: '0-3', ListOffsets: '0-0', OffsetCommit: '0-1', OffsetFetch: '0-0' })
})

t.test('old-only fields decode where Kafka 3.x had them and keep their defaults elsewhere', async t => {
  // ListOffsets v0 asks for MaxNumOffsets and answers with OldStyleOffsets (no Timestamp/Offset)
  const lo = API_TABLE[2]
  const req = lo.request.create()
  const topic = lo.request.structs.ListOffsetsTopic() as any
  const part = lo.request.structs.ListOffsetsPartition() as any
  part.partitionIndex = 3
  part.timestamp = -1n
  part.maxNumOffsets = 5
  topic.name = 't'
  topic.partitions = [part]
  req.replicaId = -1
  req.topics = [topic]
  const w = new Writer()
  lo.request.encode(w, req, 0)
  // replicaId int32, topics: count int32, name int16+1, partitions: count int32, index int32, timestamp int64, maxNumOffsets int32
  t.equal(w.toBuffer().toString('hex'), 'ffffffff' + '00000001' + '000174' + '00000001' + '00000003' + 'ffffffffffffffff' + '00000005')
  const w1 = new Writer()
  lo.request.encode(w1, req, 1)
  t.equal(w1.toBuffer().length, 4 + 4 + 3 + 4 + 4 + 8, 'v1 has no MaxNumOffsets')
  // OffsetCommit v1 carries a per-partition CommitTimestamp that v0 and v2 do not
  const oc = API_TABLE[8]
  const sizes = [0, 1, 2].map(v => {
    const m = new SampleBuilder(oc.request.schema, v, 'full').build(oc.request)
    return { v, ts: m.topics[0].partitions[0].commitTimestamp }
  })
  t.same(sizes.map(s => s.ts === -1n), [true, false, true], 'only v1 sets CommitTimestamp')
})

t.test('header and data messages round-trip too', async t => {
  const failures: Failure[] = []
  let pairs = 0
  for (const m of OTHER_MESSAGES) {
    for (let v = m.minVersion; v <= m.maxVersion; v++) {
      for (const variant of ['full', 'nulls'] as const) failures.push(...roundTrip(m.codec, v, variant, `${m.name} v${v} (${variant})`))
      pairs++
    }
  }
  for (const f of failures.slice(0, 5)) t.same(f.actual, f.expected, `${f.what}: ${f.why}`)
  t.equal(failures.length, 0, 'no round-trip failures')
  t.ok(OTHER_MESSAGES.length >= 12 && pairs >= 20, `${OTHER_MESSAGES.length} definitions, ${pairs} versions`)
})

t.test('whole frames round-trip through the facade for every (apiKey, version), bridged ones with scope decodable', async t => {
  let frames = 0
  let bridged = 0
  let bad = 0
  for (const api of API_TABLE) {
    const lo = api.bridgedMinVersion >= 0 ? api.bridgedMinVersion : Math.max(api.minVersion, 0)
    for (let v = lo; v <= api.maxVersion; v++) {
      const scope = api.supports(v) ? 'supported' : 'decodable'
      const req = new SampleBuilder(api.request.schema, v, 'full').build(api.request)
      const header = { apiKey: api.apiKey as 0, apiVersion: v, correlationId: 1000 + v, clientId: `client-${api.apiKey}` }
      const chunks = encodeRequest(header, req, scope)
      const frame = Buffer.concat(chunks)
      if (frame.readInt32BE(0) !== frame.length - 4) bad++
      const decoded = decodeRequest(frame.subarray(4), scope)
      if (decoded.apiKey !== api.apiKey || !isDeepStrictEqual(decoded.header, header) || !isDeepStrictEqual(decoded.body, req)) bad++

      const res = new SampleBuilder(api.response.schema, v, 'nulls').build(api.response)
      const resFrame = Buffer.concat(encodeResponse(api.apiKey as 0, v, { correlationId: 77 }, res, scope))
      const back = decodeResponse(resFrame.subarray(4), api.apiKey as 0, v, scope)
      if (back.header.correlationId !== 77 || !isDeepStrictEqual(back.body, res)) bad++
      if (!Buffer.concat(encodeResponse(api.apiKey as 0, v, back.header, back.body, scope)).equals(resFrame)) bad++
      frames++
      if (scope === 'decodable') {
        bridged++
        // without the scope, an old version is what Kafka 4 says it is: unsupported
        try {
          decodeRequest(frame.subarray(4))
          bad++
        } catch (err) {
          if ((err as { code?: string }).code !== 'KPROXY_ERR_UNSUPPORTED_VERSION') bad++
        }
      }
    }
  }
  t.equal(bad, 0, `all ${frames} request and response frames round-trip`)
  t.ok(bridged >= 20, `${bridged} of them bridged versions`)
})

t.test('messages with no supported version keep their definitions but read nothing', async t => {
  const retired = API_TABLE.filter(a => a.minVersion < 0)
  t.same(retired.map(a => a.name).sort(), ['ControlledShutdown', 'LeaderAndIsr', 'StopReplica', 'UpdateMetadata'])
  for (const api of retired) {
    for (const codec of [api.request, api.response]) {
      const empty = new Reader(Buffer.alloc(0))
      t.same(codec.decode(empty, 0), codec.create(), `${codec.name} decodes to its defaults`)
      t.equal(encode(codec, codec.create(), 0).length, 0, `${codec.name} writes nothing`)
    }
  }
})

t.test('generated create functions agree with the defaults written in the definitions', async t => {
  const codecs = [...API_TABLE.flatMap(a => [a.request, a.response]), ...OTHER_MESSAGES.map(m => m.codec)]
  let structs = 0
  const wrong: string[] = []
  for (const codec of codecs) {
    const top: Record<string, unknown> = {}
    for (const f of codec.schema.fields) top[f.prop] = defaultOf(codec.schema, f)
    if (!isDeepStrictEqual(codec.create(), top)) wrong.push(codec.name)
    for (const name of Object.keys(codec.schema.structs)) {
      structs++
      if (!isDeepStrictEqual(codec.structs[name](), createStruct(codec.schema, name))) wrong.push(`${codec.name} ${name}`)
    }
  }
  t.same(wrong, [])
  t.ok(structs > 250, `${codecs.length} messages and ${structs} structs checked`)
  // a few defaults spelled out in the definitions
  const fetchReq = API_TABLE[1].request.create()
  t.equal(fetchReq.replicaId, -1)
  t.equal(fetchReq.maxBytes, 0x7fffffff, 'hex default 0x7fffffff')
  t.equal(fetchReq.isolationLevel, 0)
  t.equal(fetchReq.clusterId, null)
  t.equal(API_TABLE[3].request.create().allowAutoTopicCreation, true)
})
