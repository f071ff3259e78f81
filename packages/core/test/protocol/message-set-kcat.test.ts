// Real old-client bytes for the bridged codecs and the old message formats: kcat (librdkafka) with
// `api.version.request=false` and `broker.version.fallback` 0.9.0.1 or 0.10.0.0 speaks the
// versions Kafka 4 dropped (Produce v1/v2 with message format v0/v1, ListOffsets v0, Fetch v1/v2).
// A loopback listener answers it with kproxy's own codecs at those versions ('decodable' scope):
// the producer's message sets must convert into v2 batches holding its keys and values, and the
// consumer must print the records of a real Kafka 4.3.1 segment converted to v0/v1.
// This checks the codecs against a client written by others; it is not the version bridge (that
// is a filter in front of a real Kafka 4, tested with real clients on the sandbox).
// Skipped when kcat is not installed.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import { decodeRequest, encodeResponse, getApi } from '../../src/protocol/codec.ts'
import type { DecodedRequest } from '../../src/protocol/codec.ts'
import { readMessageSet, recordsMagic } from '../../src/protocol/message-set.ts'
import { messageFormatOf, messageSetToRecordBatch, recordBatchesToMessageSet } from '../../src/protocol/record-format-convert.ts'
import { isControlBatch, readBatches } from '../../src/protocol/record-batch.ts'
import { decodeRecordBatch, recordOffset } from '../../src/protocol/record-batch-records.ts'
import { segment } from '../fixtures/records/fixtures.ts'

const skip = spawnSync('kcat', ['-V']).error !== undefined ? 'kcat is not installed' : false
const TOPIC = 'old'

interface Listener {
  port: number
  requests: DecodedRequest[]
  close: () => Promise<void>
}

// Answers ApiVersions (as a 0.10.0 broker), Metadata (one broker: itself, one partition), Produce,
// ListOffsets and Fetch at whatever version kcat sends, from `log` (v2 batches, converted to the fetcher's message format).
async function listen (log: Buffer): Promise<Listener> {
  const requests: DecodedRequest[] = []
  const sockets = new Set<Socket>()
  let port = 0
  const highWatermark = (() => {
    let hw = 0n
    for (const { header } of readBatches(log).batches) hw = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n
    return hw
  })()
  const answer = (req: DecodedRequest): Buffer[] | null => {
    const v = req.apiVersion
    const header = { correlationId: req.header.correlationId }
    const api = getApi(req.apiKey)
    const s = api.response.structs
    if (req.apiKey === ApiKey.Metadata) {
      const body = api.response.create()
      body.brokers = [{ ...s.MetadataResponseBroker(), nodeId: 1, host: '127.0.0.1', port }]
      body.controllerId = 1
      body.topics = [{ ...s.MetadataResponseTopic(), name: TOPIC, partitions: [{ ...s.MetadataResponsePartition(), partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] }]
      return encodeResponse(req.apiKey, v, header, body, 'decodable')
    }
    if (req.apiKey === ApiKey.Produce) {
      if (req.body.acks === 0) return null
      const body = api.response.create()
      body.responses = req.body.topicData.map(td => ({ ...s.TopicProduceResponse(), name: td.name, partitionResponses: td.partitionData.map(p => ({ ...s.PartitionProduceResponse(), index: p.index, baseOffset: 0n })) }))
      return encodeResponse(req.apiKey, v, header, body, 'decodable')
    }
    if (req.apiKey === ApiKey.ListOffsets) {
      const body = api.response.create()
      body.topics = req.body.topics.map(tp => ({
        ...s.ListOffsetsTopicResponse(),
        name: tp.name,
        partitions: tp.partitions.map(p => {
          const at = p.timestamp === -2n ? 0n : highWatermark
          return { ...s.ListOffsetsPartitionResponse(), partitionIndex: p.partitionIndex, oldStyleOffsets: [at], offset: at, timestamp: -1n }
        })
      }))
      return encodeResponse(req.apiKey, v, header, body, 'decodable')
    }
    if (req.apiKey === ApiKey.Fetch) {
      const body = api.response.create()
      const magic = messageFormatOf(ApiKey.Fetch, v)
      body.responses = req.body.topics.map(ft => ({
        ...s.FetchableTopicResponse(),
        topic: ft.topic,
        partitions: ft.partitions.map(p => {
          // the batches from the fetch offset on, converted to the client's message format
          const batches = readBatches(log).batches.filter(b => b.header.baseOffset + BigInt(b.header.lastOffsetDelta) >= p.fetchOffset)
          const blob = Buffer.concat(batches.map(b => b.bytes))
          return { ...s.PartitionData(), partitionIndex: p.partition, highWatermark, records: recordBatchesToMessageSet(blob, magic) }
        })
      }))
      return encodeResponse(req.apiKey, v, header, body, 'decodable')
    }
    if (req.apiKey === ApiKey.ApiVersions) {
      // librdkafka asks anyway when the fallback is 0.10+: answer as a Kafka 0.10.0 broker would
      const body = api.response.create()
      body.apiKeys = [[ApiKey.Produce, 2], [ApiKey.Fetch, 2], [ApiKey.ListOffsets, 0], [ApiKey.Metadata, 1], [ApiKey.OffsetCommit, 2],
        [ApiKey.OffsetFetch, 1], [ApiKey.FindCoordinator, 0], [ApiKey.JoinGroup, 0], [ApiKey.Heartbeat, 0], [ApiKey.LeaveGroup, 0],
        [ApiKey.SyncGroup, 0], [ApiKey.DescribeGroups, 0], [ApiKey.ListGroups, 0], [ApiKey.SaslHandshake, 0], [ApiKey.ApiVersions, 0]]
        .map(([apiKey, maxVersion]) => ({ ...s.ApiVersion(), apiKey, minVersion: 0, maxVersion }))
      return encodeResponse(req.apiKey, v, header, body)
    }
    throw new Error(`unexpected ${api.name} v${v}`)
  }
  const server = createServer(socket => {
    sockets.add(socket)
    let pending = Buffer.alloc(0)
    socket.on('data', chunk => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const payload = pending.subarray(4, 4 + pending.readInt32BE(0))
        pending = pending.subarray(4 + payload.length)
        const req = decodeRequest(payload, 'decodable')
        requests.push(req)
        const out = answer(req)
        if (out !== null) for (const c of out) socket.write(c)
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
  return {
    port,
    requests,
    close: () => new Promise(resolve => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}

function kcat (args: string[], input: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(input)
  })
}

const OLD = (fallback: string): string[] => ['-X', 'api.version.request=false', '-X', `broker.version.fallback=${fallback}`]
const LINES = ['k1\tfirst value', 'k2\t' + 'long value '.repeat(40), 'k3\tü€ third', '\tno key']

t.test('old producers: kcat sends Produce v1 (format v0) and v2 (format v1); each message set becomes one v2 batch', { skip }, async t => {
  for (const [fallback, version, magic] of [['0.9.0.1', 1, 0], ['0.10.0.0', 2, 1]] as const) {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4']) {
      const listener = await listen(Buffer.alloc(0))
      const what = `broker.version.fallback=${fallback} -z ${codec}`
      const run = await kcat(['-P', '-b', `127.0.0.1:${listener.port}`, '-t', TOPIC, '-p', '0', '-K', '\t', '-z', codec, '-X', 'linger.ms=50', ...OLD(fallback)], LINES.join('\n') + '\n')
      await listener.close()
      t.equal(run.code, 0, `${what}: kcat delivered (${run.stderr.trim().slice(0, 200)})`)
      const produces = listener.requests.filter(r => r.apiKey === ApiKey.Produce)
      t.ok(produces.length >= 1 && produces.every(r => r.apiVersion === version), `${what}: Produce v${version}`)
      const records: Array<[string | null, string]> = []
      for (const r of produces) {
        if (r.apiKey !== ApiKey.Produce) continue
        for (const td of r.body.topicData) {
          for (const p of td.partitionData) {
            t.equal(recordsMagic(p.records), magic, `${what}: message format v${magic}`)
            const sent = readMessageSet(p.records as Buffer, { strictOffsets: false }).messages[0].compression
            t.equal(sent, ['none', 'gzip', 'snappy', 'lz4'].indexOf(codec), `${what}: kcat compressed with ${codec}`)
            const batch = messageSetToRecordBatch(p.records as Buffer)
            const d = decodeRecordBatch(batch)
            t.equal(d.header.attributes & 7, sent, `${what}: the batch keeps the codec of the wrappers`)
            if (magic === 0) t.equal(d.header.maxTimestamp, -1n, `${what}: no timestamps in format v0`)
            else t.ok(d.header.maxTimestamp > 1_600_000_000_000n, `${what}: kcat's create time kept`)
            for (const rec of d.records) records.push([rec.key === null || rec.key.length === 0 ? null : rec.key.toString(), rec.value?.toString() ?? ''])
          }
        }
      }
      t.same(records, LINES.map(l => { const [k, v] = l.split('\t'); return [k === '' ? null : k, v] }), `${what}: keys, values and order`)
    }
  }
})

t.test('old consumers: kcat reads a real Kafka 4.3.1 segment converted to format v0 (Fetch v1) and v1 (Fetch v2)', { skip }, async t => {
  for (const name of ['java-none', 'java-gzip', 'java-snappy', 'java-lz4', 'java-zstd', 'kcat-lz4']) {
    const log = segment(name)
    const expected: string[] = []
    for (const { bytes } of readBatches(log).batches) {
      const d = decodeRecordBatch(bytes)
      if (isControlBatch(d.header)) continue
      // kcat prints a null key or value as nothing
      for (const r of d.records) expected.push(`${recordOffset(d.header, r)}|${r.key?.toString('hex') ?? ''}|${r.value?.toString('hex') ?? ''}`)
    }
    for (const [fallback, fetchVersion] of [['0.9.0.1', 1], ['0.10.0.0', 2]] as const) {
      const listener = await listen(log)
      const what = `${name}, broker.version.fallback=${fallback}`
      const run = await kcat(['-C', '-b', `127.0.0.1:${listener.port}`, '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q',
        '-f', '%o|%k|%s\\n', ...OLD(fallback)], '')
      await listener.close()
      t.equal(run.code, 0, `${what}: kcat read to the end (${run.stderr.trim().slice(0, 300)})`)
      t.ok(listener.requests.some(r => r.apiKey === ApiKey.Fetch && r.apiVersion === fetchVersion), `${what}: Fetch v${fetchVersion}`)
      t.ok(listener.requests.some(r => r.apiKey === ApiKey.ListOffsets && r.apiVersion === 0), `${what}: ListOffsets v0`)
      // kcat prints keys and values as text: compare the hex of what it printed, line by line
      const printed = run.stdout.split('\n').filter(l => l !== '').map(l => {
        const [o, k, ...v] = l.split('|')
        return `${o}|${Buffer.from(k).toString('hex')}|${Buffer.from(v.join('|')).toString('hex')}`
      })
      t.same(printed, expected, `${what}: every record, in order`)
    }
  }
})
