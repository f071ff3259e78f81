// Produce in mesh mode: the request is split by cluster and partition leader into one part per
// broker (same acks, timeout and transactional id; each partition's records forwarded as they
// came, compressed or not), and the parts' answers are merged back in the client's order of
// topics and partitions. acks=0: the parts are sent without answers and the client gets none.
// A part that fails (its cluster down, the connection lost) fails only its partitions, with a
// retriable error so that the client asks Metadata again and retries.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster } from '../mesh-cluster.ts'
import { produceShard } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { advertisedLeader, newRequest, newResponse, partFailure, requestStructs, responseStructs, routeTopic, staleLeader } from './common.ts'
import { partsByLeader } from './leader-parts.ts'

interface Slot {
  topic: number
  partition: number
  errorCode: number
  answer: any | null
}

export function produce (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const acks: number = rq.acks
  const topics: any[] = rq.topicData
  const routed = topics.map(t => routeTopic(host, t.name))
  // results by [topic][partition] position in the request
  const slots: Slot[][] = topics.map((t, ti) => t.partitionData.map((p: any, pi: number) => ({ topic: ti, partition: pi, errorCode: routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0, answer: null })))
  const clusters = new Map<MeshCluster, string[]>()
  routed.forEach(r => {
    if (r === null) return
    const names = clusters.get(r.cluster)
    if (names === undefined) clusters.set(r.cluster, [r.name])
    else if (!names.includes(r.name)) names.push(r.name)
  })

  call.whenAll = () => {
    if (acks === 0) {
      call.finishSilently()
      return
    }
    const s = responseStructs(ApiKey.Produce)
    const body = newResponse(ApiKey.Produce)
    body.responses = topics.map((t, ti) => ({
      ...s('TopicProduceResponse'),
      name: t.name,
      topicId: t.topicId,
      partitionResponses: slots[ti]!.map(slot => {
        const a = slot.answer
        if (a === null) return { ...s('PartitionProduceResponse'), index: t.partitionData[slot.partition].index, errorCode: slot.errorCode }
        if (a.currentLeader !== undefined && a.currentLeader.leaderId >= 0) a.currentLeader = { ...a.currentLeader, leaderId: advertisedLeader(host, a.currentLeader.leaderId) }
        return a
      })
    }))
    body.nodeEndpoints = []
    call.answer(body)
  }

  // once every cluster's leaders are known: one part per (cluster, leader)
  const plan = (): void => {
    const parts = partsByLeader(routed, topics.map(t => t.partitionData.map((p: any) => p.index)), slots, produceShard)
    const rs = requestStructs(ApiKey.Produce)
    const counted = new Set<MeshCluster>()
    for (const part of parts.values()) {
      if (!counted.has(part.cluster)) {
        counted.add(part.cluster)
        host.meshMetrics.produceClientRequest(part.cluster.name)
      }
      const sub = newRequest(ApiKey.Produce)
      sub.transactionalId = rq.transactionalId
      sub.acks = acks
      sub.timeoutMs = rq.timeoutMs
      const order: Array<[number, number[]]> = [...part.topics]
      sub.topicData = order.map(([ti, pis]) => ({
        ...rs('TopicProduceData'),
        name: routed[ti]!.name,
        topicId: topics[ti].topicId,
        partitionData: pis.map(pi => topics[ti].partitionData[pi])
      }))
      call.send(part.cluster, part.leader, 'coalesce', sub, (answer, error) => {
        if (answer === null) {
          for (const [ti, pis] of order) for (const pi of pis) slots[ti]![pi]!.errorCode = partFailure()
          if (error !== null) host.logger.debug({ cluster: part.cluster.name, error }, 'mesh produce part failed')
          return
        }
        // the broker answers per topic and partition; match them by name and index
        for (const [ti, pis] of order) {
          const upstream = routed[ti]!.name
          const tr = answer.responses.find((x: any) => x.name === upstream) ?? answer.responses[order.findIndex(o => o[0] === ti)]
          for (const pi of pis) {
            const index = topics[ti].partitionData[pi].index
            const pr = tr?.partitionResponses.find((x: any) => x.index === index)
            if (pr === undefined) {
              slots[ti]![pi]!.errorCode = partFailure()
              continue
            }
            if (staleLeader(pr.errorCode)) part.cluster.stale(upstream)
            slots[ti]![pi]!.answer = pr
          }
        }
      }, ApiKey.Produce, call.apiVersion, acks !== 0, part.shard)
    }
  }

  const release = call.hold()
  call.serial(next => {
    let waiting = clusters.size + 1
    const ready = (): void => {
      if (--waiting > 0) return
      plan()
      next()
      release()
    }
    for (const [c, names] of clusters) c.ensure(names, ready)
    ready()
  })
}
