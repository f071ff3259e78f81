// Request bodies with sensible values for the interop test: every API gets its defaults (from
// the definitions), and the APIs whose defaults would not exercise the broker — or would make it
// answer nothing (Produce with acks=0) — get real values: a real topic, a real record batch.
import { getApi } from '@kproxy/core/protocol/codec'

export interface InteropContext {
  topic: string
  topicId: string
  records: Buffer
  // a unique suffix so that topic-creating requests do not collide across versions and runs
  unique: string
}

type Body = Record<string, any>
type Builder = (body: Body, version: number, ctx: InteropContext, struct: (name: string) => Body) => void

const builders: { [apiKey: number]: Builder } = {
  0: (b, v, ctx, s) => { // Produce: acks=all so that the broker answers
    b.acks = -1
    b.timeoutMs = 10_000
    const topic: Body = { ...s('TopicProduceData'), name: ctx.topic, topicId: ctx.topicId }
    topic.partitionData = [{ ...s('PartitionProduceData'), index: 0, records: ctx.records }]
    b.topicData = [topic]
  },
  1: (b, v, ctx, s) => { // Fetch from offset 0: the response carries the batch produced above
    b.maxWaitMs = 0
    b.minBytes = 0
    b.maxBytes = 1 << 20
    const topic: Body = { ...s('FetchTopic'), topic: ctx.topic, topicId: ctx.topicId }
    topic.partitions = [{ ...s('FetchPartition'), partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }]
    b.topics = [topic]
  },
  2: (b, v, ctx, s) => { // ListOffsets: latest offset of partition 0
    b.replicaId = -1
    b.timeoutMs = 10_000
    b.topics = [{ ...s('ListOffsetsTopic'), name: ctx.topic, partitions: [{ ...s('ListOffsetsPartition'), partitionIndex: 0, timestamp: -1n }] }]
  },
  3: (b, v, ctx, s) => { // Metadata of the interop topic (v0: an empty list would mean "all topics")
    b.topics = [{ ...s('MetadataRequestTopic'), name: ctx.topic }]
    b.allowAutoTopicCreation = false
  },
  10: (b, v, ctx) => { // FindCoordinator for a group
    b.key = `interop-group-${ctx.unique}`
    b.coordinatorKeys = [`interop-group-${ctx.unique}`]
  },
  18: b => { // ApiVersions v3+: the broker checks the client software name and version
    b.clientSoftwareName = 'kproxy-interop'
    b.clientSoftwareVersion = '0.1.0'
  },
  19: (b, v, ctx, s) => { // CreateTopics: a new topic per version
    b.timeoutMs = 30_000
    b.topics = [{ ...s('CreatableTopic'), name: `interop-created-v${v}-${ctx.unique}`, numPartitions: 1, replicationFactor: 1 }]
  },
  24: (b, v, ctx, s) => { // AddPartitionsToTxn: v4+ (broker-to-broker batching) needs at least one transaction
    const topics = [{ ...s('AddPartitionsToTxnTopic'), name: ctx.topic, partitions: [0] }]
    b.v3AndBelowTransactionalId = `interop-txn-${ctx.unique}`
    b.v3AndBelowTopics = topics
    b.transactions = [{ ...s('AddPartitionsToTxnTransaction'), transactionalId: `interop-txn-${ctx.unique}`, producerId: 0n, verifyOnly: true, topics }]
  },
  29: b => { // DescribeAcls: the broker refuses UNKNOWN (0) filters; ask for ANY (1) of everything
    b.resourceTypeFilter = 1
    b.resourceNameFilter = null
    b.patternTypeFilter = 1
    b.principalFilter = null
    b.hostFilter = null
    b.operation = 1
    b.permissionType = 1
  },
  32: (b, v, ctx, s) => { // DescribeConfigs of the interop topic (resource type 2 = topic)
    b.resources = [{ ...s('DescribeConfigsResource'), resourceType: 2, resourceName: ctx.topic, configurationKeys: null }]
  },
  60: b => { // DescribeCluster of brokers (endpoint type 1)
    b.endpointType = 1
  },
  75: (b, v, ctx, s) => { // DescribeTopicPartitions of the interop topic
    b.topics = [{ ...s('TopicRequest'), name: ctx.topic }]
    b.responsePartitionLimit = 100
  }
}

export function interopRequest (apiKey: number, version: number, ctx: InteropContext): Body {
  const codec = getApi(apiKey).request
  const body: Body = codec.create()
  const build = builders[apiKey]
  if (build !== undefined) {
    build(body, version, ctx, name => {
      const create = codec.structs[name]
      if (create === undefined) throw new Error(`${codec.name} has no struct ${name}`)
      return create() as Body
    })
  }
  return body
}
