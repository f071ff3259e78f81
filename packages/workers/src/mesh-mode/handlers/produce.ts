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
//
// The hot path (docs/mesh.md, coalescing): when nothing of this client waits before it, every
// topic's leaders are known and no producer id is to be looked up, the request is planned at once.
// What waits for the brokers' answers is one ProduceRequest, a slot per partition and a part per
// broker: the decoded request and its records are let go once the parts are encoded
// (produce-coalescer.ts), so that they die young instead of being copied by every scavenge.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { idempotentProducerOf, withProducer } from '@kproxy/core/protocol/record-batch-producer'
import type { BatchProducer } from '@kproxy/core/protocol/record-batch-producer'
import { ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster } from '../mesh-cluster.ts'
import { produceShard } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'
import type { CoalescedPart, CoalescedSlot, ProduceAnswer } from '../produce-coalescer.ts'
import type { UpstreamProducer } from '../producer-ids.ts'
import { advertisedLeader, namesByCluster, newResponse, partFailure, staleLeader } from './common.ts'
import { noLeader } from './leader-parts.ts'

// One partition of the client's request.
interface Slot extends CoalescedSlot {
  // the client's topic position, name and id; the partition index
  readonly topic: number
  readonly clientName: string
  readonly topicId: string
  readonly index: number
  // where it goes: null when the topic has no route (errorCode says so)
  readonly cluster: MeshCluster | null
  // the upstream topic name
  readonly name: string
  errorCode: number
  // the broker's PartitionProduceResponse
  answer: any | null
  // what goes up: the client's partition data, a copy under kproxy's producer id, or null when it
  // is not sent (errorCode says why) or already encoded
  data: { index: number, records: Buffer | null } | null
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

const VALID_ACKS: ReadonlySet<number> = new Set([-1, 0, 1])

const createPartitionResponse = getApi(ApiKey.Produce).response.structs.PartitionProduceResponse!

// The partitions of one request bound for one broker (and produce shard) of one cluster.
class ProducePart implements CoalescedPart {
  readonly request: ProduceRequest
  readonly cluster: MeshCluster
  readonly leader: number
  readonly shard: number
  readonly slots: Slot[] = []

  constructor (request: ProduceRequest, cluster: MeshCluster, leader: number, shard: number) {
    this.request = request
    this.cluster = cluster
    this.leader = leader
    this.shard = shard
  }

  answered (answer: ProduceAnswer | null, error: string | null): void {
    this.request.partAnswered(this, answer, error)
  }
}

class ProduceRequest {
  readonly #call: MeshCall
  readonly #host: MeshHost
  readonly #acks: number
  readonly #timeoutMs: number
  readonly #transactionalId: string | null
  readonly #slots: Slot[] = []
  // topics the client sent without partitions (their position, name, id): answered empty
  #empty: Array<[number, string, string]> | null = null
  #rewrites: Rewrite[] | null = null

  constructor (call: MeshCall, host: MeshHost, rq: any) {
    this.#call = call
    this.#host = host
    this.#acks = rq.acks
    this.#timeoutMs = rq.timeoutMs
    this.#transactionalId = rq.transactionalId ?? null
    // acks other than -1, 0 and 1 are refused as a broker refuses them (and never share an
    // upstream request with other clients' parts)
    const badAcks = !VALID_ACKS.has(this.#acks)
    const topics: any[] = rq.topicData
    for (let ti = 0; ti < topics.length; ti++) {
      const t = topics[ti]
      const r = badAcks ? null : host.topics.route(t.name)
      const cluster = r === null ? null : host.clusters.get(r.cluster) ?? null
      const partitions: any[] = t.partitionData
      if (partitions.length === 0) (this.#empty ??= []).push([ti, t.name, t.topicId])
      for (let pi = 0; pi < partitions.length; pi++) {
        const p = partitions[pi]
        this.#slots.push({
          topic: ti,
          clientName: t.name,
          topicId: t.topicId,
          index: p.index,
          cluster,
          name: cluster === null ? t.name : r!.name,
          errorCode: badAcks ? ErrorCode.INVALID_REQUIRED_ACKS : cluster === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0,
          answer: null,
          data: cluster === null ? null : p
        })
      }
    }
    // a transactional producer stays on its home cluster (AddPartitionsToTxn), its batches untouched
    if (this.#transactionalId === null) this.#rewrites = this.#rewritesNeeded()
  }

  start (): void {
    const call = this.#call
    call.whenAll = () => this.#finish()
    if (this.#rewrites === null && call.serialIdle() && this.#allFresh()) {
      this.#plan()
      return
    }
    const release = call.hold()
    call.serial(next => {
      const rewrites = this.#rewrites
      const clusters = namesByCluster(this.#slots)
      let waiting = clusters.size + 1 + (rewrites?.length ?? 0)
      const ready = (): void => {
        if (--waiting > 0) return
        if (rewrites !== null) this.#rewrite(rewrites)
        this.#plan()
        next()
        release()
      }
      for (const [c, names] of clusters) c.ensure(names, ready)
      if (rewrites !== null) {
        for (const rw of rewrites) {
          this.#host.producerIds.lookup(rw.cluster, rw.from, producer => {
            rw.producer = producer
            ready()
          })
        }
      }
      ready()
    })
  }

  // every routed topic's metadata is fresh: planning needs nothing first
  #allFresh (): boolean {
    const now = Date.now()
    let last: Slot | null = null
    for (const s of this.#slots) {
      if (s.cluster === null || (last !== null && last.topic === s.topic)) continue
      last = s
      if (!s.cluster.fresh(s.name, now)) return false
    }
    return true
  }

  // The idempotent batches bound for a cluster that did not allocate their producer id; null when
  // there are none (the common case: nothing to do).
  #rewritesNeeded (): Rewrite[] | null {
    let out: Rewrite[] | null = null
    const home = this.#host.config.homeDefaultCluster
    for (const slot of this.#slots) {
      if (slot.data === null) continue
      const from = idempotentProducerOf(slot.data.records)
      if (from === null || this.#host.producerIds.allocatorOf(from.producerId, home) === slot.cluster!.name) continue
      (out ??= []).push({ slot, cluster: slot.cluster!, from, producer: null })
    }
    return out
  }

  // One part per (cluster, leader, shard), handed to that shared connection's coalescer. Nothing
  // goes up for a client that is gone (a retry on its new connection must not race this copy).
  #plan (): void {
    if (this.#call.closed()) return
    const parts: ProducePart[] = []
    for (const slot of this.#slots) {
      const c = slot.cluster
      if (c === null || slot.data === null) continue
      const leader = c.leader(slot.name, slot.index)
      if (leader < 0) {
        slot.errorCode = noLeader(c, slot.name)
        slot.data = null
        continue
      }
      const shard = produceShard(slot.name, slot.index)
      let part: ProducePart | undefined
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!
        if (p.cluster === c && p.leader === leader && p.shard === shard) { part = p; break }
      }
      if (part === undefined) parts.push(part = new ProducePart(this, c, leader, shard))
      part.slots.push(slot)
    }
    const call = this.#call
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!
      let counted = false
      for (let j = 0; j < i && !counted; j++) counted = parts[j]!.cluster === part.cluster
      if (!counted) this.#host.meshMetrics.produceClientRequest(part.cluster.name)
      if (this.#acks !== 0) call.begin()
      part.cluster.coalescer(part.leader, part.shard).add(call.apiVersion, this.#acks, this.#timeoutMs, this.#transactionalId, call.clientId, part)
    }
  }

  // Never throws: a failure here (or in the answer it completes) fails this client's connection
  // only, never the shared connection the answer came on nor the other parts of its request.
  partAnswered (part: ProducePart, answer: ProduceAnswer | null, error: string | null): void {
    try {
      if (answer === null) {
        for (const slot of part.slots) slot.errorCode = partFailure()
        if (error !== null) this.#host.logger.debug({ cluster: part.cluster.name, error }, 'mesh produce part failed')
      } else {
        for (const slot of part.slots) {
          const pr = answer.partition(slot.name, slot.index)
          if (pr === undefined) {
            slot.errorCode = partFailure()
            continue
          }
          if (staleLeader(pr.errorCode)) part.cluster.stale(slot.name)
          slot.answer = pr
        }
      }
      this.#call.end()
    } catch (err) {
      this.#call.failed(err as Error)
    }
  }

  #finish (): void {
    if (this.#rewrites !== null) this.#forgetLost(this.#rewrites)
    const call = this.#call
    if (this.#acks === 0) {
      call.finishSilently()
      return
    }
    const body = newResponse(ApiKey.Produce)
    const responses: any[] = []
    let topic: any = null
    let at = -1
    for (const slot of this.#slots) {
      if (slot.topic !== at) {
        at = slot.topic
        topic = { name: slot.clientName, topicId: slot.topicId, partitionResponses: [] }
        responses.push(topic)
      }
      const a = slot.answer
      if (a === null) {
        const pr: any = createPartitionResponse()
        pr.index = slot.index
        pr.errorCode = slot.errorCode
        topic.partitionResponses.push(pr)
        continue
      }
      if (a.currentLeader !== undefined && a.currentLeader.leaderId >= 0) a.currentLeader.leaderId = advertisedLeader(this.#host, a.currentLeader.leaderId)
      topic.partitionResponses.push(a)
    }
    if (this.#empty !== null) {
      // in position order, each before the topics that came after it
      for (const [position, name, topicId] of this.#empty) responses.splice(position, 0, { name, topicId, partitionResponses: [] })
    }
    body.responses = responses
    body.nodeEndpoints = []
    call.answer(body)
  }

  // Each waiting batch under its cluster's producer id, or its partition failed: retriably when
  // there is none (the cluster could not give one), CORRUPT_MESSAGE when the batch is not intact
  // (as the broker would answer; kproxy never makes a corrupt batch's CRC valid). A mapping that
  // failed also fails the client's requests for it queued behind this one: they were sent before
  // the client heard of the failure, and a later batch written ahead of the failed one would
  // leave a gap in the producer's sequence (a broker takes any first sequence from a producer it
  // does not know, then refuses the retried earlier batch as out of order).
  #rewrite (rewrites: readonly Rewrite[]): void {
    const marks = this.#call.serialMarks()
    for (const rw of rewrites) {
      const slot = rw.slot
      const mark = `${rw.cluster.name}\u0000${rw.from.producerId}\u0000${rw.from.producerEpoch}`
      if (rw.producer === null || marks.has(mark)) {
        marks.add(mark)
        slot.errorCode = partFailure()
        slot.data = null
        continue
      }
      try {
        slot.data = { ...slot.data!, records: withProducer(slot.data!.records!, rw.from, rw.producer.producerId, rw.producer.producerEpoch) }
      } catch (err) {
        this.#host.logger.debug({ cluster: rw.cluster.name, err: (err as Error).message }, 'mesh produce: a batch to rewrite is not intact')
        slot.errorCode = ErrorCode.CORRUPT_MESSAGE
        slot.data = null
      }
    }
  }

  // A cluster that no longer knows kproxy's producer (or fenced it): the mapping is dropped and the
  // client gets a retriable error, so that its retry goes up under a new one.
  #forgetLost (rewrites: readonly Rewrite[]): void {
    for (const rw of rewrites) {
      const a = rw.slot.answer
      if (a === null || rw.producer === null || !PRODUCER_STATE_LOST.has(a.errorCode)) continue
      this.#host.producerIds.forget(rw.cluster.name, rw.from, rw.producer)
      rw.slot.answer = { ...a, errorCode: partFailure() }
    }
  }
}

export function produce (call: MeshCall, host: MeshHost): void {
  // the request's records go into the parts; the call keeps none of them
  const rq = call.takeBody()
  new ProduceRequest(call, host, rq).start()
}
