// The response kproxy synthesises for a request its API key policy denies, so that the client
// gets a proper Kafka error instead of a dropped connection (Envoy closes it).
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
import type { DecodedRequest } from '@kproxy/core/protocol/codec'

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

// "0+", "2-7", "3", "none" / "" as in Kafka's definitions.
export function inVersions (spec: string | undefined, v: number): boolean {
  if (spec === undefined || spec === '' || spec === 'none') return false
  if (spec.endsWith('+')) return v >= Number(spec.slice(0, -1))
  const dash = spec.indexOf('-')
  if (dash > 0) return v >= Number(spec.slice(0, dash)) && v <= Number(spec.slice(dash + 1))
  return v === Number(spec)
}

export interface DeniedResponse {
  frame: Buffer[] // size prefix included
  errorCode: number
}

export interface AdvertisedBroker { nodeId: number, host: string, port: number }

type Struct = (name: string) => any

// Per-entity error bodies; each returns the error code it used, or -1 when it filled nothing.
function perEntity (req: DecodedRequest, body: any, version: number, s: Struct, brokers: readonly AdvertisedBroker[]): number {
  const rq = req.body as any
  switch (req.apiKey) {
    case 0: // Produce
      body.responses = rq.topicData.map((t: any) => ({
        ...s('TopicProduceResponse'),
        name: t.name,
        topicId: t.topicId,
        partitionResponses: t.partitionData.map((p: any) => ({ ...s('PartitionProduceResponse'), index: p.index, errorCode: TOPIC_AUTHORIZATION_FAILED }))
      }))
      return TOPIC_AUTHORIZATION_FAILED
    case 1: // Fetch (v7+ also has the top-level errorCode)
      body.responses = rq.topics.map((t: any) => ({
        ...s('FetchableTopicResponse'),
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((p: any) => ({ ...s('PartitionData'), partitionIndex: p.partition, errorCode: TOPIC_AUTHORIZATION_FAILED }))
      }))
      return TOPIC_AUTHORIZATION_FAILED
    case 2: // ListOffsets
      body.topics = rq.topics.map((t: any) => ({
        ...s('ListOffsetsTopicResponse'),
        name: t.name,
        partitions: t.partitions.map((p: any) => ({ ...s('ListOffsetsPartitionResponse'), partitionIndex: p.partitionIndex, errorCode: TOPIC_AUTHORIZATION_FAILED }))
      }))
      return TOPIC_AUTHORIZATION_FAILED
    case 3: // Metadata
      body.brokers = brokers.map(b => ({ ...s('MetadataResponseBroker'), nodeId: b.nodeId, host: b.host, port: b.port }))
      body.topics = (rq.topics ?? []).map((t: any) => ({ ...s('MetadataResponseTopic'), name: t.name, topicId: t.topicId, errorCode: TOPIC_AUTHORIZATION_FAILED }))
      return TOPIC_AUTHORIZATION_FAILED
    case 8: // OffsetCommit
      body.topics = rq.topics.map((t: any) => ({
        ...s('OffsetCommitResponseTopic'),
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.map((p: any) => ({ ...s('OffsetCommitResponsePartition'), partitionIndex: p.partitionIndex, errorCode: GROUP_AUTHORIZATION_FAILED }))
      }))
      return GROUP_AUTHORIZATION_FAILED
    case 9: // OffsetFetch
      if (version >= 8) {
        body.groups = rq.groups.map((g: any) => ({ ...s('OffsetFetchResponseGroup'), groupId: g.groupId, errorCode: GROUP_AUTHORIZATION_FAILED }))
      } else {
        body.topics = (rq.topics ?? []).map((t: any) => ({
          ...s('OffsetFetchResponseTopic'),
          name: t.name,
          partitions: t.partitionIndexes.map((i: number) => ({ ...s('OffsetFetchResponsePartition'), partitionIndex: i, errorCode: GROUP_AUTHORIZATION_FAILED }))
        }))
      }
      return GROUP_AUTHORIZATION_FAILED
    case 19: // CreateTopics
      body.topics = rq.topics.map((t: any) => ({ ...s('CreatableTopicResult'), name: t.name, errorCode: TOPIC_AUTHORIZATION_FAILED, errorMessage: 'denied by kproxy policy' }))
      return TOPIC_AUTHORIZATION_FAILED
    case 20: { // DeleteTopics
      const names: any[] = version >= 6 ? rq.topics : rq.topicNames.map((name: string) => ({ name }))
      body.responses = names.map((t: any) => ({ ...s('DeletableTopicResult'), name: t.name ?? null, topicId: t.topicId ?? s('DeletableTopicResult').topicId, errorCode: TOPIC_AUTHORIZATION_FAILED }))
      return TOPIC_AUTHORIZATION_FAILED
    }
    default:
      return -1
  }
}

// `payload` is the whole request (after the size prefix). Returns null when kproxy has no
// sensible response for this API. Throws KproxyError (KPROXY_ERR_DECODE) on a malformed request.
export function deniedResponse (payload: Buffer, brokers: readonly AdvertisedBroker[]): DeniedResponse | null {
  const req = decodeRequest(payload)
  const api = getApi(req.apiKey)
  const version = req.apiVersion
  const codec = api.response
  const body = codec.create() as any
  const s: Struct = name => codec.structs[name]!()
  let errorCode = -1
  const top = codec.schema.fields.find(f => f.prop === 'errorCode')
  if (top !== undefined && inVersions(top.versions, version)) {
    errorCode = naturalAuthorizationError(req.apiKey)
    body.errorCode = errorCode
    if (codec.schema.fields.some(f => f.prop === 'errorMessage' && inVersions(f.versions, version))) {
      body.errorMessage = 'denied by kproxy policy'
    }
  }
  const entity = perEntity(req, body, version, s, brokers)
  if (entity >= 0 && errorCode < 0) errorCode = entity
  if (errorCode < 0) return null
  const frame = encodeResponse(req.apiKey, version, { correlationId: req.header.correlationId }, body)
  return { frame, errorCode }
}
