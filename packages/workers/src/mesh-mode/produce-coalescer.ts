// Produce coalescing: the produce parts of every client of a worker bound for one broker during
// one turn of the event loop leave as few upstream Produce requests as Kafka allows. Parts with
// the same version, acks and timeout (and no transactional id) share requests; a request holds
// one batch per partition, so a part naming a partition already in a request goes into a later
// one (requests on one connection are handled in order: the order per partition is kept). A
// request is closed at MAX_REQUEST_BYTES of records. Each part then looks up its partitions in the
// broker's answer (ProduceAnswer). Records are never touched here: each partition's batch goes up
// as the handler handed it over (the client's bytes, compressed or not; handlers/produce.ts
// rewrites the producer fields of an idempotent batch bound for a cluster other than its
// producer id's before that).
//
// Memory: a part's batches are let go once its request is encoded (the part's slots drop
// `data`), so what waits for the broker's answer is the part and its slots, not the records nor
// the buffers they were read into. One deadline timer per upstream request, not per part.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { ResponseTarget } from '../upstream/kafka-connection.ts'
import type { MeshCluster } from './mesh-cluster.ts'
import type { MeshMetrics } from './mesh-metrics.ts'

const MAX_REQUEST_BYTES = 8 * 1024 * 1024
// a broker's answer with more partitions of a topic than this is looked up through an index
const LINEAR_LOOKUP = 16

// One partition a part sends: its topic's upstream name and id, and what goes up (index and
// records). The coalescer sets `data` to null once the request holding it is encoded.
export interface CoalescedSlot {
  readonly name: string
  readonly topicId: string
  data: { index: number, records: Buffer | null } | null
}

// A broker's answer to a coalesced request, shared by its parts.
export interface ProduceAnswer {
  // the partition's answer (PartitionProduceResponse); undefined when the broker left it out
  partition (name: string, index: number): any | undefined
}

// One client request's partitions bound for this broker (handlers/produce.ts).
export interface CoalescedPart {
  readonly slots: readonly CoalescedSlot[]
  // the broker's answer, or null and why (connection lost, no address, the deadline passed);
  // never called for acks=0
  answered (answer: ProduceAnswer | null, error: string | null): void
}

interface Building {
  parts: CoalescedPart[]
  // partition indexes per upstream topic name already in this request
  partitions: Map<string, Set<number>>
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

// an upstream request on its way (the connection's tag)
interface Sent {
  readonly coalescer: ProduceCoalescer
  readonly version: number
  readonly parts: CoalescedPart[]
  readonly sentAt: number
  // answered, lost or past its deadline: later news of it is dropped
  settled: boolean
  timer: NodeJS.Timeout | null
}

// A part not answered within its deadline fails (its partitions get retriable errors), so that a
// frozen broker holds only its own partitions and clients hear of it before their own request
// timeout: 70 % of the request's timeoutMs (Kafka's clients send their request timeout there),
// at least a second.
export function produceDeadlineMs (timeoutMs: number): number {
  return Math.max(1000, Math.floor(timeoutMs * 0.7))
}

// what a group's requests have in common; a number so that finding the group allocates nothing
// (one per triple while version < 32 and acks is -1, 0 or 1: the handler refuses other acks)
function groupKey (version: number, acks: number, timeoutMs: number): number {
  return (timeoutMs * 32 + version) * 4 + (acks + 1)
}

class AnswerIndex implements ProduceAnswer {
  readonly #responses: any[]
  #byName: Map<string, any> | null = null
  #byIndex: Map<any, Map<number, any>> | null = null

  constructor (responses: any[]) {
    this.#responses = responses
  }

  partition (name: string, index: number): any | undefined {
    const responses = this.#responses
    let topic: any
    if (responses.length <= LINEAR_LOOKUP) {
      for (let i = 0; i < responses.length; i++) if (responses[i].name === name) { topic = responses[i]; break }
    } else {
      if (this.#byName === null) {
        this.#byName = new Map()
        for (const t of responses) if (!this.#byName.has(t.name)) this.#byName.set(t.name, t)
      }
      topic = this.#byName.get(name)
    }
    if (topic === undefined) return undefined
    const list: any[] = topic.partitionResponses
    if (list.length <= LINEAR_LOOKUP) {
      for (let i = 0; i < list.length; i++) if (list[i].index === index) return list[i]
      return undefined
    }
    this.#byIndex ??= new Map()
    let byIndex = this.#byIndex.get(topic)
    if (byIndex === undefined) {
      byIndex = new Map()
      for (const p of list) if (!byIndex.has(p.index)) byIndex.set(p.index, p)
      this.#byIndex.set(topic, byIndex)
    }
    return byIndex.get(index)
  }
}

export class ProduceCoalescer implements ResponseTarget {
  readonly #cluster: MeshCluster
  readonly #node: number
  readonly #shard: number
  readonly #metrics: MeshMetrics
  readonly #groups = new Map<number, Group>()
  // transactional requests go up one each (their id names the transaction)
  #alone: Group[] = []
  #scheduled = false
  readonly #run = this.#flush.bind(this)

  constructor (cluster: MeshCluster, node: number, shard: number, metrics: MeshMetrics) {
    this.#cluster = cluster
    this.#node = node
    this.#shard = shard
    this.#metrics = metrics
  }

  add (version: number, acks: number, timeoutMs: number, transactionalId: string | null, clientId: string, part: CoalescedPart): void {
    let group: Group | undefined
    if (transactionalId !== null) {
      group = { version, acks, timeoutMs, transactionalId, clientId, requests: [] }
      this.#alone.push(group)
    } else {
      const key = groupKey(version, acks, timeoutMs)
      group = this.#groups.get(key)
      if (group === undefined) this.#groups.set(key, group = { version, acks, timeoutMs, transactionalId: null, clientId, requests: [] })
    }
    const slots = part.slots
    let bytes = 0
    for (let i = 0; i < slots.length; i++) bytes += slots[i]!.data?.records?.length ?? 0
    // after every request that already has one of its partitions
    const requests = group.requests
    let at = 0
    for (let i = requests.length - 1; i >= 0 && at === 0; i--) {
      const taken = requests[i]!.partitions
      for (let j = 0; j < slots.length; j++) {
        if (taken.get(slots[j]!.name)?.has(slots[j]!.data!.index) === true) { at = i + 1; break }
      }
    }
    while (at < requests.length && requests[at]!.bytes > 0 && requests[at]!.bytes + bytes > MAX_REQUEST_BYTES) at++
    let req = requests[at]
    if (req === undefined) requests.push(req = { parts: [], partitions: new Map(), bytes: 0 })
    req.parts.push(part)
    for (let j = 0; j < slots.length; j++) {
      const s = slots[j]!
      const set = req.partitions.get(s.name)
      if (set === undefined) req.partitions.set(s.name, new Set([s.data!.index]))
      else set.add(s.data!.index)
    }
    req.bytes += bytes
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#run)
    }
  }

  #flush (): void {
    this.#scheduled = false
    const groups = [...this.#groups.values(), ...this.#alone]
    this.#groups.clear()
    this.#alone = []
    const conn = this.#cluster.shared(this.#node, this.#shard)
    for (const g of groups) {
      for (const r of g.requests) {
        if (conn === null) {
          if (g.acks !== 0) fail(r.parts, `no address known for node ${this.#node} of cluster ${this.#cluster.name}`)
          continue
        }
        let frames: Buffer[]
        try {
          frames = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: g.version, correlationId: 0, clientId: g.clientId }, requestBody(g, r.parts))
        } catch (err) {
          if (g.acks !== 0) fail(r.parts, (err as Error).message)
          continue
        }
        // the records are in the frames now
        for (const p of r.parts) for (const s of p.slots) s.data = null
        let n = 0
        for (const f of frames) n += f.length
        this.#metrics.sent(this.#cluster.name, ApiKey.Produce, n)
        if (g.acks === 0) {
          conn.send(null, null, null, frames)
          continue
        }
        const sent: Sent = { coalescer: this, version: g.version, parts: r.parts, sentAt: performance.now(), settled: false, timer: null }
        sent.timer = setTimeout(onDeadline, produceDeadlineMs(g.timeoutMs), sent)
        conn.send(this, sent, null, frames)
      }
    }
    conn?.flush()
  }

  upstreamResponse (tag: unknown, frame: Frame): void {
    const sent = tag as Sent
    if (!settle(sent)) return
    this.#metrics.answered(this.#cluster.name, ApiKey.Produce, performance.now() - sent.sentAt, false)
    let answer: AnswerIndex
    try {
      answer = new AnswerIndex(decodeResponse(frameToBuffer(frame), ApiKey.Produce, sent.version).body.responses)
    } catch (err) {
      fail(sent.parts, `cluster ${this.#cluster.name} sent a Produce answer kproxy cannot read: ${(err as Error).message}`)
      return
    }
    for (const p of sent.parts) tell(p, answer, null)
  }

  upstreamBatchEnd (): void {}

  upstreamLost (tag: unknown): void {
    const sent = tag as Sent
    if (!settle(sent)) return
    this.#metrics.answered(this.#cluster.name, ApiKey.Produce, performance.now() - sent.sentAt, true)
    fail(sent.parts, `the connection to cluster ${this.#cluster.name} closed before it answered`)
  }

  timedOut (sent: Sent): void {
    sent.timer = null
    if (!settle(sent)) return
    this.#metrics.answered(this.#cluster.name, ApiKey.Produce, performance.now() - sent.sentAt, true)
    fail(sent.parts, `cluster ${this.#cluster.name} did not answer within the deadline`)
  }
}

function fail (parts: readonly CoalescedPart[], error: string): void {
  for (const p of parts) tell(p, null, error)
}

// A part's answer; one part's failure must not keep the others of its request unanswered (the
// handler's own failures close only its client: handlers/produce.ts).
function tell (part: CoalescedPart, answer: ProduceAnswer | null, error: string | null): void {
  try {
    part.answered(answer, error)
  } catch {}
}

function onDeadline (sent: Sent): void {
  sent.coalescer.timedOut(sent)
}

// true the first time: the request is answered now
function settle (sent: Sent): boolean {
  if (sent.settled) return false
  sent.settled = true
  if (sent.timer !== null) clearTimeout(sent.timer)
  sent.timer = null
  return true
}

// One topic entry per upstream topic name, its partitions in arrival order.
function requestBody (g: Group, parts: readonly CoalescedPart[]): any {
  const api = getApi(ApiKey.Produce).request
  const topics: any[] = []
  let byName: Map<string, any> | null = null
  for (const p of parts) {
    for (const s of p.slots) {
      let entry: any
      if (topics.length === 1 && topics[0].name === s.name) entry = topics[0]
      else {
        byName ??= new Map(topics.map(t => [t.name, t]))
        entry = byName.get(s.name)
      }
      if (entry === undefined) {
        entry = { name: s.name, topicId: s.topicId, partitionData: [] }
        topics.push(entry)
        byName?.set(s.name, entry)
      }
      entry.partitionData.push(s.data)
    }
  }
  const body = api.create()
  body.transactionalId = g.transactionalId
  body.acks = g.acks
  body.timeoutMs = g.timeoutMs
  body.topicData = topics
  return body
}
