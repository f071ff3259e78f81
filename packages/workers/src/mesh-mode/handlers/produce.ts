// Produce in mesh mode: the request is split by cluster and partition leader into one part per
// broker (same acks, timeout and transactional id; each partition's records forwarded as they
// came, compressed or not), and the parts' answers are merged back in the client's order of
// topics and partitions. acks=0: the parts are sent without answers and the client gets none.
// A part that fails (its cluster down, the connection lost) fails only its partitions, with a
// retriable error so that the client asks Metadata again and retries.
//
// An idempotent producer's batches (producer id >= 0, no transactional id) bound for a cluster
// other than the one that allocated its producer id carry a producer id kproxy took on that
// cluster (producer-ids.ts): a copy of the records with the producer fields rewritten and the
// CRC recomputed, base sequences as the client sent them. The request waits for the mappings it
// lacks in this client's serial queue (no other client waits; this client's later Produce
// requests stay behind it, keeping the order per partition). A cluster that cannot give one
// fails only its partitions, retriably. Every other batch goes up untouched.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { idempotentProducerOf, withProducer } from '@kproxy/core/protocol/record-batch-producer'
import type { BatchProducer } from '@kproxy/core/protocol/record-batch-producer'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster } from '../mesh-cluster.ts'
import { produceShard } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'
import type { UpstreamProducer } from '../producer-ids.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { advertisedLeader, newRequest, newResponse, partFailure, requestStructs, responseStructs, routeTopic, staleLeader } from './common.ts'
import type { RoutedTopic } from './common.ts'
import { partsByLeader } from './leader-parts.ts'

interface Slot {
  topic: number
  partition: number
  errorCode: number
  answer: any | null
  // what goes up for this partition: the client's partition data, a copy under kproxy's producer
  // id, or null when it is not sent (errorCode says why)
  data: any | null
}

// A partition whose batch needs kproxy's producer id on its cluster.
interface Rewrite {
  readonly slot: Slot
  readonly cluster: MeshCluster
  readonly from: BatchProducer
  producer: UpstreamProducer | null
}

// a cluster's answer meaning kproxy's producer there is gone or fenced: a new one next time
const PRODUCER_STATE_LOST = new Set<number>([ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.UNKNOWN_PRODUCER_ID, ErrorCode.INVALID_PRODUCER_ID_MAPPING, ErrorCode.PRODUCER_FENCED])

// The idempotent batches of a non-transactional request bound for a cluster that did not
// allocate their producer id; null when there are none (the common case: nothing to do).
function rewritesOf (host: MeshHost, topics: any[], routed: ReadonlyArray<RoutedTopic | null>, slots: Slot[][]): Rewrite[] | null {
  let out: Rewrite[] | null = null
  for (let ti = 0; ti < topics.length; ti++) {
    const r = routed[ti]
    if (r === null) continue
    const partitions: any[] = topics[ti].partitionData
    for (let pi = 0; pi < partitions.length; pi++) {
      const from = idempotentProducerOf(partitions[pi].records)
      if (from === null || host.producerIds.allocatorOf(from.producerId, host.config.homeDefaultCluster) === r.cluster.name) continue
      (out ??= []).push({ slot: slots[ti]![pi]!, cluster: r.cluster, from, producer: null })
    }
  }
  return out
}

export function produce (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const acks: number = rq.acks
  const topics: any[] = rq.topicData
  const routed = topics.map(t => routeTopic(host, t.name))
  // results by [topic][partition] position in the request
  const slots: Slot[][] = topics.map((t, ti) => t.partitionData.map((p: any, pi: number) => ({ topic: ti, partition: pi, errorCode: routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0, answer: null, data: p })))
  // a transactional producer stays on its home cluster (AddPartitionsToTxn), its batches untouched
  const rewrites = rq.transactionalId === null || rq.transactionalId === undefined ? rewritesOf(host, topics, routed, slots) : null
  const clusters = new Map<MeshCluster, string[]>()
  routed.forEach(r => {
    if (r === null) return
    const names = clusters.get(r.cluster)
    if (names === undefined) clusters.set(r.cluster, [r.name])
    else if (!names.includes(r.name)) names.push(r.name)
  })

  call.whenAll = () => {
    if (rewrites !== null) forgetLost(host, rewrites)
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
      // partitions whose producer id could not be mapped stay out
      if (rewrites !== null && !keepSent(part.topics, slots)) continue
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
        partitionData: pis.map(pi => slots[ti]![pi]!.data)
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
    let waiting = clusters.size + 1 + (rewrites?.length ?? 0)
    const ready = (): void => {
      if (--waiting > 0) return
      if (rewrites !== null) rewrite(host, rewrites)
      plan()
      next()
      release()
    }
    for (const [c, names] of clusters) c.ensure(names, ready)
    if (rewrites !== null) {
      for (const rw of rewrites) {
        host.producerIds.lookup(rw.cluster, rw.from, producer => {
          rw.producer = producer
          ready()
        })
      }
    }
    ready()
  })
}

// Each waiting batch under its cluster's producer id, or its partition failed: retriably when
// there is none (the cluster could not give one), CORRUPT_MESSAGE when the batch is not intact
// (as the broker would answer; kproxy never makes a corrupt batch's CRC valid).
function rewrite (host: MeshHost, rewrites: readonly Rewrite[]): void {
  for (const rw of rewrites) {
    const slot = rw.slot
    if (rw.producer === null) {
      slot.errorCode = partFailure()
      slot.data = null
      continue
    }
    try {
      slot.data = { ...slot.data, records: withProducer(slot.data.records, rw.from, rw.producer.producerId, rw.producer.producerEpoch) }
    } catch (err) {
      host.logger.debug({ cluster: rw.cluster.name, err: (err as Error).message }, 'mesh produce: a batch to rewrite is not intact')
      slot.errorCode = ErrorCode.CORRUPT_MESSAGE
      slot.data = null
    }
  }
}

// Drops from a part the partitions that are not sent; false when none is left.
function keepSent (topics: Map<number, number[]>, slots: Slot[][]): boolean {
  for (const [ti, pis] of topics) {
    const sent = pis.filter(pi => slots[ti]![pi]!.data !== null)
    if (sent.length === 0) topics.delete(ti)
    else if (sent.length !== pis.length) topics.set(ti, sent)
  }
  return topics.size > 0
}

// A cluster that no longer knows kproxy's producer (or fenced it): the mapping is dropped and the
// client gets a retriable error, so that its retry goes up under a new one.
function forgetLost (host: MeshHost, rewrites: readonly Rewrite[]): void {
  for (const rw of rewrites) {
    const a = rw.slot.answer
    if (a === null || rw.producer === null || !PRODUCER_STATE_LOST.has(a.errorCode)) continue
    host.producerIds.forget(rw.cluster.name, rw.from, rw.producer)
    rw.slot.answer = { ...a, errorCode: partFailure() }
  }
}
