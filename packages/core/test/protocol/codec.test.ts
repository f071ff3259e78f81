import t from 'tap'
import {
  chunksLength, decodeRequest, getApi, hasApi, decodeResponse, encodeRequest, encodeResponse, errorByCode, errorByName, ErrorCode,
  KAFKA_ERRORS, decodableApi, rewriteResponse, supportedApi
} from '../../src/protocol/codec.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import { createFetchResponse, createFetchableTopicResponse, createPartitionData } from '../../src/protocol/generated/fetch-response.ts'
import { createMetadataResponse, createMetadataResponseBroker } from '../../src/protocol/generated/metadata-response.ts'
import { createMetadataRequest } from '../../src/protocol/generated/metadata-request.ts'

function fetchResponseFrame (records: Buffer): Buffer {
  const body = createFetchResponse()
  body.sessionId = 42
  const topic = createFetchableTopicResponse()
  topic.topicId = 'AAECAwQFBgcICQoLDA0ODw'
  const p = createPartitionData()
  p.partitionIndex = 3
  p.highWatermark = 1000n
  p.records = records
  const small = createPartitionData()
  small.partitionIndex = 4
  small.records = Buffer.from('tiny records')
  topic.partitions = [p, small]
  body.responses = [topic]
  return Buffer.concat(encodeResponse(ApiKey.Fetch, 17, { correlationId: 9 }, body))
}

t.test('rewriteResponse keeps a large records blob as the same memory and re-encodes the rest exactly', async t => {
  const records = Buffer.alloc(64 * 1024)
  for (let i = 0; i < records.length; i++) records[i] = (i * 7) & 0xff
  const frame = fetchResponseFrame(records)
  const payload = frame.subarray(4)
  const start = frame.indexOf(records)
  t.ok(start > 0, 'the records are in the frame')

  let seen: Buffer | null = null
  const chunks = rewriteResponse(payload, ApiKey.Fetch, 17, body => {
    seen = body.responses[0].partitions[0].records
    body.responses[0].partitions[1].partitionIndex = 5
    return true
  })
  if (chunks === null) throw new Error('expected chunks')
  const shared = chunks.find(c => c.length === records.length)
  t.ok(shared !== undefined, 'the records are one chunk of their own')
  t.equal(shared?.buffer, frame.buffer, 'the chunk views the input ArrayBuffer')
  t.equal(shared?.byteOffset, frame.byteOffset + start, 'at the offset where the records were')
  t.ok(seen !== null, 'edit saw the body')
  t.equal((seen as unknown as Buffer).buffer, frame.buffer, 'decoded records are a subarray of the input')

  const out = Buffer.concat(chunks)
  t.equal(out.length, frame.length)
  t.equal(chunksLength(chunks), frame.length)
  t.equal(out.readInt32BE(0), frame.length - 4, 'size prefix')
  const expected = Buffer.from(frame)
  const back = decodeResponse(out.subarray(4), ApiKey.Fetch, 17)
  t.equal(back.body.responses[0].partitions[1].partitionIndex, 5, 'the edit is in the output')
  back.body.responses[0].partitions[1].partitionIndex = 4
  t.ok(Buffer.concat(encodeResponse(ApiKey.Fetch, 17, back.header, back.body)).equals(expected), 'everything else is byte for byte the same')

  t.equal(rewriteResponse(payload, ApiKey.Fetch, 17, () => false), null, 'null when edit declines')
})

t.test('Metadata broker addresses can be rewritten', async t => {
  const body = createMetadataResponse()
  const b = createMetadataResponseBroker()
  b.nodeId = 1
  b.host = 'broker-1.internal'
  b.port = 9092
  body.brokers = [b]
  body.clusterId = 'cluster'
  const payload = Buffer.concat(encodeResponse(ApiKey.Metadata, 12, { correlationId: 5 }, body)).subarray(4)
  const out = rewriteResponse(payload, ApiKey.Metadata, 12, m => {
    for (const broker of m.brokers) {
      broker.host = 'localhost'
      broker.port = 19092
    }
    return true
  })
  const back = decodeResponse(Buffer.concat(out ?? []).subarray(4), ApiKey.Metadata, 12)
  t.same(back.body.brokers.map(x => [x.nodeId, x.host, x.port]), [[1, 'localhost', 19092]])
  t.equal(back.body.clusterId, 'cluster')
  t.equal(back.header.correlationId, 5)
})

t.test('unknown API keys and unsupported versions have their own codes', async t => {
  t.throws(() => decodeResponse(Buffer.alloc(8), 999 as 0, 0), { code: 'KPROXY_ERR_UNKNOWN_API' })
  t.throws(() => decodeResponse(Buffer.alloc(8), ApiKey.Metadata, 99), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION', message: /Metadata \(key 3\) version 99 .* versions 0-13/ })
  t.throws(() => supportedApi(ApiKey.ControlledShutdown, 0), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION', message: /no versions/ })
  const req = Buffer.from([0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff])
  t.throws(() => decodeRequest(req), { code: 'KPROXY_ERR_UNKNOWN_API', message: /API key 999/ })
  req.writeInt16BE(3, 0)
  req.writeInt16BE(77, 2)
  t.throws(() => decodeRequest(req), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION' })
  t.throws(() => encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 77, correlationId: 1, clientId: null }, createMetadataRequest()), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION' })
})

t.test('bridged versions need the decodable scope; the default scope is what Kafka 4 supports', async t => {
  t.throws(() => supportedApi(ApiKey.Produce, 0), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION', message: /Produce \(key 0\) version 0 .* versions 3-13 \(0-2 only through the version bridge\)/ })
  t.equal(supportedApi(ApiKey.Produce, 0, 'decodable').name, 'Produce')
  t.equal(decodableApi(ApiKey.Fetch, 0).name, 'Fetch')
  t.throws(() => decodableApi(ApiKey.Fetch, 99), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION', message: /versions 4-18 and bridged versions 0-3/ })
  t.throws(() => decodableApi(ApiKey.Metadata, 99), { message: /versions 0-13;/ })
  // a Produce v0 request as a 0.10 client sends it: acks, timeout, topics (no transactional id)
  const body = getApi(ApiKey.Produce).request.create()
  body.acks = 1
  body.timeoutMs = 1500
  body.topicData = [{ name: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: Buffer.from('abc') }] }]
  const header = { apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 9, clientId: 'legacy' }
  t.throws(() => encodeRequest(header, body), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION' })
  const frame = Buffer.concat(encodeRequest(header, body, 'decodable'))
  t.equal(frame.subarray(4).toString('hex'),
    '0000' + '0000' + '00000009' + '00066c6567616379' + '0001' + '000005dc' + '00000001' + '00036f6c64' + '00000001' + '00000000' + '00000003616263')
  t.throws(() => decodeRequest(frame.subarray(4)), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION' })
  const back = decodeRequest(frame.subarray(4), 'decodable')
  t.same(back.body, body)
  // and the same body at v3, the oldest version Kafka 4 takes: the bridge's conversion is a re-encode
  const v3 = Buffer.concat(encodeRequest({ ...header, apiVersion: 3 }, back.body as typeof body))
  t.same(decodeRequest(v3.subarray(4)).body, body)
  const res = getApi(ApiKey.Produce).response.create()
  const resFrame = encodeResponse(ApiKey.Produce, 1, { correlationId: 9 }, res, 'decodable')
  t.equal(decodeResponse(Buffer.concat(resFrame).subarray(4), ApiKey.Produce, 1, 'decodable').header.correlationId, 9)
  t.throws(() => decodeResponse(Buffer.concat(resFrame).subarray(4), ApiKey.Produce, 1), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION' })
  t.equal(rewriteResponse(Buffer.concat(resFrame).subarray(4), ApiKey.Produce, 1, () => false, 'decodable'), null)
})

t.test('decode errors name the message and the offset; trailing bytes are refused', async t => {
  const frame = Buffer.concat(encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 4, correlationId: 1, clientId: 'c' }, createMetadataRequest()))
  const payload = frame.subarray(4)
  t.equal(decodeRequest(payload).apiKey, ApiKey.Metadata)
  t.throws(() => decodeRequest(Buffer.concat([payload, Buffer.from([0])])), { code: 'KPROXY_ERR_DECODE', message: /Metadata request v4: 1 unexpected bytes after Metadata request v4 at offset 16/ })
  t.throws(() => decodeRequest(payload.subarray(0, payload.length - 1)), { code: 'KPROXY_ERR_DECODE', message: /cannot decode Metadata request v4: bool needs 1 bytes but only 0 remain at offset 15/ })
  t.throws(() => decodeRequest(payload.subarray(0, 5)), { code: 'KPROXY_ERR_DECODE', message: /cannot decode request/ })
  t.throws(() => decodeResponse(Buffer.alloc(2), ApiKey.Metadata, 4), { code: 'KPROXY_ERR_DECODE', message: /Metadata response v4/ })
})

t.test('encode errors are KPROXY_ERR_ENCODE with the message named', async t => {
  const body = createMetadataRequest()
  body.topics = null
  t.throws(() => encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 0, correlationId: 1, clientId: null }, body), { code: 'KPROXY_ERR_ENCODE', message: /Metadata request v0: expected an array, got null/ })
  const res = createMetadataResponse()
  res.throttleTimeMs = 2 ** 40
  t.throws(() => encodeResponse(ApiKey.Metadata, 3, { correlationId: 1 }, res), { code: 'KPROXY_ERR_ENCODE', message: /Metadata response v3: .*out of range/ })
  // the shared writer is usable after a failure
  t.equal(Buffer.concat(encodeResponse(ApiKey.Metadata, 3, { correlationId: 1 }, createMetadataResponse())).length, 4 + 4 + 4 + 4 + 2 + 4 + 4)
})

t.test('frames encoded one after another stay intact (the scratch is not overwritten)', async t => {
  const frames: Buffer[][] = []
  const copies: Buffer[] = []
  for (let i = 0; i < 50; i++) {
    const chunks = encodeResponse(ApiKey.Metadata, 12, { correlationId: i }, createMetadataResponse())
    frames.push(chunks)
    copies.push(Buffer.concat(chunks))
  }
  t.ok(frames.every((f, i) => Buffer.concat(f).equals(copies[i])))
  t.ok(frames.every((f, i) => Buffer.concat(f).readInt32BE(4) === i))
})

t.test('Kafka error codes from the pinned release', async t => {
  t.same(errorByCode(0), { code: 0, name: 'NONE', retriable: false, message: 'NONE' })
  t.equal(errorByCode(ErrorCode.NOT_LEADER_OR_FOLLOWER)?.retriable, true)
  t.equal(errorByCode(35)?.name, 'UNSUPPORTED_VERSION')
  t.equal(errorByName('UNKNOWN_TOPIC_OR_PARTITION')?.code, 3)
  t.equal(errorByCode(-1)?.name, 'UNKNOWN_SERVER_ERROR')
  t.equal(errorByCode(12345), undefined)
  t.equal(errorByName('NO_SUCH_ERROR'), undefined)
  t.ok(KAFKA_ERRORS.length > 120)
  t.ok(KAFKA_ERRORS.every((e, i) => i === 0 || e.code > KAFKA_ERRORS[i - 1].code), 'sorted by code, no duplicates')
})

t.test('API lookups and odd input', async t => {
  t.equal(getApi(ApiKey.Fetch).name, 'Fetch')
  t.throws(() => getApi(-1), { code: 'KPROXY_ERR_UNKNOWN_API' })
  t.equal(hasApi(ApiKey.Fetch), true)
  t.equal(hasApi(93), false)
  // not a Buffer at all: still a KproxyError, not a TypeError
  t.throws(() => decodeResponse({ length: 10 } as unknown as Buffer, ApiKey.Metadata, 1), { code: 'KPROXY_ERR_DECODE', message: /cannot decode Metadata response v1/ })
})

t.test('a known tag sent in a version where it is not tagged is kept as an unknown tag', async t => {
  // ProduceResponse v9 (flexible) with tag 0, which is NodeEndpoints only from v10. Kafka's Java
  // refuses such input; kproxy keeps it raw so that forwarding stays byte-exact.
  const payload = Buffer.from([0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 3, 0xaa, 0xbb, 0xcc])
  const { body } = decodeResponse(payload, ApiKey.Produce, 9)
  t.same(body.nodeEndpoints, [])
  t.same(body._unknownTaggedFields, [{ tag: 0, data: Buffer.from([0xaa, 0xbb, 0xcc]) }])
  t.ok(Buffer.concat(encodeResponse(ApiKey.Produce, 9, { correlationId: 1 }, body)).subarray(4).equals(payload))
})
