// Which ACL checks each Kafka API needs, as data: the ACL filter is a loop over this table.
// Learned from the pinned broker (Kafka 4.3.1: KafkaApis and ControllerApis, read with javap,
// and the "Operations and Resources on Protocols" table of Kafka's security docs). Where kproxy
// goes further than the broker, it says so: checks that Kafka makes per topic are made per
// partition for the per-partition APIs (partition-scoped rules), nothing else changes.
//
// Names are found in the decoded request (or response, for `side: 'response'`) by a path of the
// generated field names; '[]' steps into every element of a list:
//   'groupId'                       one string
//   'groups[]'                      every string of a string list
//   'topics[].partitions[].index'   every partition index of every topic
import { ApiKey } from '../protocol/api-keys.ts'
import { ErrorCode } from '../protocol/codec.ts'
import type { AclOperation, AclResourceType } from './acl-operations.ts'

export type AclNameScope =
  // the one cluster resource ('kafka-cluster')
  | { readonly kind: 'cluster' }
  // one string field (a group id, a transactional id)
  | { readonly kind: 'field', readonly path: string }
  // every string at the path (a list of group ids, or a field of each element)
  | { readonly kind: 'each', readonly path: string }
  // the topics of the request: by name and/or by id (ids resolve through metadata), with the
  // partition indexes when the check is made per partition
  | { readonly kind: 'topics', readonly name?: string, readonly id?: string, readonly partitions?: string }
  // config resources: each element at `path` has resourceType (2 topic, 4 broker, 8 broker
  // logger, 16 client metrics, 32 group) and resourceName; see CONFIG_RESOURCE_TYPES
  | { readonly kind: 'config-resources', readonly path: string }
  // a principal named by two fields, Type and name (the owner of a delegation token)
  | { readonly kind: 'principal', readonly type: string, readonly name: string }

// Conditions the filter evaluates on the decoded request before applying a check.
export type AclCheckWhen =
  // Produce: some record batch is transactional
  | 'transactional-records'
  // InitProducerId: transactionalId is set / is null / enable2Pc is true
  | 'has-transactional-id' | 'no-transactional-id' | 'two-phase-commit'
  // Fetch: from a follower (replicaId >= 0, or replicaState.replicaId >= 0) / from a consumer
  | 'from-follower' | 'from-consumer'
  // Metadata: allowAutoTopicCreation is true and a named topic does not exist
  | 'auto-create'
  // FindCoordinator: keyType 0 (group), 1 (transaction), 2 (share)
  | 'key-type-group' | 'key-type-transaction' | 'key-type-share'
  // CreateDelegationToken: an owner is named and is not the requester
  | 'owner-is-other'

export type AclDenyEffect =
  // the request is answered with `error` without reaching the broker (its top-level error
  // field; an API without one gets `error` in every entry)
  | 'fail-request'
  // the entry naming the resource (a partition, for per-partition scopes) gets `error` in its own
  // slot; the allowed entries of the same request go to the broker and the answers are merged
  | 'fail-entry'
  // left out of the answer (response-side scopes: ListGroups, ListTransactions, ...)
  | 'hide'
  // Metadata-style: left out when the request asks for everything, `error` when named
  | 'hide-unless-named'

export interface AclCheck {
  readonly operation: AclOperation
  readonly resource: AclResourceType
  readonly scope: AclNameScope
  // where the names are; the request unless said otherwise
  readonly side?: 'request' | 'response'
  // the request versions the check applies to (inclusive); all when absent
  readonly versions?: readonly [number, number]
  readonly when?: AclCheckWhen
  // skip the check when the principal has this operation on the cluster (Kafka's "cluster
  // first, then each resource": CreateTopics, OffsetForLeaderEpoch, ListGroups, ...)
  readonly unlessCluster?: AclOperation
  // skip the check when the principal may do this on some topic (authorizeByResourceType)
  readonly unlessAnyTopic?: AclOperation
  readonly error: number
  readonly onDeny: AclDenyEffect
}

// Config resource types (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs) -> the ACL
// resource Kafka checks and the error it answers with.
export const CONFIG_RESOURCE_TYPES: ReadonlyMap<number, { readonly resource: AclResourceType, readonly error: number }> = new Map([
  [2, { resource: 'topic', error: ErrorCode.TOPIC_AUTHORIZATION_FAILED }],
  [4, { resource: 'cluster', error: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }],
  [8, { resource: 'cluster', error: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }],
  [16, { resource: 'cluster', error: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }],
  [32, { resource: 'group', error: ErrorCode.GROUP_AUTHORIZATION_FAILED }]
])

const E = ErrorCode
const CLUSTER = { kind: 'cluster' } as const
const topic = (s: { name?: string, id?: string, partitions?: string }): AclNameScope => ({ kind: 'topics', ...s })
const field = (path: string): AclNameScope => ({ kind: 'field', path })
const each = (path: string): AclNameScope => ({ kind: 'each', path })

function cluster (operation: AclOperation, extra: Partial<AclCheck> = {}): AclCheck {
  return { operation, resource: 'cluster', scope: CLUSTER, error: E.CLUSTER_AUTHORIZATION_FAILED, onDeny: 'fail-request', ...extra }
}
function groupId (operation: AclOperation, path = 'groupId', extra: Partial<AclCheck> = {}): AclCheck {
  return { operation, resource: 'group', scope: field(path), error: E.GROUP_AUTHORIZATION_FAILED, onDeny: 'fail-request', ...extra }
}
function groupIds (operation: AclOperation, path: string, extra: Partial<AclCheck> = {}): AclCheck {
  return { operation, resource: 'group', scope: each(path), error: E.GROUP_AUTHORIZATION_FAILED, onDeny: 'fail-entry', ...extra }
}
function txnId (operation: AclOperation, path = 'transactionalId', extra: Partial<AclCheck> = {}): AclCheck {
  return { operation, resource: 'transactionalId', scope: field(path), error: E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, onDeny: 'fail-request', ...extra }
}
function topics (operation: AclOperation, scope: AclNameScope, extra: Partial<AclCheck> = {}): AclCheck {
  return { operation, resource: 'topic', scope, error: E.TOPIC_AUTHORIZATION_FAILED, onDeny: 'fail-entry', ...extra }
}
function configs (operation: AclOperation): AclCheck {
  // resource and error per element, from CONFIG_RESOURCE_TYPES
  return { operation, resource: 'topic', scope: { kind: 'config-resources', path: 'resources[]' }, error: E.TOPIC_AUTHORIZATION_FAILED, onDeny: 'fail-entry' }
}

// Inter-broker and controller APIs: a client has no business sending them through a proxy; the
// broker wants ClusterAction (Alter for some), and so does kproxy.
const BROKER_ONLY = (op: AclOperation = 'ClusterAction'): readonly AclCheck[] => [cluster(op)]

const TABLE: ReadonlyArray<readonly [number, readonly AclCheck[]]> = [
  [ApiKey.Produce, [
    txnId('Write', 'transactionalId', { when: 'transactional-records' }),
    // Kafka checks per topic; kproxy per partition. Kafka checks IdempotentWrite at
    // InitProducerId (where the producer id comes from), not here.
    topics('Write', topic({ name: 'topicData[].name', id: 'topicData[].topicId', partitions: 'topicData[].partitionData[].index' }))
  ]],
  [ApiKey.Fetch, [
    // Kafka answers every partition with TOPIC_AUTHORIZATION_FAILED
    { ...cluster('ClusterAction'), when: 'from-follower', error: E.TOPIC_AUTHORIZATION_FAILED, onDeny: 'fail-entry' },
    topics('Read', topic({ name: 'topics[].topic', id: 'topics[].topicId', partitions: 'topics[].partitions[].partition' }), { when: 'from-consumer' })
  ]],
  [ApiKey.ListOffsets, [topics('Describe', topic({ name: 'topics[].name', partitions: 'topics[].partitions[].partitionIndex' }))]],
  [ApiKey.Metadata, [
    topics('Describe', topic({ name: 'topics[].name', id: 'topics[].topicId' }), { onDeny: 'hide-unless-named' }),
    topics('Create', topic({ name: 'topics[].name' }), { when: 'auto-create', unlessCluster: 'Create' })
  ]],
  [ApiKey.LeaderAndIsr, BROKER_ONLY()],
  [ApiKey.StopReplica, BROKER_ONLY()],
  [ApiKey.UpdateMetadata, BROKER_ONLY()],
  [ApiKey.ControlledShutdown, BROKER_ONLY()],
  [ApiKey.OffsetCommit, [
    groupId('Read'),
    topics('Read', topic({ name: 'topics[].name', id: 'topics[].topicId', partitions: 'topics[].partitions[].partitionIndex' }))
  ]],
  [ApiKey.OffsetFetch, [
    groupId('Describe', 'groupId', { versions: [0, 7] }),
    groupIds('Describe', 'groups[].groupId', { versions: [8, 32767] }),
    // all partitions asked for (topics null): unauthorized topics are left out, as Kafka does
    topics('Describe', topic({ name: 'topics[].name', partitions: 'topics[].partitionIndexes[]' }), { versions: [0, 7], onDeny: 'hide-unless-named' }),
    topics('Describe', topic({ name: 'groups[].topics[].name', id: 'groups[].topics[].topicId', partitions: 'groups[].topics[].partitionIndexes[]' }), { versions: [8, 32767], onDeny: 'hide-unless-named' })
  ]],
  [ApiKey.FindCoordinator, [
    groupId('Describe', 'key', { versions: [0, 3], when: 'key-type-group', onDeny: 'fail-request' }),
    txnId('Describe', 'key', { versions: [0, 3], when: 'key-type-transaction' }),
    groupIds('Describe', 'coordinatorKeys[]', { versions: [4, 32767], when: 'key-type-group' }),
    { ...txnId('Describe', 'coordinatorKeys[]', { versions: [4, 32767], when: 'key-type-transaction' }), scope: each('coordinatorKeys[]'), onDeny: 'fail-entry' },
    cluster('ClusterAction', { when: 'key-type-share' })
  ]],
  [ApiKey.JoinGroup, [groupId('Read')]],
  [ApiKey.Heartbeat, [groupId('Read')]],
  [ApiKey.LeaveGroup, [groupId('Read')]],
  [ApiKey.SyncGroup, [groupId('Read')]],
  [ApiKey.DescribeGroups, [groupIds('Describe', 'groups[]')]],
  // Kafka never answers ListGroups with an authorization error: without Describe on the
  // cluster, it lists only the groups the principal may Describe.
  [ApiKey.ListGroups, [groupIds('Describe', 'groups[].groupId', { side: 'response', unlessCluster: 'Describe', onDeny: 'hide' })]],
  // Authentication itself; the engine handles these before any filter.
  [ApiKey.SaslHandshake, []],
  [ApiKey.ApiVersions, []],
  [ApiKey.CreateTopics, [topics('Create', topic({ name: 'topics[].name' }), { unlessCluster: 'Create' })]],
  [ApiKey.DeleteTopics, [
    topics('Delete', topic({ name: 'topicNames[]' }), { versions: [0, 5], unlessCluster: 'Delete' }),
    topics('Delete', topic({ name: 'topics[].name', id: 'topics[].topicId' }), { versions: [6, 32767], unlessCluster: 'Delete' })
  ]],
  [ApiKey.DeleteRecords, [topics('Delete', topic({ name: 'topics[].name', partitions: 'topics[].partitions[].partitionIndex' }))]],
  [ApiKey.InitProducerId, [
    txnId('Write', 'transactionalId', { when: 'has-transactional-id' }),
    txnId('TwoPhaseCommit', 'transactionalId', { when: 'two-phase-commit' }),
    cluster('IdempotentWrite', { when: 'no-transactional-id', unlessAnyTopic: 'Write' })
  ]],
  [ApiKey.OffsetForLeaderEpoch, [topics('Describe', topic({ name: 'topics[].topic', partitions: 'topics[].partitions[].partition' }), { unlessCluster: 'ClusterAction' })]],
  [ApiKey.AddPartitionsToTxn, [
    txnId('Write', 'v3AndBelowTransactionalId', { versions: [0, 3] }),
    topics('Write', topic({ name: 'v3AndBelowTopics[].name', partitions: 'v3AndBelowTopics[].partitions[]' }), { versions: [0, 3] }),
    // v4+ is sent by brokers (transaction verification)
    cluster('ClusterAction', { versions: [4, 32767] })
  ]],
  [ApiKey.AddOffsetsToTxn, [txnId('Write'), groupId('Read')]],
  [ApiKey.EndTxn, [txnId('Write')]],
  [ApiKey.WriteTxnMarkers, [cluster('ClusterAction', { unlessCluster: 'Alter' })]],
  [ApiKey.TxnOffsetCommit, [
    txnId('Write'),
    groupId('Read'),
    topics('Read', topic({ name: 'topics[].name', partitions: 'topics[].partitions[].partitionIndex' }))
  ]],
  [ApiKey.DescribeAcls, [cluster('Describe')]],
  [ApiKey.CreateAcls, [cluster('Alter')]],
  [ApiKey.DeleteAcls, [cluster('Alter')]],
  [ApiKey.DescribeConfigs, [configs('DescribeConfigs')]],
  [ApiKey.AlterConfigs, [configs('AlterConfigs')]],
  [ApiKey.AlterReplicaLogDirs, [cluster('Alter')]],
  [ApiKey.DescribeLogDirs, [cluster('Describe')]],
  [ApiKey.SaslAuthenticate, []],
  [ApiKey.CreatePartitions, [topics('Alter', topic({ name: 'topics[].name' }))]],
  [ApiKey.CreateDelegationToken, [{
    operation: 'CreateTokens', resource: 'user', scope: { kind: 'principal', type: 'ownerPrincipalType', name: 'ownerPrincipalName' },
    versions: [3, 32767], when: 'owner-is-other', error: E.DELEGATION_TOKEN_AUTHORIZATION_FAILED, onDeny: 'fail-request'
  }]],
  // Renewing and expiring check the token's owner and renewers, not ACLs.
  [ApiKey.RenewDelegationToken, []],
  [ApiKey.ExpireDelegationToken, []],
  // The broker leaves out tokens the principal may not see; kproxy adds nothing.
  [ApiKey.DescribeDelegationToken, []],
  [ApiKey.DeleteGroups, [groupIds('Delete', 'groupsNames[]')]],
  [ApiKey.ElectLeaders, [cluster('Alter')]],
  [ApiKey.IncrementalAlterConfigs, [configs('AlterConfigs')]],
  [ApiKey.AlterPartitionReassignments, [cluster('Alter')]],
  [ApiKey.ListPartitionReassignments, [cluster('Describe')]],
  [ApiKey.OffsetDelete, [
    groupId('Delete'),
    topics('Read', topic({ name: 'topics[].name', partitions: 'topics[].partitions[].partitionIndex' }))
  ]],
  [ApiKey.DescribeClientQuotas, [cluster('DescribeConfigs')]],
  [ApiKey.AlterClientQuotas, [cluster('AlterConfigs')]],
  [ApiKey.DescribeUserScramCredentials, [cluster('Describe')]],
  [ApiKey.AlterUserScramCredentials, [cluster('Alter')]],
  [ApiKey.Vote, BROKER_ONLY()],
  [ApiKey.BeginQuorumEpoch, BROKER_ONLY()],
  [ApiKey.EndQuorumEpoch, BROKER_ONLY()],
  [ApiKey.DescribeQuorum, [cluster('Describe')]],
  [ApiKey.AlterPartition, BROKER_ONLY()],
  [ApiKey.UpdateFeatures, [cluster('Alter')]],
  [ApiKey.Envelope, BROKER_ONLY()],
  [ApiKey.FetchSnapshot, BROKER_ONLY()],
  // Kafka only uses Describe on the cluster to fill in authorized operations when asked.
  [ApiKey.DescribeCluster, []],
  [ApiKey.DescribeProducers, [topics('Read', topic({ name: 'topics[].name', partitions: 'topics[].partitionIndexes[]' }))]],
  [ApiKey.BrokerRegistration, BROKER_ONLY()],
  [ApiKey.BrokerHeartbeat, BROKER_ONLY()],
  [ApiKey.UnregisterBroker, BROKER_ONLY('Alter')],
  [ApiKey.DescribeTransactions, [{ ...txnId('Describe'), scope: each('transactionalIds[]'), onDeny: 'fail-entry' }]],
  [ApiKey.ListTransactions, [{ ...txnId('Describe'), scope: each('transactionStates[].transactionalId'), side: 'response', onDeny: 'hide' }]],
  [ApiKey.AllocateProducerIds, BROKER_ONLY()],
  [ApiKey.ConsumerGroupHeartbeat, [
    groupId('Read'),
    // subscribing to a topic the principal may not Describe fails the heartbeat
    topics('Describe', topic({ name: 'subscribedTopicNames[]' }), { onDeny: 'fail-request' })
  ]],
  [ApiKey.ConsumerGroupDescribe, [groupIds('Describe', 'groupIds[]')]],
  [ApiKey.ControllerRegistration, BROKER_ONLY()],
  // No authorization check in Kafka.
  [ApiKey.GetTelemetrySubscriptions, []],
  [ApiKey.PushTelemetry, []],
  [ApiKey.AssignReplicasToDirs, BROKER_ONLY()],
  [ApiKey.ListConfigResources, [cluster('DescribeConfigs')]],
  [ApiKey.DescribeTopicPartitions, [topics('Describe', topic({ name: 'topics[].name' }), { onDeny: 'hide-unless-named' })]],
  [ApiKey.ShareGroupHeartbeat, [groupId('Read'), topics('Describe', topic({ name: 'subscribedTopicNames[]' }), { onDeny: 'fail-request' })]],
  [ApiKey.ShareGroupDescribe, [groupIds('Describe', 'groupIds[]')]],
  [ApiKey.ShareFetch, [groupId('Read'), topics('Read', topic({ id: 'topics[].topicId', partitions: 'topics[].partitions[].partitionIndex' }))]],
  [ApiKey.ShareAcknowledge, [groupId('Read'), topics('Read', topic({ id: 'topics[].topicId', partitions: 'topics[].partitions[].partitionIndex' }))]],
  [ApiKey.AddRaftVoter, BROKER_ONLY('Alter')],
  [ApiKey.RemoveRaftVoter, BROKER_ONLY('Alter')],
  [ApiKey.UpdateRaftVoter, BROKER_ONLY()],
  [ApiKey.InitializeShareGroupState, BROKER_ONLY()],
  [ApiKey.ReadShareGroupState, BROKER_ONLY()],
  [ApiKey.WriteShareGroupState, BROKER_ONLY()],
  [ApiKey.DeleteShareGroupState, BROKER_ONLY()],
  [ApiKey.ReadShareGroupStateSummary, BROKER_ONLY()],
  // Kafka also checks Describe on the topology's topics and Create for internal topics; the
  // group check is the part kproxy enforces.
  [ApiKey.StreamsGroupHeartbeat, [groupId('Read'), topics('Describe', topic({ name: 'topology.subtopologies[].sourceTopics[]' }), { onDeny: 'fail-request' })]],
  [ApiKey.StreamsGroupDescribe, [groupIds('Describe', 'groupIds[]')]],
  [ApiKey.DescribeShareGroupOffsets, [groupIds('Describe', 'groups[].groupId'), topics('Describe', topic({ name: 'groups[].topics[].topicName', partitions: 'groups[].topics[].partitions[]' }))]],
  [ApiKey.AlterShareGroupOffsets, [groupId('Read'), topics('Read', topic({ name: 'topics[].topicName', partitions: 'topics[].partitions[].partitionIndex' }))]],
  [ApiKey.DeleteShareGroupOffsets, [groupId('Delete'), topics('Read', topic({ name: 'topics[].topicName' }))]]
]

const BY_KEY: ReadonlyArray<readonly AclCheck[] | undefined> = (() => {
  const out: Array<readonly AclCheck[] | undefined> = []
  for (const [key, checks] of TABLE) out[key] = checks
  return out
})()

// The API keys the table knows; a key it does not know is refused by the filter.
export function hasAclEntry (apiKey: number): boolean {
  return BY_KEY[apiKey] !== undefined
}

// Per (key, version) the list is built once; later calls return the same array (no allocation).
const cache: Array<Array<readonly AclCheck[] | undefined>> = []

// The checks of one request, or null when the API key is not in the table (refuse it).
export function aclChecksFor (apiKey: number, version: number): readonly AclCheck[] | null {
  const all = BY_KEY[apiKey]
  if (all === undefined) return null
  const perVersion = cache[apiKey] ??= []
  let checks = perVersion[version]
  if (checks === undefined) {
    checks = all.filter(c => c.versions === undefined || (version >= c.versions[0] && version <= c.versions[1]))
    perVersion[version] = checks
  }
  return checks
}

export const API_ACL_TABLE = TABLE
