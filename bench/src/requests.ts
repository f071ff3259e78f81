// The requests the generator sends, encoded with core's codec, and the setup steps built on them
// (Metadata, CreateTopics, ListOffsets). Versions are fixed, all supported by Kafka 3.x and 4.x,
// and the topic-name (not topic-id) forms, so one request works for every broker of that range.
import { KproxyError } from '@kproxy/core/kproxy-error'
import { decodeResponse, encodeRequest } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { errorByCode } from '@kproxy/core/protocol/codec'
import type { SetupConnection } from './connection.ts'

export const VERSIONS = { produce: 9, fetch: 12, listOffsets: 7, metadata: 12, apiVersions: 3, createTopics: 7 } as const
let CLIENT_ID = 'kproxy-bench'

// --client-id; set before any request is encoded (templates included), in every thread
export function setClientId (clientId: string): void {
  CLIENT_ID = clientId
}

export interface PartitionLeader { partition: number, leaderId: number, host: string, port: number }

function errorName (code: number): string {
  return errorByCode(code)?.name ?? `error ${code}`
}

// One frame as a single buffer whose bytes 8..11 are the correlation id (size:int32 apiKey:int16
// apiVersion:int16 correlationId:int32), so the hot path can stamp a fresh id into a small copy of
// the head and reuse the body.
export function frameTemplate (chunks: readonly Buffer[]): Buffer {
  return Buffer.concat(chunks)
}

export function encodeApiVersions (correlationId: number): Buffer[] {
  return encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: VERSIONS.apiVersions, correlationId, clientId: CLIENT_ID },
    { clientSoftwareName: 'kproxy-bench', clientSoftwareVersion: '0.1.0' })
}

export function encodeMetadata (correlationId: number, topics: readonly string[] | null): Buffer[] {
  return encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: VERSIONS.metadata, correlationId, clientId: CLIENT_ID }, {
    topics: topics === null ? null : topics.map(name => ({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name })),
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false
  })
}

// A batch of `count` records of `size` bytes each (no key), uncompressed.
export function makeRecordBatch (count: number, size: number): Buffer {
  const value = Buffer.alloc(size, 0x61)
  const records = []
  for (let i = 0; i < count; i++) records.push({ value })
  return encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records })
}

export function encodeProduce (correlationId: number, topic: string, partition: number, acks: number, batch: Buffer): Buffer[] {
  return encodeRequest({ apiKey: ApiKey.Produce, apiVersion: VERSIONS.produce, correlationId, clientId: CLIENT_ID }, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: partition, records: batch }] }]
  })
}

// The throttle time (ms) of the last Produce response produceError() read.
export let lastProduceThrottleMs = 0

// First Kafka error in a Produce response, or 0.
export function produceError (payload: Buffer): number {
  const { body } = decodeResponse(payload, ApiKey.Produce, VERSIONS.produce)
  lastProduceThrottleMs = body.throttleTimeMs
  for (const t of body.responses) for (const p of t.partitionResponses) if (p.errorCode !== 0) return p.errorCode
  return 0
}

export function encodeFetch (correlationId: number, topic: string, partitions: readonly number[], offsets: readonly bigint[], maxBytes: number): Buffer[] {
  return encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: VERSIONS.fetch, correlationId, clientId: CLIENT_ID }, {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 100,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: partitions.map((partition, i) => ({
        partition,
        currentLeaderEpoch: -1,
        fetchOffset: offsets[i],
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: Math.min(maxBytes, 1 << 20),
        replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
        highWatermark: -1n
      }))
    }],
    forgottenTopicsData: [],
    rackId: ''
  })
}

export async function fetchMetadata (conn: SetupConnection, topic: string | null): Promise<{ brokers: Map<number, { host: string, port: number }>, partitions: PartitionLeader[], errorCode: number }> {
  const payload = await conn.request(id => encodeMetadata(id, topic === null ? [] : [topic]), 'Metadata')
  const { body } = decodeResponse(payload, ApiKey.Metadata, VERSIONS.metadata)
  const brokers = new Map(body.brokers.map(b => [b.nodeId, { host: b.host, port: b.port }]))
  const partitions: PartitionLeader[] = []
  let errorCode = 0
  for (const t of body.topics) {
    if (t.errorCode !== 0) errorCode = t.errorCode
    for (const p of t.partitions) {
      const b = brokers.get(p.leaderId)
      if (p.errorCode !== 0 || b === undefined) { errorCode = p.errorCode !== 0 ? p.errorCode : 5; continue }
      partitions.push({ partition: p.partitionIndex, leaderId: p.leaderId, host: b.host, port: b.port })
    }
  }
  partitions.sort((a, b) => a.partition - b.partition)
  return { brokers, partitions, errorCode }
}

// Creates the topic (an existing one with that many partitions is fine) and waits until every
// partition has a leader in Metadata.
export async function ensureTopic (conn: SetupConnection, topic: string, partitions: number, replicationFactor = 1, timeoutMs = 20_000): Promise<PartitionLeader[]> {
  const payload = await conn.request(id => encodeRequest({ apiKey: ApiKey.CreateTopics, apiVersion: VERSIONS.createTopics, correlationId: id, clientId: CLIENT_ID }, {
    topics: [{ name: topic, numPartitions: partitions, replicationFactor, assignments: [], configs: [] }],
    timeoutMs: 15_000,
    validateOnly: false
  }), 'CreateTopics', 20_000)
  const { body } = decodeResponse(payload, ApiKey.CreateTopics, VERSIONS.createTopics)
  const result = body.topics[0]
  // 36 TOPIC_ALREADY_EXISTS
  if (result !== undefined && result.errorCode !== 0 && result.errorCode !== 36) {
    throw new KproxyError('KPROXY_ERR_BENCH_SETUP', `Cannot create topic '${topic}': ${errorName(result.errorCode)}${result.errorMessage !== null ? ` (${result.errorMessage})` : ''}.`)
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const md = await fetchMetadata(conn, topic)
    if (md.errorCode === 0 && md.partitions.length >= partitions) return md.partitions
    if (Date.now() > deadline) {
      throw new KproxyError('KPROXY_ERR_BENCH_SETUP', `Topic '${topic}' has no leader for all ${partitions} partitions after ${timeoutMs} ms (${errorName(md.errorCode)}).`)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

// End offsets (log end, timestamp -1) of the given partitions, asked of one broker. Retriable
// errors (a partition of a topic created a moment ago may not be loaded yet) are retried for 10 s.
export async function endOffsets (conn: SetupConnection, topic: string, partitions: readonly number[], timeoutMs = 10_000): Promise<Map<number, bigint>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const payload = await conn.request(id => encodeRequest({ apiKey: ApiKey.ListOffsets, apiVersion: VERSIONS.listOffsets, correlationId: id, clientId: CLIENT_ID }, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: partitions.map(p => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n })) }],
      timeoutMs: 10_000
    }), 'ListOffsets')
    const { body } = decodeResponse(payload, ApiKey.ListOffsets, VERSIONS.listOffsets)
    const out = new Map<number, bigint>()
    let failure: { partition: number, code: number } | null = null
    for (const t of body.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) failure ??= { partition: p.partitionIndex, code: p.errorCode }
        else out.set(p.partitionIndex, p.offset)
      }
    }
    if (failure === null) return out
    if (errorByCode(failure.code)?.retriable !== true || Date.now() > deadline) {
      throw new KproxyError('KPROXY_ERR_BENCH_SETUP', `ListOffsets for ${topic}-${failure.partition} failed: ${errorName(failure.code)}.`)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}
