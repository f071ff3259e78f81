// Throttle times read in place against the decoder, on every response a real broker sent in the
// captured fixtures, and on encoded responses with a throttle time set.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeResponse, encodeResponse, getApi } from '../../src/protocol/codec.ts'
import { KAFKA_VERSION } from '../../src/kafka-release.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import { raiseThrottleTimeMs, throttleTimeMs } from '../../src/protocol/throttle-time.ts'

function frameOf (whole: Buffer): { size: number, chunks: Buffer[] } {
  const payload = whole.subarray(4)
  // split in two so that the header's bytes span chunks too
  return { size: payload.length, chunks: [payload.subarray(0, 3), payload.subarray(3)] }
}

t.test('every captured response', async t => {
  const file = join(import.meta.dirname, '../fixtures/frames', `kafka-${KAFKA_VERSION}.jsonl`)
  const pairs = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    .map(l => JSON.parse(l) as { apiKey: number, name: string, version: number, response: string })
  let located = 0
  for (const p of pairs) {
    const response = Buffer.from(p.response, 'base64')
    const body = decodeResponse(response.subarray(4), p.apiKey, p.version).body as { throttleTimeMs?: number }
    const got = throttleTimeMs(frameOf(response), p.apiKey, p.version)
    if (got === -1) {
      // not at a fixed place: only APIs whose throttle time follows variable-width fields
      const first = getApi(p.apiKey).response.schema.fields.find(f => f.tag === undefined)
      const firstNow = first?.name === 'ThrottleTimeMs' && Number.parseInt(first.versions, 10) <= p.version
      t.notOk(firstNow, `${p.name} v${p.version}: -1, and ThrottleTimeMs is not its first field`)
    } else {
      located++
      t.equal(got, body.throttleTimeMs, `${p.name} v${p.version}`)
    }
  }
  t.ok(located > 50, `${located} of ${pairs.length} responses had their throttle time read in place`)
})

t.test('a throttled response', async t => {
  for (const version of [4, 12, 18]) {
    const whole = Buffer.concat(encodeResponse(ApiKey.Fetch, version, { correlationId: 1, _unknownTaggedFields: version >= 12 ? [{ tag: 9, data: Buffer.from('xyz') }] : undefined }, {
      throttleTimeMs: 1234, errorCode: 0, sessionId: 0, responses: [], nodeEndpoints: []
    }))
    t.equal(throttleTimeMs(frameOf(whole), ApiKey.Fetch, version), 1234, `Fetch v${version}, header tagged fields skipped`)
  }
  const od = Buffer.concat(encodeResponse(ApiKey.OffsetDelete, 0, { correlationId: 1 }, { errorCode: 0, throttleTimeMs: 77, topics: [] }))
  t.equal(throttleTimeMs(frameOf(od), ApiKey.OffsetDelete, 0), 77, 'after a leading ErrorCode')
  t.equal(throttleTimeMs({ size: 5, chunks: [Buffer.alloc(5)] }, ApiKey.Fetch, 12), -1, 'too short')
  t.equal(throttleTimeMs(frameOf(od), ApiKey.Produce, 9), -1, 'Produce: at the end, left to the records scanner')
  t.equal(throttleTimeMs(frameOf(od), ApiKey.ListOffsets, 1), -1, 'ListOffsets v1 has none')
  t.equal(throttleTimeMs(frameOf(od), 999, 1), -1, 'unknown API')
})

t.test('raised in place: every captured response, the rest of the frame untouched, split across chunks', async t => {
  const file = join(import.meta.dirname, '../fixtures/frames', `kafka-${KAFKA_VERSION}.jsonl`)
  const pairs = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    .map(l => JSON.parse(l) as { apiKey: number, name: string, version: number, response: string })
  let raised = 0
  for (const p of pairs) {
    const original = Buffer.from(p.response, 'base64')
    const copy = Buffer.from(original)
    const before = throttleTimeMs(frameOf(copy), p.apiKey, p.version)
    const got = raiseThrottleTimeMs(frameOf(copy), p.apiKey, p.version, 1234)
    if (before < 0) {
      t.equal(got, -1, `${p.name} v${p.version}: not at a fixed place, left to the body`)
      t.same(copy, original)
      continue
    }
    raised++
    t.equal(got, Math.max(before, 1234))
    const want = decodeResponse(original.subarray(4), p.apiKey, p.version).body as Record<string, unknown>
    want.throttleTimeMs = Math.max(before, 1234)
    t.same(decodeResponse(copy.subarray(4), p.apiKey, p.version).body, want, `${p.name} v${p.version}: only the throttle time changed`)
  }
  t.ok(raised > 50, `${raised} raised in place`)
})

t.test('a larger throttle time already in the answer stays', async t => {
  const api = getApi(ApiKey.Fetch).response
  const whole = Buffer.concat(encodeResponse(ApiKey.Fetch, 12, { correlationId: 9 }, { ...api.create(), throttleTimeMs: 5000 }))
  // every byte its own chunk: the write crosses chunk boundaries
  const payload = whole.subarray(4)
  const frame = { size: payload.length, chunks: [...payload].map((_, i) => payload.subarray(i, i + 1)) }
  t.equal(raiseThrottleTimeMs(frame, ApiKey.Fetch, 12, 100), 5000)
  t.equal(raiseThrottleTimeMs(frame, ApiKey.Fetch, 12, 70_000), 70_000)
  t.equal(decodeResponse(payload, ApiKey.Fetch, 12).body.throttleTimeMs, 70_000)
  t.equal(raiseThrottleTimeMs(frame, ApiKey.Produce, 9, 100), -1, 'Produce: at the end, not here')
  t.equal(raiseThrottleTimeMs({ size: 3, chunks: [payload.subarray(0, 3)] }, ApiKey.Fetch, 12, 100), -1, 'a frame too short')
})
