// Every bridged (API, version) — what Kafka 3.9.2 had and 4.3.1 dropped — sent on the wire to a
// real Kafka 4.3.1: straight at the broker it is refused (the connection closed, or
// UNSUPPORTED_VERSION); through `kproxy serve --version-bridge` the answer comes back at the
// client's version, decodes, and carries no UNSUPPORTED_VERSION. Then the semantics the bridge
// must keep: a ZooKeeper-era OffsetCommit v0 is read back by OffsetFetch v0 (once the cluster
// has a group coordinator: old clients never asked for one), ListOffsets v0
// answers oldStyleOffsets, DescribeConfigs v0 says isDefault, Produce v0-2 offsets and Fetch
// v0-3 message sets line up.
import t from 'tap'
import { BRIDGED_APIS, ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { encodeMessageSet } from '@kproxy/core/protocol/message-set-encode'
import { readMessageSet } from '@kproxy/core/protocol/message-set'
import { COMPRESSION_GZIP } from '@kproxy/core/protocol/compression'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'
import { WireConnection } from '../helpers/wire-connection.ts'
import { interopRequest } from '../helpers/interop-requests.ts'

const UNSUPPORTED_VERSION = 35

// every errorCode in a decoded body
function errorCodes (body: unknown, out: number[] = []): number[] {
  if (Array.isArray(body)) for (const x of body) errorCodes(x, out)
  else if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    for (const [k, v] of Object.entries(body)) {
      if (k === 'errorCode' && typeof v === 'number') out.push(v)
      else errorCodes(v, out)
    }
  }
  return out
}

let correlation = 1

async function ask (host: string, port: number, apiKey: number, version: number, body: unknown): Promise<{ closed: boolean, body: any }> {
  const conn = await WireConnection.open(host, port)
  try {
    const correlationId = correlation++
    conn.send(encodeRequest({ apiKey, apiVersion: version, correlationId, clientId: 'bridge-wire' }, body, 'decodable'))
    const frame = await conn.nextFrame(20_000)
    if (frame === null) return { closed: true, body: null }
    const decoded = decodeResponse(frame, apiKey, version, 'decodable')
    if (decoded.header.correlationId !== correlationId) throw new Error('correlation id mismatch')
    return { closed: false, body: decoded.body }
  } finally {
    conn.close()
  }
}

function split (hp: string): [string, number] {
  const i = hp.lastIndexOf(':')
  return [hp.slice(0, i), Number(hp.slice(i + 1))]
}

t.test('every bridged version against Kafka 4.3.1, straight and through the bridge', { skip: hasKcat() ? false : 'kcat not installed', timeout: 600_000 }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 1 })
  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--version-bridge'] })
  const unique = String(Date.now())
  const topic = `bridge-wire-${unique}`
  const made = await kcat(['-P', '-b', cluster.bootstrap, '-t', topic], { input: 'a\nb\nc\n' })
  t.equal(made.code, 0, made.stderr)
  const [bh, bp] = split(cluster.bootstrap)
  // broker 1 itself (the bootstrap port stands for it in a 1-node sandbox)
  const [kh, kp] = split(kproxy.bootstrap)
  const records = encodeMessageSet({ magic: 1, compression: COMPRESSION_GZIP, messages: [{ timestamp: BigInt(Date.now()), key: Buffer.from('k'), value: Buffer.from('v') }] })
  const recordsV0 = encodeMessageSet({ magic: 0, messages: [{ value: Buffer.from('v0') }] })

  const bodyFor = (apiKey: number, version: number): any => {
    const body = interopRequest(apiKey, version, { topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', records: version < 2 ? recordsV0 : records, unique: `${unique}-${apiKey}-${version}` })
    const rq = getApi(apiKey).request
    const s = (name: string): any => rq.structs[name]!()
    switch (apiKey) {
      case ApiKey.OffsetCommit:
        body.groupId = `bridge-wire-group-${version}-${unique}`
        body.topics = [{ ...s('OffsetCommitRequestTopic'), name: topic, partitions: [{ ...s('OffsetCommitRequestPartition'), partitionIndex: 0, committedOffset: 2n, committedMetadata: 'zk-era' }] }]
        break
      case ApiKey.OffsetFetch:
        body.groupId = `bridge-wire-group-0-${unique}`
        body.topics = [{ ...s('OffsetFetchRequestTopic'), name: topic, partitionIndexes: [0] }]
        break
      case ApiKey.DeleteTopics:
        body.topicNames = [`bridge-wire-absent-${unique}`]
        body.timeoutMs = 10_000
        break
      case ApiKey.OffsetForLeaderEpoch:
        body.topics = [{ ...s('OffsetForLeaderTopic'), topic, partitions: [{ ...s('OffsetForLeaderPartition'), partition: 0, leaderEpoch: 0 }] }]
        break
      case ApiKey.ListOffsets:
        body.topics[0].partitions[0].maxNumOffsets = 1
        break
    }
    return body
  }

  // ZooKeeper-era clients never asked for a coordinator; on a fresh Kafka 4 cluster
  // __consumer_offsets does not exist until someone does (until then: NOT_COORDINATOR), and once
  // it does, the coordinator still loads it for a while (NOT_COORDINATOR or
  // COORDINATOR_LOAD_IN_PROGRESS on a loaded machine). So each group's commit is repeated through
  // the bridge until the coordinator takes it; the loop below then commits the same offset again.
  const COORDINATOR_NOT_READY = new Set([14, 15, 16])
  for (const version of [0, 1]) {
    const key = `bridge-wire-group-${version}-${unique}`
    const deadline = Date.now() + 90_000
    let codes: number[] = []
    for (;;) {
      const found = await ask(kh, kp, ApiKey.FindCoordinator, 0, { ...getApi(ApiKey.FindCoordinator).request.create(), key })
      if (found.body?.errorCode === 0) {
        const committed = await ask(kh, kp, ApiKey.OffsetCommit, version, bodyFor(ApiKey.OffsetCommit, version))
        codes = errorCodes(committed.body)
        if (!committed.closed && !codes.some(c => COORDINATOR_NOT_READY.has(c))) break
      }
      if (Date.now() > deadline) break
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    t.same(codes, [0], `OffsetCommit v${version}: the group coordinator of ${key} takes a commit through the bridge`)
  }

  const results: string[] = []
  for (const a of BRIDGED_APIS) {
    for (let v = a.bridgedMinVersion; v <= a.bridgedMaxVersion; v++) {
      const what = `${a.name} v${v}`
      const direct = await ask(bh, bp, a.apiKey, v, bodyFor(a.apiKey, v))
      const refused = direct.closed || errorCodes(direct.body).includes(UNSUPPORTED_VERSION)
      t.ok(refused, `${what}: Kafka 4.3.1 refuses it (${direct.closed ? 'connection closed' : 'UNSUPPORTED_VERSION'})`)
      const bridged = await ask(kh, kp, a.apiKey, v, bodyFor(a.apiKey, v))
      t.notOk(bridged.closed, `${what}: answered through the bridge`)
      t.notOk(errorCodes(bridged.body).includes(UNSUPPORTED_VERSION), `${what}: no UNSUPPORTED_VERSION`)
      results.push(`${what}: errors [${[...new Set(errorCodes(bridged.body))].join(',')}]`)
      if (bridged.body === null) continue
      // what the bridge must keep, API by API
      if (a.apiKey === ApiKey.Produce) {
        const p = bridged.body.responses[0].partitionResponses[0]
        t.equal(p.errorCode, 0, `${what}: stored`)
        t.ok(p.baseOffset >= 3n, `${what}: at offset ${p.baseOffset}`)
      }
      if (a.apiKey === ApiKey.Fetch) {
        const set = readMessageSet(bridged.body.responses[0].partitions[0].records)
        t.same(set.messages.slice(0, 3).map(m => m.value?.toString()), ['a', 'b', 'c'], `${what}: kcat's records as a magic v${v < 2 ? 0 : 1} message set`)
        t.ok(set.messages.every(m => m.magic === (v < 2 ? 0 : 1)))
      }
      if (a.apiKey === ApiKey.ListOffsets) {
        t.same(bridged.body.topics[0].partitions[0].oldStyleOffsets.length, 1, `${what}: one old-style offset`)
      }
      if (a.apiKey === ApiKey.DescribeConfigs) {
        const retention = bridged.body.results[0].configs.find((c: any) => c.name === 'retention.ms')
        t.equal(retention?.isDefault, true, `${what}: isDefault from the config source`)
      }
    }
  }
  t.comment(results.join('\n'))

  // a ZooKeeper-era commit (OffsetCommit v0) is kept by the group coordinator and read back by
  // OffsetFetch v0, also through a connection of its own
  const fetched = await ask(kh, kp, ApiKey.OffsetFetch, 0, bodyFor(ApiKey.OffsetFetch, 0))
  const partition = fetched.body.topics[0].partitions[0]
  t.same([partition.errorCode, partition.committedOffset, partition.metadata], [0, 2n, 'zk-era'], 'OffsetCommit v0 -> OffsetFetch v0 round trip')
})
