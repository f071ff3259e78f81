// Malformed input must only ever produce KproxyError('KPROXY_ERR_DECODE'): random bytes, every
// truncation of a valid encoding, corrupted lengths — for every API, at its oldest and newest
// version and at the bridged old versions. The generated decoders are called directly (not
// through codec.ts, which would wrap any stray error), so a RangeError/TypeError shows here.
import t from 'tap'
import { isKproxyError } from '../../../src/kproxy-error.ts'
import { API_TABLE } from '../../../src/protocol/generated/api-table.ts'
import { decodeMetadataRequest } from '../../../src/protocol/generated/metadata-request.ts'
import { decodeProduceRequest } from '../../../src/protocol/generated/produce-request.ts'
import type { MessageCodec } from '../../../src/protocol/primitives/message-codec.ts'
import { Reader } from '../../../src/protocol/primitives/reader.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { decodeRequest } from '../../../src/protocol/codec.ts'
import { mutants, rng } from '../fuzz-inputs.ts'
import { SampleBuilder } from './samples.ts'

interface Outcome { ok: number, rejected: number, escaped: string[] }

function attempt (codec: MessageCodec<any>, version: number, input: Buffer, out: Outcome, label: string): void {
  try {
    codec.decode(new Reader(input), version)
    out.ok++
  } catch (err) {
    if (isKproxyError(err, 'KPROXY_ERR_DECODE') && / at offset \d+/.test(err.message)) out.rejected++
    else out.escaped.push(`${label}: ${(err as Error)?.name}: ${(err as Error)?.message}`)
  }
}

// About 100 malformed inputs for one message at one version.
function torture (codec: MessageCodec<any>, version: number, seed: number, out: Outcome): void {
  const w = new Writer()
  codec.encode(w, new SampleBuilder(codec.schema, version, 'full').build(codec), version)
  for (const m of mutants(w.toBuffer(), seed)) attempt(codec, version, m.bytes, out, `${codec.name} v${version} ${m.label}`)
}

t.test('malformed input to every API only produces KPROXY_ERR_DECODE', async t => {
  const out: Outcome = { ok: 0, rejected: 0, escaped: [] }
  let seed = 1
  for (const api of API_TABLE) {
    if (api.minVersion < 0) continue
    // the oldest and the newest version: non-flexible and flexible grammars where both exist
    const versions = new Set([api.minVersion, api.maxVersion])
    // the bridged old versions (Produce v0-2, Fetch v0-3, ...): all of them
    for (let v = api.bridgedMinVersion; v >= 0 && v <= api.bridgedMaxVersion; v++) versions.add(v)
    for (const v of versions) {
      torture(api.request, v, seed++, out)
      torture(api.response, v, seed++, out)
    }
  }
  t.same(out.escaped.slice(0, 10), [], 'nothing but KproxyError escaped')
  t.ok(out.rejected > 10000, `${out.rejected} inputs were rejected with a KproxyError naming the offset (${out.ok} happened to decode)`)
})

t.test('a claimed count of 2^31-1 in a short frame fails without allocating', async t => {
  // MetadataRequest v1: Topics is an int32-counted array
  const frame = Buffer.alloc(20)
  frame.writeInt32BE(0x7fffffff, 0)
  const before = process.memoryUsage().arrayBuffers
  t.throws(() => decodeMetadataRequest(new Reader(frame), 1), { code: 'KPROXY_ERR_DECODE', message: /claims 2147483647 elements but only 16 bytes remain at offset 0/ })
  // v12 (flexible): compact count 2^32-2 as an unsigned varint
  const compact = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0])
  t.throws(() => decodeMetadataRequest(new Reader(compact), 12), { code: 'KPROXY_ERR_DECODE', message: /claims 4294967294 elements/ })
  // a string and a bytes field claiming more than there is
  const produce = Buffer.from([0xff, 0xff, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x7f, 0xff])
  t.throws(() => decodeProduceRequest(new Reader(produce), 3), { code: 'KPROXY_ERR_DECODE' })
  t.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'no large buffer was allocated')
})

t.test('the facade turns every malformed request into a KproxyError too', async t => {
  const next = rng(99)
  let escaped = 0
  for (let i = 0; i < 300; i++) {
    const b = Buffer.alloc(8 + (next() % 40))
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff
    b.writeInt16BE(next() % API_TABLE.length, 0)
    b.writeInt16BE(next() % 20, 2)
    try {
      decodeRequest(b)
    } catch (err) {
      if (!isKproxyError(err)) escaped++
    }
  }
  t.equal(escaped, 0)
})
