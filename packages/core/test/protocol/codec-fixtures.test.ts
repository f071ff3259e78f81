// Replays request/response frames captured from a real Kafka broker by the interop test
// (test/integration/interop.test.ts with KPROXY_CAPTURE_FIXTURES=1): each decodes and re-encodes
// to the very same bytes, without a broker.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/protocol/codec.ts'
import { KAFKA_VERSION } from '../../src/kafka-release.ts'

interface FramePair { apiKey: number, name: string, version: number, request: string, response: string }

const file = join(import.meta.dirname, '../fixtures/frames', `kafka-${KAFKA_VERSION}.jsonl`)
const pairs: FramePair[] = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l))

t.ok(pairs.length >= 100, `${pairs.length} captured frame pairs`)
for (const p of pairs) {
  t.test(`${p.name} v${p.version}`, async t => {
    const request = Buffer.from(p.request, 'base64')
    const req = decodeRequest(request.subarray(4))
    t.equal(req.header.apiKey, p.apiKey)
    t.equal(req.header.apiVersion, p.version)
    t.same(Buffer.concat(encodeRequest(req.header, req.body)), request, 'request re-encodes identically')
    const response = Buffer.from(p.response, 'base64')
    const res = decodeResponse(response.subarray(4), p.apiKey, p.version)
    t.equal(res.header.correlationId, req.header.correlationId)
    t.same(Buffer.concat(encodeResponse(p.apiKey, p.version, res.header, res.body)), response, 'response re-encodes identically')
  })
}
