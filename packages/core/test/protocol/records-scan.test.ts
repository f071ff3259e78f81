// The records scanner against the full decoder: on the frames captured from a real broker and on
// random messages of every version (unknown tagged fields included, split into random chunks),
// it must name the same topics, partitions, record sizes and error codes. Truncated or corrupted
// frames give false, never an exception.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/protocol/codec.ts'
import { KAFKA_VERSION } from '../../src/kafka-release.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import type { Frame } from '../../src/protocol/frame-reader.ts'
import { FETCH_MAX_VERSION, FETCH_MIN_VERSION, PRODUCE_MAX_VERSION, PRODUCE_MIN_VERSION, RecordsScanner } from '../../src/protocol/records-scan.ts'
import type { RecordsVisitor } from '../../src/protocol/records-scan.ts'
import type { ProduceRequestData } from '../../src/protocol/generated/produce-request.ts'
import type { ProduceResponseData } from '../../src/protocol/generated/produce-response.ts'
import type { FetchResponseData } from '../../src/protocol/generated/fetch-response.ts'

type Seen = Array<[string, number, number, number]> // topic, partition, bytes, error

class Collect implements RecordsVisitor {
  seen: Seen = []
  topic = ''
  onTopic (topic: string): void { this.topic = topic }
  onPartition (partition: number, bytes: number, error: number): void { this.seen.push([this.topic, partition, bytes, error]) }
}

function frameOf (whole: Buffer, cuts: number[] = []): Frame {
  const payload = whole.subarray(4)
  const chunks: Buffer[] = []
  let at = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut <= at || cut >= payload.length) continue
    chunks.push(payload.subarray(at, cut))
    at = cut
  }
  chunks.push(payload.subarray(at))
  return { size: payload.length, chunks }
}

const scanner = new RecordsScanner()

function scan (kind: 'produceRequest' | 'produceResponse' | 'fetchResponse', frame: Frame, version: number): { ok: boolean, seen: Seen } {
  const c = new Collect()
  const ok = scanner[kind](frame, version, c)
  return { ok, seen: c.seen }
}

function expectedProduceRequest (body: ProduceRequestData, version: number): Seen {
  return body.topicData.flatMap(td => td.partitionData.map((p): [string, number, number, number] =>
    [version >= 13 ? td.topicId : td.name, p.index, p.records?.length ?? 0, 0]))
}

function expectedProduceResponse (body: ProduceResponseData, version: number): Seen {
  return body.responses.flatMap(r => r.partitionResponses.map((p): [string, number, number, number] =>
    [version >= 13 ? r.topicId : r.name, p.index, 0, p.errorCode]))
}

function expectedFetchResponse (body: FetchResponseData, version: number): Seen {
  return body.responses.flatMap(r => r.partitions.map((p): [string, number, number, number] =>
    [version >= 13 ? r.topicId : r.topic, p.partitionIndex, p.records?.length ?? 0, p.errorCode]))
}

t.test('frames captured from a real broker', async t => {
  const file = join(import.meta.dirname, '../fixtures/frames', `kafka-${KAFKA_VERSION}.jsonl`)
  const pairs = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    .map(l => JSON.parse(l) as { apiKey: number, version: number, request: string, response: string })
  let produce = 0
  let fetch = 0
  for (const p of pairs) {
    const request = Buffer.from(p.request, 'base64')
    const response = Buffer.from(p.response, 'base64')
    if (p.apiKey === ApiKey.Produce) {
      produce++
      const req = decodeRequest(request.subarray(4))
      t.same(scan('produceRequest', frameOf(request), p.version), { ok: true, seen: expectedProduceRequest(req.body as ProduceRequestData, p.version) }, `Produce v${p.version} request`)
      const res = decodeResponse(response.subarray(4), ApiKey.Produce, p.version)
      t.same(scan('produceResponse', frameOf(response), p.version), { ok: true, seen: expectedProduceResponse(res.body, p.version) }, `Produce v${p.version} response`)
      t.equal(scanner.throttleTimeMs, res.body.throttleTimeMs)
    } else if (p.apiKey === ApiKey.Fetch) {
      fetch++
      const res = decodeResponse(response.subarray(4), ApiKey.Fetch, p.version)
      const got = scan('fetchResponse', frameOf(response), p.version)
      t.same(got, { ok: true, seen: expectedFetchResponse(res.body, p.version) }, `Fetch v${p.version} response`)
      t.equal(scanner.throttleTimeMs, res.body.throttleTimeMs)
      t.equal(scanner.errorCode, res.body.errorCode)
    }
  }
  t.ok(produce >= 2 && fetch >= 2, `${produce} Produce and ${fetch} Fetch pairs replayed`)
})

// xorshift32: the same random messages on every run
let state = 0x2545f491
function rnd (n: number): number {
  state ^= state << 13
  state ^= state >>> 17
  state ^= state << 5
  return (state >>> 0) % n
}
function pick<T> (xs: readonly T[]): T { return xs[rnd(xs.length)]! }
function bytes (n: number): Buffer { return Buffer.from(Array.from({ length: n }, () => rnd(256))) }
function uuid (): string { return bytes(16).toString('base64url') }
const NAMES = ['orders', 'a', 'payments.v2', 'x'.repeat(249), 'événements', '']
function tags (flexible: boolean): { _unknownTaggedFields?: Array<{ tag: number, data: Buffer }> } {
  if (!flexible || rnd(3) !== 0) return {}
  return { _unknownTaggedFields: [{ tag: 100 + rnd(50), data: bytes(rnd(20)) }] }
}
function records (): Buffer | null {
  const r = rnd(10)
  return r === 0 ? null : bytes(r === 1 ? 0 : r === 2 ? 3000 + rnd(5000) : rnd(300))
}

function randomProduceRequest (version: number): ProduceRequestData {
  const flexible = version >= 9
  return {
    transactionalId: rnd(2) === 0 ? null : pick(NAMES),
    acks: pick([-1, 0, 1]),
    timeoutMs: rnd(30000),
    topicData: Array.from({ length: rnd(4) }, () => ({
      name: version <= 12 ? pick(NAMES) : '',
      topicId: version >= 13 ? uuid() : 'AAAAAAAAAAAAAAAAAAAAAA',
      partitionData: Array.from({ length: rnd(5) }, () => ({ index: rnd(1000), records: records(), ...tags(flexible) })),
      ...tags(flexible)
    })),
    ...tags(flexible)
  }
}

function randomFetchResponse (version: number): FetchResponseData {
  const flexible = version >= 12
  return {
    throttleTimeMs: rnd(3) === 0 ? rnd(5000) : 0,
    errorCode: version >= 7 ? pick([0, 0, 70]) : 0,
    sessionId: version >= 7 ? rnd(1 << 30) : 0,
    nodeEndpoints: [],
    responses: Array.from({ length: rnd(4) }, () => ({
      topic: version <= 12 ? pick(NAMES) : '',
      topicId: version >= 13 ? uuid() : 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: Array.from({ length: rnd(5) }, () => ({
        partitionIndex: rnd(1000),
        errorCode: pick([0, 0, 0, 1, 6, 75]),
        highWatermark: BigInt(rnd(1 << 30)),
        lastStableOffset: -1n,
        logStartOffset: version >= 5 ? BigInt(rnd(100)) : -1n,
        divergingEpoch: { epoch: -1, endOffset: -1n },
        currentLeader: flexible && rnd(4) === 0 ? { leaderId: rnd(5), leaderEpoch: rnd(50) } : { leaderId: -1, leaderEpoch: -1 },
        snapshotId: { endOffset: -1n, epoch: -1 },
        abortedTransactions: rnd(3) === 0 ? null : Array.from({ length: rnd(3) }, () => ({ producerId: BigInt(rnd(1000)), firstOffset: BigInt(rnd(1000)), ...tags(flexible) })),
        preferredReadReplica: -1,
        records: records(),
        ...tags(flexible)
      })),
      ...tags(flexible)
    })),
    ...tags(flexible)
  }
}

function randomProduceResponse (version: number): ProduceResponseData {
  const flexible = version >= 9
  return {
    throttleTimeMs: rnd(3) === 0 ? rnd(5000) : 0,
    nodeEndpoints: [],
    responses: Array.from({ length: rnd(4) }, () => ({
      name: version <= 12 ? pick(NAMES) : '',
      topicId: version >= 13 ? uuid() : 'AAAAAAAAAAAAAAAAAAAAAA',
      partitionResponses: Array.from({ length: rnd(5) }, () => ({
        index: rnd(1000),
        errorCode: pick([0, 0, 2, 19]),
        baseOffset: BigInt(rnd(1 << 30)),
        logAppendTimeMs: -1n,
        logStartOffset: -1n,
        recordErrors: version >= 8 ? Array.from({ length: rnd(3) }, () => ({ batchIndex: rnd(10), batchIndexErrorMessage: rnd(2) === 0 ? null : 'bad record', ...tags(flexible) })) : [],
        errorMessage: version >= 8 && rnd(2) === 0 ? 'oops' : null,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
        ...tags(flexible)
      })),
      ...tags(flexible)
    })),
    ...tags(flexible)
  }
}

function randomCuts (size: number): number[] {
  return Array.from({ length: rnd(6) }, () => rnd(size + 1))
}

t.test('random Produce requests and responses of every version', async t => {
  for (let version = PRODUCE_MIN_VERSION; version <= PRODUCE_MAX_VERSION; version++) {
    for (let i = 0; i < 40; i++) {
      const body = randomProduceRequest(version)
      const whole = Buffer.concat(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: version, correlationId: rnd(1 << 30), clientId: pick(['kcat', null, '<b>x</b>']) }, body))
      const decoded = decodeRequest(whole.subarray(4)).body as ProduceRequestData
      const got = scan('produceRequest', frameOf(whole, randomCuts(whole.length - 4)), version)
      if (!t.same(got, { ok: true, seen: expectedProduceRequest(decoded, version) }, `request v${version} #${i}`)) return
      const res = randomProduceResponse(version)
      const resWhole = Buffer.concat(encodeResponse(ApiKey.Produce, version, { correlationId: 7 }, res))
      const resDecoded = decodeResponse(resWhole.subarray(4), ApiKey.Produce, version).body
      const gotRes = scan('produceResponse', frameOf(resWhole, randomCuts(resWhole.length - 4)), version)
      if (!t.same(gotRes, { ok: true, seen: expectedProduceResponse(resDecoded, version) }, `response v${version} #${i}`)) return
      t.equal(scanner.throttleTimeMs, res.throttleTimeMs)
    }
  }
})

t.test('random Fetch responses of every version', async t => {
  for (let version = FETCH_MIN_VERSION; version <= FETCH_MAX_VERSION; version++) {
    for (let i = 0; i < 40; i++) {
      const body = randomFetchResponse(version)
      const whole = Buffer.concat(encodeResponse(ApiKey.Fetch, version, { correlationId: 9 }, body))
      const decoded = decodeResponse(whole.subarray(4), ApiKey.Fetch, version).body
      const got = scan('fetchResponse', frameOf(whole, randomCuts(whole.length - 4)), version)
      if (!t.same(got, { ok: true, seen: expectedFetchResponse(decoded, version) }, `v${version} #${i}`)) return
      t.equal(scanner.throttleTimeMs, body.throttleTimeMs)
      t.equal(scanner.errorCode, body.errorCode)
    }
  }
})

t.test('the same topic comes back as the same string object', async t => {
  const body = randomProduceRequest(9)
  body.topicData = [{ name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: bytes(10) }] }]
  const whole = Buffer.concat(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: 'c' }, body))
  const names: string[] = []
  const v: RecordsVisitor = { onTopic (topic) { names.push(topic) }, onPartition () {} }
  scanner.produceRequest(frameOf(whole), 9, v)
  scanner.produceRequest(frameOf(whole, [3, 20, 21]), 9, v)
  t.equal(names.length, 2)
  t.equal(names[0], 'orders')
  t.ok(Object.is(names[0], names[1]))
})

t.test('truncated, padded and corrupted frames give false and never throw', async t => {
  const cases: Array<['produceRequest' | 'produceResponse' | 'fetchResponse', number, Buffer]> = []
  for (const version of [3, 8, 9, 13]) {
    const body = randomProduceRequest(version)
    body.topicData.push({ name: 'orders', topicId: uuid(), partitionData: [{ index: 1, records: bytes(40) }] })
    cases.push(['produceRequest', version, Buffer.concat(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: version, correlationId: 1, clientId: 'c' }, body))])
    cases.push(['produceResponse', version, Buffer.concat(encodeResponse(ApiKey.Produce, version, { correlationId: 1 }, randomProduceResponse(version)))])
  }
  for (const version of [4, 11, 12, 18]) {
    cases.push(['fetchResponse', version, Buffer.concat(encodeResponse(ApiKey.Fetch, version, { correlationId: 1 }, randomFetchResponse(version)))])
  }
  for (const [kind, version, whole] of cases) {
    const payload = whole.subarray(4)
    for (let n = 0; n < payload.length; n++) {
      const cut = { size: n, chunks: [payload.subarray(0, n)] }
      if (scan(kind, cut, version).ok) return t.fail(`${kind} v${version} truncated to ${n} of ${payload.length} bytes passed`)
    }
    const padded = Buffer.concat([payload, Buffer.from([0])])
    t.notOk(scan(kind, { size: padded.length, chunks: [padded] }, version).ok, `${kind} v${version} with a byte too many`)
    const thrown: string[] = []
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(payload)
      bad[rnd(bad.length)] = rnd(256)
      try { scan(kind, { size: bad.length, chunks: [bad] }, version) } catch (err) { thrown.push((err as Error).message) }
    }
    t.same(thrown, [], `${kind} v${version}: 300 corrupted copies, no exception`)
  }
  t.notOk(scan('produceRequest', frameOf(cases[0]![2]), 2).ok, 'a version outside 3-13')
  t.notOk(scan('fetchResponse', frameOf(cases[0]![2]), 19).ok, 'a version outside 4-18')
})
