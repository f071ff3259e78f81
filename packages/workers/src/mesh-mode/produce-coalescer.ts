// Produce coalescing: the produce parts of every client of a worker bound for one broker during
// one turn of the event loop leave as few upstream Produce requests as Kafka allows. Parts with
// the same version, acks and timeout (and no transactional id) share requests; a request holds
// one batch per partition, so a part naming a partition already in a request goes into a later
// one (requests on one connection are handled in order: the order per partition is kept). A
// request is closed at MAX_REQUEST_BYTES of records. The broker's answer is split back into each
// part's topics and partitions. Records are never touched here: each partition's batch goes up
// as the handler handed it over (the client's bytes, compressed or not; handlers/produce.ts
// rewrites the producer fields of an idempotent batch bound for a cluster other than its
// producer id's before that).
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { ResponseTarget } from '../upstream/kafka-connection.ts'
import type { MeshCluster } from './mesh-cluster.ts'
import type { MeshMetrics } from './mesh-metrics.ts'

const MAX_REQUEST_BYTES = 8 * 1024 * 1024

export type MemberAnswer = (answer: any | null, error: string | null) => void

interface Member {
  topics: any[]
  // null: acks=0, no answer
  done: MemberAnswer | null
}

interface Building {
  members: Member[]
  partitions: Set<string>
  bytes: number
}

interface Group {
  version: number
  acks: number
  timeoutMs: number
  transactionalId: string | null
  clientId: string
  requests: Building[]
}

interface Sent {
  version: number
  members: Member[]
  sentAt: number
}

export class ProduceCoalescer implements ResponseTarget {
  readonly #cluster: MeshCluster
  readonly #node: number
  readonly #shard: number
  readonly #metrics: MeshMetrics
  readonly #groups = new Map<string, Group>()
  #scheduled = false
  #unique = 0
  readonly #run = this.#flush.bind(this)

  constructor (cluster: MeshCluster, node: number, shard: number, metrics: MeshMetrics) {
    this.#cluster = cluster
    this.#node = node
    this.#shard = shard
    this.#metrics = metrics
  }

  add (version: number, body: any, done: MemberAnswer | null, clientId: string): void {
    const transactional = body.transactionalId !== null && body.transactionalId !== undefined
    // a transactional request goes up on its own (its id names the transaction)
    const key = transactional ? `t${this.#unique++}` : `${version}/${body.acks}/${body.timeoutMs}`
    let group = this.#groups.get(key)
    if (group === undefined) this.#groups.set(key, group = { version, acks: body.acks, timeoutMs: body.timeoutMs, transactionalId: body.transactionalId ?? null, clientId, requests: [] })
    const keys: string[] = []
    let bytes = 0
    for (const t of body.topicData) {
      for (const p of t.partitionData) {
        keys.push(`${t.name}\u0000${p.index}`)
        bytes += p.records === null ? 0 : p.records.length
      }
    }
    // after every request that already has one of its partitions
    let at = 0
    for (let i = group.requests.length - 1; i >= 0; i--) {
      const r = group.requests[i]!
      if (keys.some(k => r.partitions.has(k))) { at = i + 1; break }
    }
    while (at < group.requests.length && group.requests[at]!.bytes > 0 && group.requests[at]!.bytes + bytes > MAX_REQUEST_BYTES) at++
    let req = group.requests[at]
    if (req === undefined) group.requests.push(req = { members: [], partitions: new Set(), bytes: 0 })
    req.members.push({ topics: body.topicData, done })
    for (const k of keys) req.partitions.add(k)
    req.bytes += bytes
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#run)
    }
  }

  #flush (): void {
    this.#scheduled = false
    const groups = [...this.#groups.values()]
    this.#groups.clear()
    const conn = this.#cluster.shared(this.#node, this.#shard)
    const rs = getApi(ApiKey.Produce).request.structs
    for (const g of groups) {
      for (const r of g.requests) {
        if (conn === null) {
          for (const m of r.members) m.done?.(null, `no address known for node ${this.#node} of cluster ${this.#cluster.name}`)
          continue
        }
        // one topic entry per topic name, its partitions in arrival order
        const byName = new Map<string, any>()
        for (const m of r.members) {
          for (const t of m.topics) {
            let entry = byName.get(t.name)
            if (entry === undefined) byName.set(t.name, entry = { ...rs.TopicProduceData!(), name: t.name, topicId: t.topicId, partitionData: [] })
            for (const p of t.partitionData) entry.partitionData.push(p)
          }
        }
        const body = { ...getApi(ApiKey.Produce).request.create(), transactionalId: g.transactionalId, acks: g.acks, timeoutMs: g.timeoutMs, topicData: [...byName.values()] }
        let frames: Buffer[]
        try {
          frames = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: g.version, correlationId: 0, clientId: g.clientId }, body)
        } catch (err) {
          for (const m of r.members) m.done?.(null, (err as Error).message)
          continue
        }
        let n = 0
        for (const f of frames) n += f.length
        this.#metrics.sent(this.#cluster.name, ApiKey.Produce, n)
        const sent: Sent = { version: g.version, members: r.members, sentAt: performance.now() }
        conn.send(g.acks === 0 ? null : this, sent, null, frames)
      }
    }
    conn?.flush()
  }

  upstreamResponse (tag: unknown, frame: Frame): void {
    const sent = tag as Sent
    this.#metrics.answered(this.#cluster.name, ApiKey.Produce, performance.now() - sent.sentAt, false)
    let answer: any
    try {
      answer = decodeResponse(frameToBuffer(frame), ApiKey.Produce, sent.version).body
    } catch (err) {
      for (const m of sent.members) m.done?.(null, `cluster ${this.#cluster.name} sent a Produce answer kproxy cannot read: ${(err as Error).message}`)
      return
    }
    if (sent.members.length === 1) {
      sent.members[0]!.done?.(answer, null)
      return
    }
    const topics = new Map<string, any>()
    for (const t of answer.responses) topics.set(t.name, t)
    for (const m of sent.members) {
      const mine = { ...answer, responses: m.topics.map((t: any) => {
        const tr = topics.get(t.name)
        const wanted = new Set(t.partitionData.map((p: any) => p.index))
        return { ...tr, name: t.name, partitionResponses: tr === undefined ? [] : tr.partitionResponses.filter((p: any) => wanted.has(p.index)) }
      }) }
      m.done?.(mine, null)
    }
  }

  upstreamBatchEnd (): void {}

  upstreamLost (tag: unknown): void {
    const sent = tag as Sent
    this.#metrics.answered(this.#cluster.name, ApiKey.Produce, performance.now() - sent.sentAt, true)
    for (const m of sent.members) m.done?.(null, `the connection to cluster ${this.#cluster.name} closed before it answered`)
  }
}
