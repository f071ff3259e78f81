// Interop with the real broker: for every API key the broker advertises in ApiVersions, send a
// request encoded by kproxy's codec at the lowest and the highest version both sides support,
// decode the broker's response and re-encode it: the bytes must be identical.
// With KPROXY_CAPTURE_FIXTURES=1 the 1-node run also writes the frames it exchanged to
// packages/core/test/fixtures/frames/ for the fast unit tests.
import t from 'tap'
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, getApi, hasApi } from '@kproxy/core/protocol/codec'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { kafkaCluster } from '../helpers/kafka.ts'
import { WireConnection } from '../helpers/wire-connection.ts'
import { interopRequest, type InteropContext } from '../helpers/interop-requests.ts'

const CLIENT_ID = 'kproxy-interop'
const capture = process.env.KPROXY_CAPTURE_FIXTURES === '1'
const fixtureDir = join(import.meta.dirname, '../../packages/core/test/fixtures/frames')

function firstDifference (a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

class Exchange {
  private conn: WireConnection | null = null
  private correlationId = 0
  private readonly host: string
  private readonly port: number
  constructor (host: string, port: number) {
    this.host = host
    this.port = port
  }

  // Sends one request, returns the request bytes and the response payload (null: the broker
  // closed the connection without answering; the next request gets a new connection).
  async call (apiKey: number, version: number, body: unknown): Promise<{ request: Buffer, response: Buffer | null, correlationId: number }> {
    if (this.conn === null || this.conn.isClosed) this.conn = await WireConnection.open(this.host, this.port)
    const correlationId = ++this.correlationId
    const request = Buffer.concat(encodeRequest({ apiKey, apiVersion: version, correlationId, clientId: CLIENT_ID }, body))
    this.conn.send([request])
    const response = await this.conn.nextFrame(30_000)
    if (response === null) { this.conn.close(); this.conn = null }
    return { request, response, correlationId }
  }

  close (): void { this.conn?.close() }
}

for (const brokers of [1, 3] as const) {
  t.test(`interop with a real ${brokers}-node Kafka ${KAFKA_VERSION} cluster`, async t => {
    const cluster = await kafkaCluster(t, { brokers })
    const first = cluster.info.brokers[0]
    const ex = new Exchange(first.host, first.port)
    t.teardown(() => ex.close())

    // What the broker supports, from ApiVersions v0 (every broker understands it).
    const av = await ex.call(18, 0, {})
    t.ok(av.response, 'ApiVersions answered')
    const advertised: Array<{ apiKey: number, minVersion: number, maxVersion: number }> =
      decodeResponse(av.response!, 18, 0).body.apiKeys
    t.ok(advertised.length > 40, `the broker advertises ${advertised.length} API keys`)

    const unique = `${brokers}n${Date.now()}`
    const topic = `interop-${unique}`
    // The interop topic lives on the broker we talk to (explicit assignment), so that Produce,
    // Fetch and ListOffsets reach the partition leader.
    const create = getApi(19).request.create()
    create.topics = [{ name: topic, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [first.id] }], configs: [] }]
    const created = await ex.call(19, 7, create)
    const createdTopic = decodeResponse(created.response!, 19, 7).body.topics[0]
    t.equal(createdTopic.errorCode, 0, `topic ${topic} created`)
    let topicId: string = createdTopic.topicId
    // Wait until the broker knows itself as leader of the new partition.
    for (let i = 0; i < 100; i++) {
      const md = await ex.call(3, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })
      const mt = decodeResponse(md.response!, 3, 12).body.topics[0]
      if (mt.errorCode === 0 && mt.partitions[0]?.leaderId === first.id) { topicId = mt.topicId; break }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const records = encodeRecordBatch({
      baseTimestamp: BigInt(Date.now()),
      records: [{ key: Buffer.from('k1'), value: Buffer.from('interop value 1') },
        { key: null, value: Buffer.from('interop value 2'), headers: [{ key: 'h', value: Buffer.from('v') }] }]
    })
    const ctx: InteropContext = { topic, topicId, records, unique }

    const fixtures: string[] = []
    const noResponse: string[] = []
    let pairs = 0
    let identical = 0
    for (const { apiKey, minVersion, maxVersion } of advertised.sort((a, b) => a.apiKey - b.apiKey)) {
      if (!hasApi(apiKey)) {
        t.fail(`the broker advertises API key ${apiKey}, which the codec does not know`)
        continue
      }
      const api = getApi(apiKey)
      const lo = Math.max(minVersion, api.minVersion)
      const hi = Math.min(maxVersion, api.maxVersion)
      if (lo > hi) {
        t.fail(`${api.name}: broker ${minVersion}-${maxVersion} and codec ${api.minVersion}-${api.maxVersion} share no version`)
        continue
      }
      for (const version of lo === hi ? [lo] : [lo, hi]) {
        const label = `${api.name} v${version}`
        pairs++
        const body = interopRequest(apiKey, version, ctx)
        const { request, response, correlationId } = await ex.call(apiKey, version, body)
        // our own request survives decode/encode too
        const req = decodeRequest(request.subarray(4))
        t.same(Buffer.concat(encodeRequest(req.header, req.body)), request, `${label} request re-encodes identically`)
        if (response === null) {
          noResponse.push(label)
          continue
        }
        const decoded = decodeResponse(response, apiKey, version)
        t.equal(decoded.header.correlationId, correlationId, `${label} correlation id`)
        const again = Buffer.concat(encodeResponse(apiKey, version, decoded.header, decoded.body))
        const framed = Buffer.concat([Buffer.from([0, 0, 0, 0]), response])
        framed.writeInt32BE(response.length, 0)
        const diff = firstDifference(again, framed)
        if (diff === -1) identical++
        t.equal(diff, -1, `${label} response (${response.length} bytes) re-encodes byte for byte`)
        if (capture) {
          fixtures.push(JSON.stringify({ apiKey, name: api.name, version, request: request.toString('base64'), response: framed.toString('base64') }))
        }
      }
    }
    t.comment(`interop (${brokers} node(s)): ${pairs} (API, version) pairs over ${advertised.length} advertised API keys; ` +
      `${identical} responses re-encoded byte for byte; no response: ${noResponse.length ? noResponse.join(', ') : 'none'}`)
    t.same(noResponse, [], 'the broker answered every request')
    if (capture && brokers === 1) {
      mkdirSync(fixtureDir, { recursive: true })
      writeFileSync(join(fixtureDir, `kafka-${KAFKA_VERSION}.jsonl`), fixtures.join('\n') + '\n')
      t.comment(`wrote ${fixtures.length} frame pairs to ${fixtureDir}`)
    }
  })
}
