// Requests routed per partition to its leader, on the worker's shared connections, and merged in
// the client's order: ListOffsets (earliest, latest, by timestamp, max timestamp: whatever the
// broker answers), OffsetForLeaderEpoch, DeleteRecords. One description per API says where its
// topics, names, partitions and indexes are.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshHost } from '../mesh-host.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { newRequest, newResponse, partFailure, requestStructs, responseStructs, routeTopic, staleLeader, whenRouted } from './common.ts'
import { partsByLeader } from './leader-parts.ts'

interface Shape {
  apiKey: number
  // request: topics list, topic struct and its name / partitions fields, a partition's index field
  topics: string
  topicStruct: string
  name: string
  partitions: string
  index: string
  // response
  rTopics: string
  rTopicStruct: string
  rName: string
  rPartitions: string
  rPartitionStruct: string
  rIndex: string
  // copies the request's top-level fields into a part
  top (rq: any, sub: any): void
  // an error partition's extra fields
  error? (p: any): void
}

const LIST_OFFSETS: Shape = {
  apiKey: ApiKey.ListOffsets,
  topics: 'topics',
  topicStruct: 'ListOffsetsTopic',
  name: 'name',
  partitions: 'partitions',
  index: 'partitionIndex',
  rTopics: 'topics',
  rTopicStruct: 'ListOffsetsTopicResponse',
  rName: 'name',
  rPartitions: 'partitions',
  rPartitionStruct: 'ListOffsetsPartitionResponse',
  rIndex: 'partitionIndex',
  top (rq, sub) { sub.replicaId = -1; sub.isolationLevel = rq.isolationLevel; sub.timeoutMs = rq.timeoutMs },
  error (p) { p.offset = -1n; p.timestamp = -1n; p.leaderEpoch = -1 }
}

const OFFSET_FOR_LEADER_EPOCH: Shape = {
  apiKey: ApiKey.OffsetForLeaderEpoch,
  topics: 'topics',
  topicStruct: 'OffsetForLeaderTopic',
  name: 'topic',
  partitions: 'partitions',
  index: 'partition',
  rTopics: 'topics',
  rTopicStruct: 'OffsetForLeaderTopicResult',
  rName: 'topic',
  rPartitions: 'partitions',
  rPartitionStruct: 'EpochEndOffset',
  rIndex: 'partition',
  top (rq, sub) { sub.replicaId = rq.replicaId },
  error (p) { p.leaderEpoch = -1; p.endOffset = -1n }
}

const DELETE_RECORDS: Shape = {
  apiKey: ApiKey.DeleteRecords,
  topics: 'topics',
  topicStruct: 'DeleteRecordsTopic',
  name: 'name',
  partitions: 'partitions',
  index: 'partitionIndex',
  rTopics: 'topics',
  rTopicStruct: 'DeleteRecordsTopicResult',
  rName: 'name',
  rPartitions: 'partitions',
  rPartitionStruct: 'DeleteRecordsPartitionResult',
  rIndex: 'partitionIndex',
  top (rq, sub) { sub.timeoutMs = rq.timeoutMs },
  error (p) { p.lowWatermark = -1n }
}

export const listOffsets = (call: MeshCall, host: MeshHost): void => byPartition(LIST_OFFSETS, call, host)
export const offsetForLeaderEpoch = (call: MeshCall, host: MeshHost): void => byPartition(OFFSET_FOR_LEADER_EPOCH, call, host)
export const deleteRecords = (call: MeshCall, host: MeshHost): void => byPartition(DELETE_RECORDS, call, host)

function byPartition (shape: Shape, call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const topics: any[] = rq[shape.topics]
  const routed = topics.map(t => routeTopic(host, t[shape.name]))
  const slots: Array<Array<{ errorCode: number, answer: any | null }>> = topics.map((t, ti) => t[shape.partitions].map(() => ({ errorCode: routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0, answer: null })))
  const s = responseStructs(shape.apiKey)

  call.whenAll = () => {
    const body = newResponse(shape.apiKey)
    body[shape.rTopics] = topics.map((t, ti) => ({
      ...s(shape.rTopicStruct),
      [shape.rName]: t[shape.name],
      [shape.rPartitions]: slots[ti]!.map((slot, pi) => {
        if (slot.answer !== null) return slot.answer
        const p = { ...s(shape.rPartitionStruct), [shape.rIndex]: t[shape.partitions][pi][shape.index], errorCode: slot.errorCode }
        shape.error?.(p)
        return p
      })
    }))
    call.answer(body)
  }

  const plan = (): void => {
    const parts = partsByLeader(routed, topics.map(t => t[shape.partitions].map((p: any) => p[shape.index])), slots)
    const rs = requestStructs(shape.apiKey)
    for (const part of parts.values()) {
      const sub = newRequest(shape.apiKey)
      shape.top(rq, sub)
      const order: Array<[number, number[]]> = [...part.topics]
      sub[shape.topics] = order.map(([ti, pis]) => ({
        ...rs(shape.topicStruct),
        [shape.name]: routed[ti]!.name,
        [shape.partitions]: pis.map(pi => topics[ti][shape.partitions][pi])
      }))
      call.send(part.cluster, part.leader, 'shared', sub, (answer) => {
        for (const [ti, pis] of order) {
          const upstream = routed[ti]!.name
          const tr = answer?.[shape.rTopics].find((x: any) => x[shape.rName] === upstream)
          for (const pi of pis) {
            const index = topics[ti][shape.partitions][pi][shape.index]
            const pr = tr?.[shape.rPartitions].find((x: any) => x[shape.rIndex] === index)
            if (pr === undefined) {
              slots[ti]![pi]!.errorCode = partFailure()
              continue
            }
            if (staleLeader(pr.errorCode)) part.cluster.stale(upstream)
            slots[ti]![pi]!.answer = pr
          }
        }
      })
    }
  }

  whenRouted(call, routed, plan)
}
