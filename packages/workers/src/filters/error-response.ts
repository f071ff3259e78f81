// The responses kproxy makes itself when it answers a request with an error instead of the
// upstream: a request denied by policy, a filter's `respondWithError`, a filter that failed or held
// a request too long. The client gets a proper Kafka error where it looks for one, instead of a
// dropped connection (Envoy closes it).
//
// - Responses with a top-level errorCode in that version get the API's natural authorization
//   error there: GROUP_AUTHORIZATION_FAILED (30) for group APIs, TRANSACTIONAL_ID_AUTHORIZATION_
//   FAILED (53) for transaction APIs, CLUSTER_AUTHORIZATION_FAILED (31) otherwise.
// - The main APIs without one get per-entity errors mirroring the request:
//     Produce, Fetch (v4-6), ListOffsets: every partition TOPIC_AUTHORIZATION_FAILED (29)
//     Metadata: every requested topic 29 (brokers: the advertised ones, so the client stays usable)
//     OffsetCommit: every partition GROUP_AUTHORIZATION_FAILED (30)
//     OffsetFetch v1: every partition 30 (v2+ top-level, v8+ per group)
//     CreateTopics, DeleteTopics: every topic 29
// - Anything else (no error field anywhere a client would look) returns null: the caller closes
//   the connection with KPROXY_ERR_DENIED_NO_RESPONSE, as Envoy does.
// Slow path: only denied requests come here, so the request is decoded in full.
import { decodeRequest, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { inVersions } from '@kproxy/core/protocol/entity-walk'

const EMPTY_RECORDS = Buffer.alloc(0)

export const TOPIC_AUTHORIZATION_FAILED = 29
export const GROUP_AUTHORIZATION_FAILED = 30
export const CLUSTER_AUTHORIZATION_FAILED = 31
export const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53

// Group coordinator APIs: FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup,
// DescribeGroups, ListGroups, DeleteGroups, OffsetDelete, ConsumerGroupHeartbeat/Describe,
// ShareGroupHeartbeat/Describe, StreamsGroupHeartbeat/Describe.
const GROUP_APIS = new Set([8, 9, 10, 11, 12, 13, 14, 15, 16, 42, 47, 68, 69, 76, 77, 88, 89])
// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit
const TXN_APIS = new Set([22, 24, 25, 26, 28])

export function naturalAuthorizationError (apiKey: number): number {
  if (GROUP_APIS.has(apiKey)) return GROUP_AUTHORIZATION_FAILED
  if (TXN_APIS.has(apiKey)) return TRANSACTIONAL_ID_AUTHORIZATION_FAILED
  return CLUSTER_AUTHORIZATION_FAILED
}

export { inVersions }

export interface DeniedResponse {
  frame: Buffer[] // size prefix included
  errorCode: number
}

export interface AdvertisedBroker { nodeId: number, host: string, port: number }

type Struct = (name: string) => any

// The part of a request an error response is built from.
export interface ErroredRequest {
  apiKey: number
  apiVersion: number
  correlationId: number
  body: unknown
}

// Per-entity error bodies; each returns the error code it used, or null when it filled nothing
// (-1 is a real code: UNKNOWN_SERVER_ERROR).
function perEntity (req: ErroredRequest, body: any, version: number, s: Struct, brokers: readonly AdvertisedBroker[], entityError: number, message: string | null): number | null {
  const rq = req.body as any
  const topicError = entityError === AUTHORIZATION ? TOPIC_AUTHORIZATION_FAILED : entityError
  const groupError = entityError === AUTHORIZATION ? GROUP_AUTHORIZATION_FAILED : entityError
  switch (req.apiKey) {
    case 0: // Produce
      body.responses = rq.topicData.map((t: any) => ({
        ...s('TopicProduceResponse'),
        name: t.name,
        topicId: t.topicId,
        partitionResponses: t.partitionData.map((p: any) => ({ ...s('PartitionProduceResponse'), index: p.index, errorCode: topicError }))
      }))
      return topicError
    case 1: // Fetch (v7+ also has the top-level errorCode)
      body.responses = rq.topics.map((t: any) => ({
        ...s('FetchableTopicResponse'),
        topic: t.topic,
        topicId: t.topicId,
        // as a broker writes an error partition: no high watermark, empty (not null) records
        partitions: t.partitions.map((p: any) => ({ ...s('PartitionData'), partitionIndex: p.partition, errorCode: topicError, highWatermark: -1n, records: EMPTY_RECORDS }))
      }))
      return topicError
    case 2: // ListOffsets
      body.topics = rq.topics.map((t: any) => ({
        ...s('ListOffsetsTopicResponse'),
        name: t.name,
        partitions: t.partitions.map((p: any) => ({ ...s('ListOffsetsPartitionResponse'), partitionIndex: p.partitionIndex, errorCode: topicError }))
      }))
      return topicError
    case 3: // Metadata
      body.brokers = brokers.map(b => ({ ...s('MetadataResponseBroker'), nodeId: b.nodeId, host: b.host, port: b.port }))
      body.topics = (rq.topics ?? []).map((t: any) => ({ ...s('MetadataResponseTopic'), name: t.name, topicId: t.topicId, errorCode: topicError }))
      return topicError
    case 8: // OffsetCommit
      body.topics = rq.topics.map((t: any) => ({
        ...s('OffsetCommitResponseTopic'),
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.map((p: any) => ({ ...s('OffsetCommitResponsePartition'), partitionIndex: p.partitionIndex, errorCode: groupError }))
      }))
      return groupError
    case 9: // OffsetFetch
      if (version >= 8) {
        body.groups = rq.groups.map((g: any) => ({ ...s('OffsetFetchResponseGroup'), groupId: g.groupId, errorCode: groupError }))
      } else {
        body.topics = (rq.topics ?? []).map((t: any) => ({
          ...s('OffsetFetchResponseTopic'),
          name: t.name,
          partitions: t.partitionIndexes.map((i: number) => ({ ...s('OffsetFetchResponsePartition'), partitionIndex: i, errorCode: groupError }))
        }))
      }
      return groupError
    case 19: // CreateTopics
      body.topics = rq.topics.map((t: any) => ({ ...s('CreatableTopicResult'), name: t.name, errorCode: topicError, errorMessage: message ?? 'denied by kproxy policy' }))
      return topicError
    case 20: { // DeleteTopics
      const names: any[] = version >= 6 ? rq.topics : rq.topicNames.map((name: string) => ({ name }))
      body.responses = names.map((t: any) => ({ ...s('DeletableTopicResult'), name: t.name ?? null, topicId: t.topicId ?? s('DeletableTopicResult').topicId, errorCode: topicError }))
      return topicError
    }
    default:
      return null
  }
}

// `payload` is the whole request (after the size prefix). Returns null when kproxy has no
// sensible response for this API. Throws KproxyError (KPROXY_ERR_DECODE) on a malformed request.
export function deniedResponse (payload: Buffer, brokers: readonly AdvertisedBroker[]): DeniedResponse | null {
  const req = decodeRequest(payload)
  return errorResponse({ apiKey: req.apiKey, apiVersion: req.apiVersion, correlationId: req.header.correlationId, body: req.body }, AUTHORIZATION, 'denied by kproxy policy', brokers)
}

// Pass as errorCode: each place gets the authorization error natural to it (topic, group,
// transactional id, cluster), as a broker's authorizer answers.
export const AUTHORIZATION = -1000

// A response to `req` that carries `errorCode` (or AUTHORIZATION) at the top level where the
// version has one, and per topic / partition / group for the main APIs. null when the response
// has no error field anywhere a client would look: the caller closes the connection.
export function errorResponse (req: ErroredRequest, errorCode: number, message: string | null, brokers: readonly AdvertisedBroker[]): DeniedResponse | null {
  const api = getApi(req.apiKey)
  const version = req.apiVersion
  const codec = api.response
  const body = codec.create() as any
  const s: Struct = name => codec.structs[name]!()
  let used: number | null = null
  const top = codec.schema.fields.find(f => f.prop === 'errorCode')
  if (top !== undefined && inVersions(top.versions, version)) {
    used = errorCode === AUTHORIZATION ? naturalAuthorizationError(req.apiKey) : errorCode
    body.errorCode = used
    if (message !== null && codec.schema.fields.some(f => f.prop === 'errorMessage' && inVersions(f.versions, version))) {
      body.errorMessage = message
    }
  }
  const entity = perEntity(req, body, version, s, brokers, errorCode, message)
  if (entity !== null && used === null) used = entity
  if (used === null) return null
  const frame = encodeResponse(req.apiKey, version, { correlationId: req.correlationId }, body, 'decodable')
  return { frame, errorCode: used }
}

// Sets every errorCode in a decoded response (top level and every nested entity) to `errorCode`:
// how kproxy fails a request whose upstream answer it cannot hand on (a response filter failed).
export function failEverything (body: unknown, errorCode: number): void {
  if (Array.isArray(body)) {
    for (const item of body) failEverything(item, errorCode)
    return
  }
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return
  const o = body as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (key === 'errorCode' && typeof o[key] === 'number') o[key] = errorCode
    else if (typeof o[key] === 'object') failEverything(o[key], errorCode)
  }
}
