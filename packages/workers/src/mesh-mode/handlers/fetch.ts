// Fetch in mesh mode: split by cluster and partition leader, each part sent on this client's own
// connection to that broker (a broker holds a fetch up to max wait, and holds the connection
// with it), sessionless (kproxy answers with session id 0, so clients send full fetches; the
// parts are sessionless full fetches too, epoch -1).
//
// Waiting across clusters: every part gets the client's min bytes and max wait (bounded by
// mesh.fetchMaxWaitMs). The client is answered as soon as one part brings at least min bytes (or
// an error), with what has come so far; partitions whose part has not answered are listed with
// no records and unknown offsets (-1), as a full fetch answer must list every partition it was
// asked for. Their late answers are dropped: the client asks again from the same offsets, so no
// record is skipped or read twice. Otherwise the answer waits for every part (each bounded by max
// wait). max bytes holds for the merged answer: once it is reached, further partitions' records
// are left out (asked for again next time), except that the first partition with records is
// always kept, as a broker does.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshHost } from '../mesh-host.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { advertisedLeader, newRequest, newResponse, partFailure, requestStructs, responseStructs, routeTopic, staleLeader, whenRouted } from './common.ts'
import { partsByLeader } from './leader-parts.ts'

const FINAL_EPOCH = -1
const EMPTY = Buffer.alloc(0)

interface Slot {
  errorCode: number
  answer: any | null
}

export function fetch (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const topics: any[] = rq.topics
  const routed = topics.map(t => routeTopic(host, t.topic))
  const slots: Slot[][] = topics.map((t, ti) => t.partitions.map(() => ({ errorCode: routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0, answer: null })))
  const maxWaitMs = Math.min(rq.maxWaitMs, host.config.fetchMaxWaitMs)
  const s = responseStructs(ApiKey.Fetch)

  const respond = (): void => {
    const body = newResponse(ApiKey.Fetch)
    body.errorCode = 0
    body.sessionId = 0
    let bytes = 0
    let anyRecords = false
    body.responses = topics.map((t, ti) => ({
      ...s('FetchableTopicResponse'),
      topic: t.topic,
      topicId: t.topicId,
      partitions: slots[ti]!.map((slot, pi) => {
        const a = slot.answer
        if (a === null) {
          return { ...s('PartitionData'), partitionIndex: t.partitions[pi].partition, errorCode: slot.errorCode, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, preferredReadReplica: -1, records: EMPTY }
        }
        const size = a.records === null ? 0 : a.records.length
        if (size > 0) {
          if (anyRecords && bytes + size > rq.maxBytes) a.records = EMPTY
          else bytes += size
          anyRecords = true
        }
        a.preferredReadReplica = -1
        if (a.currentLeader !== undefined && a.currentLeader.leaderId >= 0) a.currentLeader = { ...a.currentLeader, leaderId: advertisedLeader(host, a.currentLeader.leaderId) }
        return a
      })
    }))
    body.nodeEndpoints = []
    call.answer(body)
  }
  call.whenAll = respond

  const plan = (): void => {
    const parts = partsByLeader(routed, topics.map(t => t.partitions.map((p: any) => p.partition)), slots)
    const rs = requestStructs(ApiKey.Fetch)
    // an error answered without asking anyone: no reason to wait
    const early = parts.size === 0
    for (const part of parts.values()) {
      const sub = newRequest(ApiKey.Fetch)
      sub.replicaId = -1
      sub.maxWaitMs = maxWaitMs
      sub.minBytes = rq.minBytes
      sub.maxBytes = rq.maxBytes
      sub.isolationLevel = rq.isolationLevel
      sub.sessionId = 0
      sub.sessionEpoch = FINAL_EPOCH
      sub.rackId = rq.rackId
      const order: Array<[number, number[]]> = [...part.topics]
      sub.topics = order.map(([ti, pis]) => ({
        ...rs('FetchTopic'),
        topic: routed[ti]!.name,
        topicId: topics[ti].topicId,
        partitions: pis.map(pi => topics[ti].partitions[pi])
      }))
      sub.forgottenTopicsData = []
      call.send(part.cluster, part.leader, 'own', sub, (answer, error) => {
        if (answer === null) {
          for (const [ti, pis] of order) for (const pi of pis) slots[ti]![pi]!.errorCode = partFailure()
          if (error !== null) host.logger.debug({ cluster: part.cluster.name, error }, 'mesh fetch part failed')
          return
        }
        let bytes = 0
        let failed = answer.errorCode !== 0
        for (const [ti, pis] of order) {
          const upstream = routed[ti]!.name
          const tr = answer.responses.find((x: any) => x.topic === upstream)
          for (const pi of pis) {
            const index = topics[ti].partitions[pi].partition
            const pr = tr?.partitions.find((x: any) => x.partitionIndex === index)
            if (pr === undefined) {
              slots[ti]![pi]!.errorCode = answer.errorCode !== 0 ? answer.errorCode : partFailure()
              continue
            }
            if (pr.errorCode !== 0) failed = true
            if (staleLeader(pr.errorCode)) part.cluster.stale(upstream)
            bytes += pr.records === null ? 0 : pr.records.length
            slots[ti]![pi]!.answer = pr
          }
        }
        // enough for the client (or something to tell it): answer now, with what is in
        if ((failed || (bytes > 0 && bytes >= rq.minBytes)) && call.pending > 1) respond()
      })
    }
    if (early) respond()
  }

  whenRouted(call, routed, plan)
}
