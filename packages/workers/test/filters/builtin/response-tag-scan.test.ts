import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { fetchTopLevelTagCount, produceTopLevelTagCount } from '../../../src/filters/builtin/response-tag-scan.ts'
import { frameNeedsRewrite } from '../../../src/filters/builtin/address-rewrite.ts'

const codec = getApi(1).response
const s = (name: string, f: Record<string, unknown>): any => ({ ...codec.structs[name]!(), ...f })

function fetchResponse (version: number, withEndpoints: boolean, unknownTopTag = false): Buffer {
  const body = codec.create()
  body.sessionId = 7
  body.responses = [
    s('FetchableTopicResponse', {
      topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
      partitions: [
        s('PartitionData', { partitionIndex: 0, highWatermark: 10n, records: Buffer.alloc(300, 1), abortedTransactions: [s('AbortedTransaction', { producerId: 5n, firstOffset: 2n })] }),
        s('PartitionData', { partitionIndex: 1, errorCode: 6, currentLeader: s('LeaderIdAndEpoch', { leaderId: 2, leaderEpoch: 3 }), records: null, abortedTransactions: null }),
        s('PartitionData', { partitionIndex: 2, records: Buffer.alloc(0) })
      ]
    }),
    s('FetchableTopicResponse', { topicId: 'AAAAAAAAAAAAAAAAAAAAAg', partitions: [] })
  ]
  if (withEndpoints) body.nodeEndpoints = [s('NodeEndpoint', { nodeId: 2, host: 'kafka-2', port: 9092 })]
  if (unknownTopTag) body._unknownTaggedFields = [{ tag: 9, data: Buffer.from([1, 2, 3]) }]
  return Buffer.concat(encodeResponse(1, version, { correlationId: 3, _unknownTaggedFields: [{ tag: 4, data: Buffer.from('hdr') }] }, body)).subarray(4)
}

function asFrame (payload: Buffer, cuts: number[]): Frame {
  const chunks: Buffer[] = []
  let prev = 0
  for (const c of [...cuts, payload.length]) {
    if (c > prev) chunks.push(payload.subarray(prev, c))
    prev = Math.max(prev, c)
  }
  return { size: payload.length, chunks }
}

t.test('counts top-level tagged fields whatever the chunk boundaries', async t => {
  for (const version of [16, 17, 18]) {
    for (const [endpoints, unknown, expected] of [[false, false, 0], [true, false, 1], [true, true, 2], [false, true, 1]] as const) {
      const payload = fetchResponse(version, endpoints, unknown)
      let wrong = 0
      for (let cut = 0; cut <= payload.length; cut++) {
        if (fetchTopLevelTagCount(asFrame(payload, [cut])) !== expected) wrong++
        if (fetchTopLevelTagCount(asFrame(payload, [cut >> 1, cut])) !== expected) wrong++
      }
      const bytes = asFrame(payload, Array.from({ length: payload.length }, (_, i) => i))
      t.equal(fetchTopLevelTagCount(bytes), expected, `v${version} one byte per chunk`)
      t.equal(wrong, 0, `v${version} endpoints=${endpoints} unknownTag=${unknown}: ${expected} at every split`)
      t.equal(frameNeedsRewrite(asFrame(payload, [17]), 1, version), expected > 0)
    }
  }
})

t.test('a truncated or padded frame never passes as "nothing to rewrite"', async t => {
  for (const endpoints of [true, false]) {
    const payload = fetchResponse(17, endpoints)
    let bad = 0
    for (let n = 0; n < payload.length; n++) if (fetchTopLevelTagCount({ size: n, chunks: n === 0 ? [] : [payload.subarray(0, n)] }) === 0) bad++
    t.equal(bad, 0, `endpoints=${endpoints}: no truncation reads as 0`)
  }
  const padded = Buffer.concat([fetchResponse(17, false), Buffer.from([0, 0])])
  t.equal(fetchTopLevelTagCount(asFrame(padded, [])), -1, 'trailing bytes')
})

t.test('captured Fetch responses from Kafka 4.3.1', async t => {
  const file = join(import.meta.dirname, '../../../../core/test/fixtures/frames/kafka-4.3.1.jsonl')
  let n = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue
    const f = JSON.parse(line) as { apiKey: number, version: number, response: string | null }
    if (f.apiKey !== 1 || f.version < 16 || f.response === null) continue
    const payload = Buffer.from(f.response, 'base64').subarray(4)
    t.equal(fetchTopLevelTagCount(asFrame(payload, [5, 40])), 0, `v${f.version}`)
    n++
  }
  t.ok(n >= 1)
})

const pcodec = getApi(0).response
const ps = (name: string, f: Record<string, unknown>): any => ({ ...pcodec.structs[name]!(), ...f })

function produceResponse (version: number, withEndpoints: boolean, unknownTopTag = false): Buffer {
  const body = pcodec.create()
  body.throttleTimeMs = 5
  body.responses = [
    ps('TopicProduceResponse', {
      name: 'orders',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
      partitionResponses: [
        ps('PartitionProduceResponse', { index: 0, baseOffset: 42n }),
        ps('PartitionProduceResponse', { index: 1, errorCode: 6, errorMessage: 'moved', currentLeader: ps('LeaderIdAndEpoch', { leaderId: 2, leaderEpoch: 3 }), recordErrors: [ps('BatchIndexAndErrorMessage', { batchIndex: 0, batchIndexErrorMessage: 'bad' }), ps('BatchIndexAndErrorMessage', { batchIndex: 1 })] })
      ]
    }),
    ps('TopicProduceResponse', { name: 'x', partitionResponses: [] })
  ]
  if (withEndpoints) body.nodeEndpoints = [ps('NodeEndpoint', { nodeId: 2, host: 'kafka-2', port: 9092 })]
  if (unknownTopTag) body._unknownTaggedFields = [{ tag: 9, data: Buffer.from([1, 2, 3]) }]
  return Buffer.concat(encodeResponse(0, version, { correlationId: 3 }, body)).subarray(4)
}

t.test('Produce v10-13: top-level tagged fields at every split, truncation never reads as 0', async t => {
  for (const version of [10, 11, 12, 13]) {
    for (const [endpoints, unknown, expected] of [[false, false, 0], [true, false, 1], [true, true, 2]] as const) {
      const payload = produceResponse(version, endpoints, unknown)
      let wrong = 0
      for (let cut = 0; cut <= payload.length; cut++) {
        if (produceTopLevelTagCount(asFrame(payload, [cut >> 1, cut]), version) !== expected) wrong++
      }
      t.equal(wrong, 0, `v${version} endpoints=${endpoints} unknownTag=${unknown}`)
      t.equal(frameNeedsRewrite(asFrame(payload, [3]), 0, version), expected > 0)
      let zero = 0
      for (let n = 0; n < payload.length; n++) if (produceTopLevelTagCount({ size: n, chunks: n === 0 ? [] : [payload.subarray(0, n)] }, version) === 0) zero++
      t.equal(zero, 0, `v${version}: no truncation reads as 0`)
    }
  }
})

t.test('captured Produce responses from Kafka 4.3.1', async t => {
  const file = join(import.meta.dirname, '../../../../core/test/fixtures/frames/kafka-4.3.1.jsonl')
  let n = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue
    const f = JSON.parse(line) as { apiKey: number, version: number, response: string | null }
    if (f.apiKey !== 0 || f.version < 10 || f.response === null) continue
    t.equal(produceTopLevelTagCount(asFrame(Buffer.from(f.response, 'base64').subarray(4), [7]), f.version), 0, `v${f.version}`)
    n++
  }
  t.ok(n >= 1)
})
