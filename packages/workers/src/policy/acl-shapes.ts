// Where the per-entry answers of a request live, for the APIs the ACL filter splits: which list
// of the request holds the topics (and their partitions), and which list of the response answers
// them. A request whose denied entries are taken out goes to the broker with the rest; the answer
// is merged back in the client's order, the denied entries with their error in their own slots
// (acl-merge.ts). An API without a shape here is refused whole when any entry is denied.
import { ApiKey } from '@kproxy/core/protocol/api-keys'

// Two levels: topics, each with partitions (Produce, Fetch, ListOffsets, ...).
export interface PartitionShape {
  readonly kind: 'partitions'
  readonly versions: readonly [number, number]
  // request: the list of topics, a topic's name / id field, its list of partitions and the
  // partition's index field (null: the list holds the indexes themselves)
  readonly topics: string
  readonly name: string | null
  readonly id: string | null
  readonly partitions: string
  readonly index: string | null
  // response: the same, and the struct names of a topic and a partition answer
  readonly rTopics: string
  readonly rName: string | null
  readonly rId: string | null
  readonly rPartitions: string
  readonly rIndex: string
  readonly rTopicStruct: string
  readonly rPartitionStruct: string
  // fields of a denied partition's answer besides index and error, as the broker writes them
  readonly rPartitionFill?: Readonly<Record<string, unknown>>
}

// One level: entries matched by a key (topics without partitions, config resources, groups).
export interface EntryShape {
  readonly kind: 'entries'
  readonly versions: readonly [number, number]
  readonly list: string
  readonly rList: string
  readonly rStruct: string
  // the key of a request element and of a response element (the same for the same entry)
  reqKey (e: any): string
  resKey (e: any): string
  // the response element for a denied request element (errorCode is set by the caller)
  fill (e: any, out: any): void
}

export type AclShape = PartitionShape | EntryShape

const ALL: readonly [number, number] = [0, 32767]
const EMPTY_RECORDS = Buffer.alloc(0)

function parts (versions: readonly [number, number], req: [string, string | null, string | null, string, string | null], res: [string, string | null, string | null, string, string, string, string], fill?: Record<string, unknown>): PartitionShape {
  return {
    ...(fill !== undefined ? { rPartitionFill: fill } : {}),
    kind: 'partitions',
    versions,
    topics: req[0],
    name: req[1],
    id: req[2],
    partitions: req[3],
    index: req[4],
    rTopics: res[0],
    rName: res[1],
    rId: res[2],
    rPartitions: res[3],
    rIndex: res[4],
    rTopicStruct: res[5],
    rPartitionStruct: res[6]
  }
}

const nameKey = (field: string) => (e: any): string => typeof e === 'string' ? `n:${e}` : e[field] !== null && e[field] !== '' && e[field] !== undefined ? `n:${String(e[field])}` : `i:${String(e.topicId)}`
const configKey = (e: any): string => `${String(e.resourceType)}:${String(e.resourceName)}`

// AlterConfigs and IncrementalAlterConfigs list their resources and answers alike
const ALTER_CONFIGS: readonly AclShape[] = [{
  kind: 'entries',
  versions: ALL,
  list: 'resources',
  rList: 'responses',
  rStruct: 'AlterConfigsResourceResponse',
  reqKey: configKey,
  resKey: configKey,
  fill (e, out) { out.resourceType = e.resourceType; out.resourceName = e.resourceName }
}]

const SHAPES: ReadonlyMap<number, readonly AclShape[]> = new Map<number, readonly AclShape[]>([
  [ApiKey.Produce, [parts(ALL, ['topicData', 'name', 'topicId', 'partitionData', 'index'], ['responses', 'name', 'topicId', 'partitionResponses', 'index', 'TopicProduceResponse', 'PartitionProduceResponse'])]],
  // a broker's error partition: no high watermark, empty records (clients such as librdkafka
  // refuse a null record set)
  [ApiKey.Fetch, [parts(ALL, ['topics', 'topic', 'topicId', 'partitions', 'partition'], ['responses', 'topic', 'topicId', 'partitions', 'partitionIndex', 'FetchableTopicResponse', 'PartitionData'], { highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, records: EMPTY_RECORDS })]],
  [ApiKey.ListOffsets, [parts(ALL, ['topics', 'name', null, 'partitions', 'partitionIndex'], ['topics', 'name', null, 'partitions', 'partitionIndex', 'ListOffsetsTopicResponse', 'ListOffsetsPartitionResponse'])]],
  [ApiKey.OffsetForLeaderEpoch, [parts(ALL, ['topics', 'topic', null, 'partitions', 'partition'], ['topics', 'topic', null, 'partitions', 'partition', 'OffsetForLeaderTopicResult', 'EpochEndOffset'])]],
  [ApiKey.OffsetCommit, [parts(ALL, ['topics', 'name', 'topicId', 'partitions', 'partitionIndex'], ['topics', 'name', 'topicId', 'partitions', 'partitionIndex', 'OffsetCommitResponseTopic', 'OffsetCommitResponsePartition'])]],
  [ApiKey.DeleteRecords, [parts(ALL, ['topics', 'name', null, 'partitions', 'partitionIndex'], ['topics', 'name', null, 'partitions', 'partitionIndex', 'DeleteRecordsTopicResult', 'DeleteRecordsPartitionResult'])]],
  [ApiKey.TxnOffsetCommit, [parts(ALL, ['topics', 'name', null, 'partitions', 'partitionIndex'], ['topics', 'name', null, 'partitions', 'partitionIndex', 'TxnOffsetCommitResponseTopic', 'TxnOffsetCommitResponsePartition'])]],
  [ApiKey.OffsetFetch, [parts([0, 7], ['topics', 'name', null, 'partitionIndexes', null], ['topics', 'name', null, 'partitions', 'partitionIndex', 'OffsetFetchResponseTopic', 'OffsetFetchResponsePartition'])]],
  [ApiKey.Metadata, [{
    kind: 'entries',
    versions: ALL,
    list: 'topics',
    rList: 'topics',
    rStruct: 'MetadataResponseTopic',
    reqKey: nameKey('name'),
    resKey: nameKey('name'),
    fill (e, out) { out.name = e.name; if (e.topicId !== undefined) out.topicId = e.topicId }
  }]],
  [ApiKey.DescribeTopicPartitions, [{
    kind: 'entries',
    versions: ALL,
    list: 'topics',
    rList: 'topics',
    rStruct: 'DescribeTopicPartitionsResponseTopic',
    reqKey: nameKey('name'),
    resKey: nameKey('name'),
    fill (e, out) { out.name = e.name }
  }]],
  [ApiKey.CreateTopics, [{
    kind: 'entries',
    versions: ALL,
    list: 'topics',
    rList: 'topics',
    rStruct: 'CreatableTopicResult',
    reqKey: nameKey('name'),
    resKey: nameKey('name'),
    fill (e, out) { out.name = e.name; out.numPartitions = -1; out.replicationFactor = -1; out.configs = null; out.errorMessage = 'Authorization failed.' }
  }]],
  [ApiKey.DeleteTopics, [{
    kind: 'entries',
    versions: [0, 5],
    list: 'topicNames',
    rList: 'responses',
    rStruct: 'DeletableTopicResult',
    reqKey: nameKey('name'),
    resKey: nameKey('name'),
    fill (e, out) { out.name = e }
  }, {
    kind: 'entries',
    versions: [6, 32767],
    list: 'topics',
    rList: 'responses',
    rStruct: 'DeletableTopicResult',
    reqKey: nameKey('name'),
    resKey: nameKey('name'),
    fill (e, out) { out.name = e.name; out.topicId = e.topicId }
  }]],
  [ApiKey.CreatePartitions, [{
    kind: 'entries',
    versions: ALL,
    list: 'topics',
    rList: 'results',
    rStruct: 'CreatePartitionsTopicResult',
    reqKey: nameKey('name'),
    resKey: nameKey('name'),
    fill (e, out) { out.name = e.name }
  }]],
  [ApiKey.DescribeConfigs, [{
    kind: 'entries',
    versions: ALL,
    list: 'resources',
    rList: 'results',
    rStruct: 'DescribeConfigsResult',
    reqKey: configKey,
    resKey: configKey,
    fill (e, out) { out.resourceType = e.resourceType; out.resourceName = e.resourceName; out.configs = [] }
  }]],
  [ApiKey.AlterConfigs, ALTER_CONFIGS],
  [ApiKey.IncrementalAlterConfigs, ALTER_CONFIGS],
  [ApiKey.DescribeGroups, [{
    kind: 'entries',
    versions: ALL,
    list: 'groups',
    rList: 'groups',
    rStruct: 'DescribedGroup',
    reqKey: e => String(e),
    resKey: e => String(e.groupId),
    fill (e, out) { out.groupId = e }
  }]],
  [ApiKey.FindCoordinator, [{
    kind: 'entries',
    versions: [4, 32767],
    list: 'coordinatorKeys',
    rList: 'coordinators',
    rStruct: 'Coordinator',
    reqKey: e => String(e),
    resKey: e => String(e.key),
    fill (e, out) { out.key = e; out.nodeId = -1; out.host = ''; out.port = -1 }
  }]],
  [ApiKey.DescribeTransactions, [{
    kind: 'entries',
    versions: ALL,
    list: 'transactionalIds',
    rList: 'transactionStates',
    rStruct: 'TransactionState',
    reqKey: e => String(e),
    resKey: e => String(e.transactionalId),
    fill (e, out) { out.transactionalId = e }
  }]],
  [ApiKey.ConsumerGroupDescribe, [{
    kind: 'entries',
    versions: ALL,
    list: 'groupIds',
    rList: 'groups',
    rStruct: 'DescribedGroup',
    reqKey: e => String(e),
    resKey: e => String(e.groupId),
    fill (e, out) { out.groupId = e }
  }]],
  [ApiKey.DeleteGroups, [{
    kind: 'entries',
    versions: ALL,
    list: 'groupsNames',
    rList: 'results',
    rStruct: 'DeletableGroupResult',
    reqKey: e => String(e),
    resKey: e => String(e.groupId),
    fill (e, out) { out.groupId = e }
  }]]
])

// The shape of (key, version) whose request list is `list`, or null.
export function shapeFor (apiKey: number, version: number, list: string): AclShape | null {
  const shapes = SHAPES.get(apiKey)
  if (shapes === undefined) return null
  for (const s of shapes) {
    if (version < s.versions[0] || version > s.versions[1]) continue
    if ((s.kind === 'partitions' ? s.topics : s.list) === list) return s
  }
  return null
}

export function hasShapes (apiKey: number): boolean {
  return SHAPES.has(apiKey)
}
