// Producer ids and transactions in mesh mode. A transactional id has a home cluster
// (mesh.transactions by prefix, else as groups): InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn go to its transaction coordinator there, TxnOffsetCommit to the group's
// coordinator there. A transaction stays on its home cluster: AddPartitionsToTxn naming a
// partition of another cluster is refused (INVALID_TXN_STATE for those partitions,
// OPERATION_NOT_ATTEMPTED for the rest) with a log line naming both clusters.
// An idempotent producer without a transactional id gets its producer id from the default home
// cluster; the worker remembers which cluster allocated it, and its batches bound for the other
// clusters carry a producer id kproxy takes there (producer-ids.ts, handlers/produce.ts).
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster } from '../mesh-cluster.ts'
import { ANY_BROKER } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { newResponse, partFailure, responseStructs, routeTopic } from './common.ts'
import { errorAnswer, GROUP_KEY, relayToCoordinator, toCoordinator, TRANSACTION_KEY } from './coordinated.ts'

function homeOf (host: MeshHost, transactionalId: string): MeshCluster {
  return host.clusters.get(host.transactions.home(transactionalId))!
}

export function initProducerId (call: MeshCall, host: MeshHost): void {
  const id: string | null = call.body.transactionalId
  if (id === null) {
    const cluster = host.clusters.get(host.config.homeDefaultCluster)!
    call.send(cluster, ANY_BROKER, 'shared', call.body, (answer) => {
      if (answer !== null && answer.errorCode === 0) host.producerIds.allocated(answer.producerId, cluster.name)
      call.answer(answer ?? errorAnswer(ApiKey.InitProducerId, 15 /* ErrorCode.COORDINATOR_NOT_AVAILABLE */))
    })
    return
  }
  relayToCoordinator(call, homeOf(host, id), TRANSACTION_KEY, id)
}

// AddOffsetsToTxn, EndTxn: the transaction coordinator on the home cluster.
export function transactionCoordinated (call: MeshCall, host: MeshHost): void {
  const id: string = call.body.transactionalId
  relayToCoordinator(call, homeOf(host, id), TRANSACTION_KEY, id)
}

export function addPartitionsToTxn (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const id: string = rq.v3AndBelowTransactionalId
  const home = homeOf(host, id)
  const topics: any[] = rq.v3AndBelowTopics
  const routed = topics.map(t => routeTopic(host, t.name))
  const s = responseStructs(ApiKey.AddPartitionsToTxn)
  const resultOf = (codeOf: (ti: number) => number): any[] => topics.map((t, ti) => ({
    ...s('AddPartitionsToTxnTopicResult'),
    name: t.name,
    resultsByPartition: t.partitions.map((partitionIndex: number) => ({ ...s('AddPartitionsToTxnPartitionResult'), partitionIndex, partitionErrorCode: codeOf(ti) }))
  }))
  const foreign = routed.findIndex(r => r === null || r.cluster !== home)
  if (foreign >= 0) {
    const other = routed[foreign]
    host.logger.warn({ code: 'KPROXY_WARN_MESH_TRANSACTION_CROSSES_CLUSTERS', transactionalId: id, home: home.name, other: other?.cluster.name ?? null, topic: topics[foreign].name },
      other === null
        ? `transaction ${id} (home cluster ${home.name}) names topic ${topics[foreign].name}, which has no route: refused`
        : `transaction ${id} has its home on cluster ${home.name} but adds topic ${topics[foreign].name} of cluster ${other.cluster.name}: a transaction stays on one cluster, refused`)
    const body = newResponse(ApiKey.AddPartitionsToTxn)
    body.resultsByTopicV3AndBelow = resultOf(ti => routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : routed[ti]!.cluster !== home ? ErrorCode.INVALID_TXN_STATE : ErrorCode.OPERATION_NOT_ATTEMPTED)
    call.answer(body)
    return
  }
  const sub = { ...rq, v3AndBelowTopics: topics.map((t, ti) => ({ ...t, name: routed[ti]!.name })) }
  toCoordinator(call, home, TRANSACTION_KEY, id, sub, (answer, errorCode) => {
    const body = newResponse(ApiKey.AddPartitionsToTxn)
    if (answer === null) {
      body.resultsByTopicV3AndBelow = resultOf(() => errorCode)
    } else {
      body.throttleTimeMs = answer.throttleTimeMs
      body.resultsByTopicV3AndBelow = resultOf(ti => {
        const tr = answer.resultsByTopicV3AndBelow.find((x: any) => x.name === routed[ti]!.name)
        return tr?.resultsByPartition[0]?.partitionErrorCode ?? partFailure()
      })
      // per partition, as the coordinator answered
      body.resultsByTopicV3AndBelow.forEach((t: any, ti: number) => {
        const tr = answer.resultsByTopicV3AndBelow.find((x: any) => x.name === routed[ti]!.name)
        if (tr !== undefined) t.resultsByPartition = tr.resultsByPartition
      })
    }
    call.answer(body)
  })
}

export function txnOffsetCommit (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const home = homeOf(host, rq.transactionalId)
  const topics: any[] = rq.topics
  const routed = topics.map(t => routeTopic(host, t.name))
  const s = responseStructs(ApiKey.TxnOffsetCommit)
  const body = newResponse(ApiKey.TxnOffsetCommit)
  const results = topics.map((t, ti) => ({
    ...s('TxnOffsetCommitResponseTopic'),
    name: t.name,
    partitions: t.partitions.map((p: any) => ({ ...s('TxnOffsetCommitResponsePartition'), partitionIndex: p.partitionIndex, errorCode: routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : routed[ti]!.cluster !== home ? ErrorCode.INVALID_TXN_STATE : 0 }))
  }))
  body.topics = results
  if (routed.some(r => r === null || r.cluster !== home)) {
    host.logger.warn({ code: 'KPROXY_WARN_MESH_TRANSACTION_CROSSES_CLUSTERS', transactionalId: rq.transactionalId, home: home.name }, `transaction ${rq.transactionalId} commits offsets of topics outside its home cluster ${home.name}: refused`)
    call.answer(body)
    return
  }
  const sub = { ...rq, topics: topics.map((t, ti) => ({ ...t, name: routed[ti]!.name })) }
  toCoordinator(call, home, GROUP_KEY, rq.groupId, sub, (answer, errorCode) => {
    topics.forEach((t, ti) => {
      const tr = answer?.topics.find((x: any) => x.name === routed[ti]!.name)
      results[ti]!.partitions = results[ti]!.partitions.map((p: any) => tr?.partitions.find((x: any) => x.partitionIndex === p.partitionIndex) ?? { ...p, errorCode: errorCode !== 0 ? errorCode : partFailure() })
    })
    call.answer(body)
  })
}
