// Shared by the ACL filter's tests: a session with the ACL filter in its chain (over the scripted
// route of the session harness), rules given inline, real metrics, and request builders.
import pino from 'pino'
import { decodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import { createAclFilter } from '../../src/policy/acl-filter.ts'
import { AclState } from '../../src/policy/acl-state.ts'
import { TopicIdDirectory } from '../../src/policy/acl-topic-ids.ts'
import type { TopicLookup } from '../../src/policy/acl-topic-ids.ts'
import { harness } from '../session/session-harness.ts'
import type { Harness } from '../session/session-harness.ts'

export interface AclHarness extends Harness {
  metrics: MetricsRegistry
  state: AclState
  topicIds: TopicIdDirectory
  aclLogs: Array<Record<string, any>>
  // denials counted, by 'principal operation type'
  denials (): Record<string, number>
}

export function section (acl: Record<string, unknown>, baseDir = '.'): PolicySection {
  return { file: { acl } as any, baseDir }
}

export function aclHarness (acl: Record<string, unknown>, options: { principal?: string | null, lookup?: TopicLookup | null, baseDir?: string } = {}): AclHarness {
  const metrics = new MetricsRegistry({ latency: false })
  const aclLogs: Array<Record<string, any>> = []
  const logger = pino({ level: 'debug' }, { write (s: string) { aclLogs.push(JSON.parse(s)) } })
  const state = new AclState(logger)
  state.apply(section(acl, options.baseDir), true)
  const topicIds = new TopicIdDirectory(options.lookup ?? null)
  const filter = createAclFilter({ state, topicIds, metrics, logger })
  const h = harness({ filters: [{ label: 'acl', filter, builtin: true }], principal: options.principal === undefined ? 'alice' : options.principal, metrics }) as AclHarness
  h.metrics = metrics
  h.state = state
  h.topicIds = topicIds
  h.aclLogs = aclLogs
  h.denials = () => Object.fromEntries((metrics.snapshot().aclDenials ?? []).map(([p, op, type, n]) => [`${p} ${op} ${type}`, n]))
  return h
}

// alice writes partitions 0-3 of orders and reads all of it; bob reads 4-7
export const ALICE_BOB = {
  rules: [
    { allow: ['Write'], principal: 'User:alice', topic: 'orders', partitions: ['0-3'] },
    { allow: ['Read'], principal: 'User:alice', topic: 'orders' },
    { allow: ['Read'], principal: 'User:bob', topic: 'orders', partitions: ['4-7'] },
    { allow: ['Describe'], principal: '*', topic: 'orders' },
    { allow: ['Read'], principal: ['User:alice', 'User:bob'], group: { prefix: 'orders-' } },
    { allow: ['Describe'], principal: '*', topic: 'public' },
    { allow: ['Write'], principal: 'User:alice', topic: 'public' }
  ]
}

export const BATCH = Buffer.alloc(70, 1)

// Produce: [topic, partitions] in order; records are a fake batch (the broker is scripted)
export function produce (topics: Array<[string, number[]]>, acks = -1, opts: { ids?: Record<string, string>, transactionalId?: string | null, records?: Buffer } = {}): any {
  const api = getApi(ApiKey.Produce).request
  return {
    ...api.create(),
    acks,
    timeoutMs: 1000,
    transactionalId: opts.transactionalId ?? null,
    topicData: topics.map(([name, parts]) => ({
      ...api.structs.TopicProduceData!(),
      name: opts.ids?.[name] !== undefined ? '' : name,
      topicId: opts.ids?.[name] ?? (api.structs.TopicProduceData!() as any).topicId,
      partitionData: parts.map(index => ({ ...api.structs.PartitionProduceData!(), index, records: opts.records ?? BATCH }))
    }))
  }
}

// The broker's answer to a produce request as forwarded: every partition accepted.
export function produceAnswer (forwarded: any): any {
  const api = getApi(ApiKey.Produce).response
  return {
    ...api.create(),
    responses: forwarded.topicData.map((t: any) => ({
      ...api.structs.TopicProduceResponse!(),
      name: t.name,
      topicId: t.topicId,
      partitionResponses: t.partitionData.map((p: any) => ({ ...api.structs.PartitionProduceResponse!(), index: p.index, errorCode: 0, baseOffset: BigInt(100 + p.index) }))
    }))
  }
}

export function fetch (topics: Array<[string, number[]]>, opts: { ids?: Record<string, string>, sessionId?: number, sessionEpoch?: number } = {}): any {
  const api = getApi(ApiKey.Fetch).request
  return {
    ...api.create(),
    replicaId: -1,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1 << 20,
    sessionId: opts.sessionId ?? 0,
    sessionEpoch: opts.sessionEpoch ?? -1,
    topics: topics.map(([name, parts]) => ({
      ...api.structs.FetchTopic!(),
      topic: opts.ids?.[name] !== undefined ? '' : name,
      topicId: opts.ids?.[name] ?? (api.structs.FetchTopic!() as any).topicId,
      partitions: parts.map(partition => ({ ...api.structs.FetchPartition!(), partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }))
    }))
  }
}

export function fetchAnswer (forwarded: any, sessionId = 0): any {
  const api = getApi(ApiKey.Fetch).response
  return {
    ...api.create(),
    sessionId,
    responses: forwarded.topics.map((t: any) => ({
      ...api.structs.FetchableTopicResponse!(),
      topic: t.topic,
      topicId: t.topicId,
      partitions: t.partitions.map((p: any) => ({ ...api.structs.PartitionData!(), partitionIndex: p.partition, errorCode: 0, highWatermark: 10n, records: null }))
    }))
  }
}

// the body of what went upstream, decoded at the version it was sent at
export function sent (h: Harness, i: number): any {
  return decodeRequest(h.route.forwarded[i]!.payload, 'decodable').body
}
