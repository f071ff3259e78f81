// Whole-request refusals for APIs whose answer has no top-level error field and that the
// session's error answers (filters/error-response.ts) do not fill per entry: the answer mirrors
// the request's entries, each with the error, as a broker's getErrorResponse does. null: leave
// it to the session (which closes the connection when it cannot answer).
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { getApi } from '@kproxy/core/protocol/codec'

export function mirroredRefusal (apiKey: number, version: number, request: any, error: number, message: string): unknown | null {
  const api = getApi(apiKey).response
  const s = (name: string): any => api.structs[name]!()
  const body: any = api.create()
  switch (apiKey) {
    case ApiKey.CreateAcls:
      body.results = (request.creations ?? []).map(() => ({ ...s('AclCreationResult'), errorCode: error, errorMessage: message }))
      return body
    case ApiKey.DeleteAcls:
      body.filterResults = (request.filters ?? []).map(() => ({ ...s('DeleteAclsFilterResult'), errorCode: error, errorMessage: message, matchingAcls: [] }))
      return body
    case ApiKey.TxnOffsetCommit:
      body.topics = (request.topics ?? []).map((t: any) => ({ ...s('TxnOffsetCommitResponseTopic'), name: t.name, partitions: t.partitions.map((p: any) => ({ ...s('TxnOffsetCommitResponsePartition'), partitionIndex: p.partitionIndex, errorCode: error })) }))
      return body
    case ApiKey.AddPartitionsToTxn:
      if (version > 3) return null
      body.resultsByTopicV3AndBelow = (request.v3AndBelowTopics ?? []).map((t: any) => ({ ...s('AddPartitionsToTxnTopicResult'), name: t.name, resultsByPartition: t.partitions.map((p: number) => ({ ...s('AddPartitionsToTxnPartitionResult'), partitionIndex: p, partitionErrorCode: error })) }))
      return body
    case ApiKey.AlterClientQuotas:
      body.entries = (request.entries ?? []).map((e: any) => ({ ...s('EntryData'), errorCode: error, errorMessage: message, entity: e.entity }))
      return body
    case ApiKey.AlterReplicaLogDirs:
      body.results = (request.dirs ?? []).flatMap((d: any) => d.topics.map((t: any) => ({ ...s('AlterReplicaLogDirTopicResult'), topicName: t.name, partitions: t.partitions.map((p: number) => ({ ...s('AlterReplicaLogDirPartitionResult'), partitionIndex: p, errorCode: error })) })))
      return body
    default:
      return null
  }
}
