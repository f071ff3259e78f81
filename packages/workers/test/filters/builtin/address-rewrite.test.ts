import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeResponse, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { carriesAddresses, rewriteAddresses } from '../../../src/filters/builtin/address-rewrite.ts'
import type { RewriteTarget } from '../../../src/filters/builtin/address-rewrite.ts'
import { mappedPort } from '../../../src/broker-mode/broker-directory.ts'

const BASE = 30000
const REAL = [{ nodeId: 1, host: 'kafka-1.internal', port: 9092 }, { nodeId: 2, host: 'kafka-2.internal', port: 9093 }, { nodeId: 3, host: '10.0.0.3', port: 19092 }]

function target (): RewriteTarget & { learned: Array<[number, string, number]> } {
  const learned: Array<[number, string, number]> = []
  return {
    hostFor: () => 'proxy.example',
    portFor: id => mappedPort({ kind: 'offset', base: BASE }, id),
    learn: (id, host, port) => { learned.push([id, host, port]) },
    learned
  }
}

function payloadOf (apiKey: number, version: number, body: unknown): Buffer {
  return Buffer.concat(encodeResponse(apiKey, version, { correlationId: 77 }, body)).subarray(4)
}

function rewriteAndDecode (apiKey: number, version: number, body: unknown, tg = target()): { body: any, correlationId: number, learned: Array<[number, string, number]> } {
  const out = rewriteAddresses(payloadOf(apiKey, version, body), apiKey, version, tg)
  if (out === null) throw new Error('expected a rewrite')
  const frame = Buffer.concat(out)
  if (frame.readInt32BE(0) !== frame.length - 4) throw new Error('size prefix does not match')
  const d = decodeResponse(frame.subarray(4), apiKey, version)
  return { body: d.body, correlationId: d.header.correlationId, learned: tg.learned }
}

function struct (apiKey: number, name: string, fields: Record<string, unknown>): any {
  return { ...getApi(apiKey).response.structs[name]!(), ...fields }
}

const expectedEndpoints = REAL.map(r => ({ nodeId: r.nodeId, host: 'proxy.example', port: BASE + r.nodeId }))
const expectedLearned = REAL.map(r => [r.nodeId, r.host, r.port])

function versions (apiKey: number, from: number): number[] {
  const api = getApi(apiKey)
  const out: number[] = []
  for (let v = Math.max(from, api.minVersion); v <= api.maxVersion; v++) out.push(v)
  return out
}

t.test('Metadata brokers, every version', async t => {
  for (const v of versions(3, 0)) {
    const body = getApi(3).response.create()
    body.brokers = REAL.map(r => struct(3, 'MetadataResponseBroker', r))
    body.topics = [struct(3, 'MetadataResponseTopic', { name: 'orders', partitions: [struct(3, 'MetadataResponsePartition', { partitionIndex: 0, leaderId: 2, replicaNodes: [1, 2, 3], isrNodes: [1, 2, 3] })] })]
    const r = rewriteAndDecode(3, v, body)
    t.same(r.body.brokers.map((b: any) => ({ nodeId: b.nodeId, host: b.host, port: b.port })), expectedEndpoints, `v${v}`)
    t.same(r.learned, expectedLearned, `v${v} learned the real addresses`)
    t.equal(r.correlationId, 77)
    t.equal(r.body.topics[0].partitions[0].leaderId, 2, 'the rest of the response is intact')
  }
})

t.test('FindCoordinator v0-3 single coordinator, v4+ coordinators[]', async t => {
  for (const v of versions(10, 0)) {
    const body = getApi(10).response.create()
    if (v < 4) Object.assign(body, { nodeId: 2, host: 'kafka-2.internal', port: 9093 })
    else body.coordinators = REAL.map(r => struct(10, 'Coordinator', { key: `g${r.nodeId}`, ...r }))
    const r = rewriteAndDecode(10, v, body)
    if (v < 4) {
      t.same({ nodeId: r.body.nodeId, host: r.body.host, port: r.body.port }, { nodeId: 2, host: 'proxy.example', port: BASE + 2 }, `v${v}`)
    } else {
      t.same(r.body.coordinators.map((c: any) => ({ nodeId: c.nodeId, host: c.host, port: c.port })), expectedEndpoints, `v${v}`)
      t.same(r.body.coordinators.map((c: any) => c.key), ['g1', 'g2', 'g3'])
    }
  }
  // an error answer (no coordinator yet) names no broker: forwarded as it came
  const err = getApi(10).response.create()
  Object.assign(err, { errorCode: 15, nodeId: -1, host: '', port: -1 })
  const errors: Array<[number, number]> = []
  const tg = target()
  tg.responseError = (apiKey, code) => { errors.push([apiKey, code]) }
  t.equal(rewriteAddresses(payloadOf(10, 3, err), 10, 3, tg), null)
  t.same(errors, [[10, 15]], 'the error code is reported to metrics')
})

t.test('DescribeCluster brokers', async t => {
  for (const v of versions(60, 0)) {
    const body = getApi(60).response.create()
    body.brokers = REAL.map(r => struct(60, 'DescribeClusterBroker', { brokerId: r.nodeId, host: r.host, port: r.port }))
    const r = rewriteAndDecode(60, v, body)
    t.same(r.body.brokers.map((b: any) => ({ nodeId: b.brokerId, host: b.host, port: b.port })), expectedEndpoints, `v${v}`)
  }
})

t.test('Produce v10+ and Fetch v16+ NodeEndpoints (tagged), ShareFetch/ShareAcknowledge', async t => {
  const records = Buffer.from('not really a record batch, kept by reference')
  const cases: Array<[number, number]> = [[0, 10], [1, 16], [78, 1], [79, 1]]
  for (const [apiKey, from] of cases) {
    for (const v of versions(apiKey, from)) {
      t.ok(carriesAddresses(apiKey, v))
      const body = getApi(apiKey).response.create()
      body.nodeEndpoints = REAL.map(r => struct(apiKey, 'NodeEndpoint', r))
      if (apiKey === 1) body.responses = [struct(1, 'FetchableTopicResponse', { topic: 't', partitions: [struct(1, 'PartitionData', { partitionIndex: 0, errorCode: 6, records })] })]
      const r = rewriteAndDecode(apiKey, v, body)
      t.same(r.body.nodeEndpoints.map((n: any) => ({ nodeId: n.nodeId, host: n.host, port: n.port })), expectedEndpoints, `${getApi(apiKey).name} v${v}`)
      if (apiKey === 1) t.same(r.body.responses[0].partitions[0].records, records, 'records intact')
    }
  }
  t.notOk(carriesAddresses(0, 9), 'Produce v9 has no endpoints')
  t.notOk(carriesAddresses(1, 15), 'Fetch v15 has no endpoints')
  t.notOk(carriesAddresses(2, 5), 'ListOffsets never')
  // without endpoints (the usual case) the original bytes are forwarded
  const plain = getApi(0).response.create()
  t.equal(rewriteAddresses(payloadOf(0, 12, plain), 0, 12, target()), null)
})

t.test('a broker with no local port is an error, not a leak', async t => {
  const body = getApi(3).response.create()
  body.brokers = REAL.map(r => struct(3, 'MetadataResponseBroker', r))
  const tg = target()
  tg.portFor = id => mappedPort({ kind: 'explicit', ports: { 1: 40001, 2: 40002 } }, id)
  t.throws(() => rewriteAddresses(payloadOf(3, 12, body), 3, 12, tg), { code: 'KPROXY_ERR_BROKER_PORT_UNMAPPED' })
})

t.test('captured frames from Kafka 4.3.1 rewrite without error', async t => {
  const file = join(import.meta.dirname, '../../../../core/test/fixtures/frames/kafka-4.3.1.jsonl')
  let n = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue
    const f = JSON.parse(line) as { apiKey: number, version: number, response: string | null }
    if (f.response === null || !carriesAddresses(f.apiKey, f.version)) continue
    const payload = Buffer.from(f.response, 'base64').subarray(4)
    const out = rewriteAddresses(payload, f.apiKey, f.version, target())
    if (out !== null) {
      const body: any = decodeResponse(Buffer.concat(out).subarray(4), f.apiKey, f.version).body
      const hosts = [...(body.brokers ?? []), ...(body.nodeEndpoints ?? []), ...(body.coordinators ?? [])].filter((b: any) => (b.nodeId ?? b.brokerId) >= 0).map((b: any) => b.host)
      if (f.apiKey === 10 && f.version < 4 && body.nodeId >= 0) hosts.push(body.host)
      for (const h of hosts) t.equal(h, 'proxy.example', `${f.apiKey} v${f.version}`)
    }
    n++
  }
  t.ok(n >= 10, `${n} captured responses checked`)
})
