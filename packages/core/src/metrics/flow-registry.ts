// Who sends what where: bytes, requests and errors per flow, a flow being (principal, client id,
// client software name and version, topic, target broker or cluster). One registry per worker;
// the session of each connection takes a FlowClient handle once (slow path) and then reports
// every Produce request, Produce response and Fetch response through it (hot path).
//
// Hot path: the frame is scanned, not decoded (records-scan.ts); the registry is the scanner's
// visitor, so no closure is made; topic strings are interned by the scanner, the slot of a known
// (client, topic) is one Map lookup, and counters live in one growing Float64Array. Nothing is
// allocated per request once a flow exists.
//
// Bounded: at most maxFlows flows and maxPartitions (topic, partition) rows per worker. A flow
// beyond the cap is counted in the shared `other` flow and in `overflow.flows` (the owner logs a
// warning the first time, through onOverflow); the same for partitions.
import type { Frame } from '../protocol/frame-reader.ts'
import { RecordsScanner } from '../protocol/records-scan.ts'
import type { RecordsVisitor } from '../protocol/records-scan.ts'

export const OTHER = 'other'
export const DEFAULT_MAX_FLOWS = 1000
export const DEFAULT_MAX_PARTITIONS = 10_000
// topic id -> name entries kept (learned from Metadata responses)
export const MAX_TOPIC_NAMES = 100_000
// how a topic known only by its id is shown until some worker learns its name
export const TOPIC_ID_PREFIX = 'topic-id:'

// The client half of a flow's key; null where it is not known (plaintext listener: no principal;
// a client that sent no ApiVersions v3+: no software name).
export interface FlowClientKey {
  principal: string | null
  clientId: string | null
  softwareName: string | null
  softwareVersion: string | null
  // the broker ("broker-1") or cluster ("cluster") the connection goes to
  target: string
}

// Per flow: received bytes (Produce records from clients), sent bytes (Fetch records to clients),
// requests (Produce requests and Fetch responses naming the topic), errors (partitions answered
// with an error code).
export const FLOW_FIELDS = 4
const BYTES_IN = 0
const BYTES_OUT = 1
const REQUESTS = 2
const ERRORS = 3
const PARTITION_FIELDS = 3

// One row of a snapshot: the key, then the counters in FLOW_FIELDS order.
export type FlowRow = [principal: string | null, clientId: string | null, softwareName: string | null, softwareVersion: string | null,
  target: string, topic: string, bytesIn: number, bytesOut: number, requests: number, errors: number]
export type PartitionRow = [topic: string, partition: number, bytesIn: number, bytesOut: number, errors: number]

export interface FlowSnapshot {
  flows: FlowRow[]
  partitions: PartitionRow[]
  // new keys that went to the `other` row because the table was full
  overflow: { flows: number, partitions: number }
  // topic id -> name, as this worker learned them: another worker's rows may name the topic by id
  // (the Metadata response went through one worker, the Produce through another)
  topicNames?: Array<[string, string]>
}

export class FlowClient {
  readonly key: FlowClientKey
  // topic name / topic id -> flow slot
  readonly byName = new Map<string, number>()
  readonly byId = new Map<string, number>()
  constructor (key: FlowClientKey) { this.key = key }
}

export interface FlowRegistryOptions {
  maxFlows?: number
  maxPartitions?: number
  // called once per table, the first time a key is refused
  onOverflow? (table: 'flows' | 'partitions', cap: number): void
}

const OTHER_KEY: FlowClientKey = { principal: OTHER, clientId: OTHER, softwareName: OTHER, softwareVersion: OTHER, target: OTHER }

type Direction = 'produce' | 'produce-response' | 'fetch'

export class FlowRegistry implements RecordsVisitor {
  readonly maxFlows: number
  readonly maxPartitions: number
  readonly #onOverflow: FlowRegistryOptions['onOverflow']
  readonly #scanner = new RecordsScanner()
  readonly #clients = new Map<string, FlowClient>()
  // the slot's client and topic (+ whether the topic is an id), in slot order
  readonly #slotClient: FlowClient[] = []
  readonly #slotTopic: string[] = []
  readonly #slotById: boolean[] = []
  #counts = new Float64Array(64 * FLOW_FIELDS)
  readonly #other: FlowClient = new FlowClient(OTHER_KEY)
  readonly #otherSlot: number
  // topic (name or id) -> partition -> row; topic ids resolved at snapshot time
  readonly #partitionsByName = new Map<string, Map<number, number>>()
  readonly #partitionsById = new Map<string, Map<number, number>>()
  readonly #partitionTopic: string[] = []
  readonly #partitionById: boolean[] = []
  readonly #partitionIndex: number[] = []
  #partitionCounts = new Float64Array(256 * PARTITION_FIELDS)
  readonly #topicNames = new Map<string, string>()
  #overflowFlows = 0
  #overflowPartitions = 0
  // scan state: the visitor methods below read these
  #client: FlowClient = this.#other
  #direction: Direction = 'produce'
  #slot = 0
  #topic = OTHER
  #topicById = false
  #partitions: Map<number, number> | null = null

  constructor (options: FlowRegistryOptions = {}) {
    this.maxFlows = Math.max(1, options.maxFlows ?? DEFAULT_MAX_FLOWS)
    this.maxPartitions = Math.max(0, options.maxPartitions ?? DEFAULT_MAX_PARTITIONS)
    this.#onOverflow = options.onOverflow
    this.#otherSlot = this.#newSlot(this.#other, OTHER, false)
  }

  get flowCount (): number { return this.#slotClient.length }

  // The handle of a client key; the same object for the same key. Slow path: call it when a
  // connection's client id (or software, from ApiVersions) becomes known, not per request.
  client (key: FlowClientKey): FlowClient {
    const id = `${key.principal ?? ''}\u0000${key.clientId ?? ''}\u0000${key.softwareName ?? ''}\u0000${key.softwareVersion ?? ''}\u0000${key.target}`
    let c = this.#clients.get(id)
    if (c === undefined) {
      if (this.#clients.size >= this.maxFlows) {
        this.#overflowed('flows', this.maxFlows)
        return this.#other
      }
      c = new FlowClient({ ...key })
      this.#clients.set(id, c)
    }
    return c
  }

  // A topic id seen in a Metadata response, so that flows of Produce/Fetch v13+ (which name
  // topics by id) show the name.
  topicName (topicId: string, name: string): void {
    const known = this.#topicNames.get(topicId)
    if (known === name || (known === undefined && this.#topicNames.size >= MAX_TOPIC_NAMES)) return
    this.#topicNames.set(topicId, name)
  }

  // A Produce request on its way to the broker: record bytes received per topic and partition.
  produce (client: FlowClient, frame: Frame, apiVersion: number): boolean {
    return this.#scan(client, 'produce', frame, apiVersion)
  }

  // The broker's Produce response: partitions answered with an error.
  produceResponse (client: FlowClient, frame: Frame, apiVersion: number): boolean {
    return this.#scan(client, 'produce-response', frame, apiVersion)
  }

  // A Fetch response on its way to the client: record bytes sent per topic and partition, errors.
  fetch (client: FlowClient, frame: Frame, apiVersion: number): boolean {
    return this.#scan(client, 'fetch', frame, apiVersion)
  }

  // throttle time of the last response scanned (Produce or Fetch), for ProxyMetrics
  get lastThrottleTimeMs (): number { return this.#scanner.throttleTimeMs }

  #scan (client: FlowClient, direction: Direction, frame: Frame, apiVersion: number): boolean {
    this.#client = client
    this.#direction = direction
    const s = this.#scanner
    const ok = direction === 'produce'
      ? s.produceRequest(frame, apiVersion, this)
      : direction === 'fetch' ? s.fetchResponse(frame, apiVersion, this) : s.produceResponse(frame, apiVersion, this)
    this.#partitions = null
    return ok
  }

  // ---- RecordsVisitor (called by the scanner) ----

  onTopic (topic: string, byId: boolean): void {
    const client = this.#client
    const map = byId ? client.byId : client.byName
    let slot = map.get(topic)
    if (slot === undefined) {
      if (client === this.#other) {
        slot = this.#otherSlot
      } else {
        // a refused flow is remembered as `other`, so that it is counted once
        if (this.#slotClient.length >= this.maxFlows) {
          this.#overflowed('flows', this.maxFlows)
          slot = this.#otherSlot
        } else {
          slot = this.#newSlot(client, topic, byId)
        }
        map.set(topic, slot)
      }
    }
    this.#slot = slot
    this.#topic = topic
    this.#topicById = byId
    if (this.#direction !== 'produce-response') this.#counts[slot * FLOW_FIELDS + REQUESTS]!++
    const byTopic = byId ? this.#partitionsById : this.#partitionsByName
    let partitions = byTopic.get(topic)
    if (partitions === undefined) {
      partitions = new Map()
      byTopic.set(topic, partitions)
    }
    this.#partitions = partitions
  }

  onPartition (partition: number, recordBytes: number, errorCode: number): void {
    const base = this.#slot * FLOW_FIELDS
    const counts = this.#counts
    const direction = this.#direction
    if (direction === 'produce') counts[base + BYTES_IN]! += recordBytes
    else if (direction === 'fetch') counts[base + BYTES_OUT]! += recordBytes
    if (errorCode !== 0) counts[base + ERRORS]!++
    const partitions = this.#partitions
    if (partitions === null) return
    let row = partitions.get(partition)
    if (row === undefined) {
      if (this.#partitionTopic.length >= this.maxPartitions) {
        this.#overflowed('partitions', this.maxPartitions)
        return
      }
      row = this.#newPartition(this.#topic, this.#topicById, partition)
      partitions.set(partition, row)
    }
    const p = row * PARTITION_FIELDS
    const pc = this.#partitionCounts
    if (direction === 'produce') pc[p]! += recordBytes
    else if (direction === 'fetch') pc[p + 1]! += recordBytes
    if (errorCode !== 0) pc[p + 2]!++
  }

  // ---- slow paths ----

  #newSlot (client: FlowClient, topic: string, byId: boolean): number {
    const slot = this.#slotClient.length
    if ((slot + 1) * FLOW_FIELDS > this.#counts.length) {
      const grown = new Float64Array(this.#counts.length * 2)
      grown.set(this.#counts)
      this.#counts = grown
    }
    this.#slotClient.push(client)
    this.#slotTopic.push(topic)
    this.#slotById.push(byId)
    return slot
  }

  #newPartition (topic: string, byId: boolean, partition: number): number {
    const row = this.#partitionTopic.length
    if ((row + 1) * PARTITION_FIELDS > this.#partitionCounts.length) {
      const grown = new Float64Array(this.#partitionCounts.length * 2)
      grown.set(this.#partitionCounts)
      this.#partitionCounts = grown
    }
    this.#partitionTopic.push(topic)
    this.#partitionById.push(byId)
    this.#partitionIndex.push(partition)
    return row
  }

  #overflowed (table: 'flows' | 'partitions', cap: number): true {
    const first = table === 'flows' ? this.#overflowFlows++ === 0 : this.#overflowPartitions++ === 0
    if (first) this.#onOverflow?.(table, cap)
    return true
  }

  #topicLabel (topic: string, byId: boolean): string {
    if (!byId) return topic
    return this.#topicNames.get(topic) ?? TOPIC_ID_PREFIX + topic
  }

  // Plain rows for the supervisor (structured-cloneable); flows with no traffic are left out.
  snapshot (): FlowSnapshot {
    const flows: FlowRow[] = []
    const counts = this.#counts
    for (let slot = 0; slot < this.#slotClient.length; slot++) {
      const b = slot * FLOW_FIELDS
      if (counts[b] === 0 && counts[b + 1] === 0 && counts[b + 2] === 0 && counts[b + 3] === 0) continue
      const k = this.#slotClient[slot]!.key
      flows.push([k.principal, k.clientId, k.softwareName, k.softwareVersion, k.target,
        this.#topicLabel(this.#slotTopic[slot]!, this.#slotById[slot]!), counts[b]!, counts[b + 1]!, counts[b + 2]!, counts[b + 3]!])
    }
    const partitions: PartitionRow[] = []
    const pc = this.#partitionCounts
    for (let row = 0; row < this.#partitionTopic.length; row++) {
      const p = row * PARTITION_FIELDS
      partitions.push([this.#topicLabel(this.#partitionTopic[row]!, this.#partitionById[row]!), this.#partitionIndex[row]!, pc[p]!, pc[p + 1]!, pc[p + 2]!])
    }
    return { flows, partitions, overflow: { flows: this.#overflowFlows, partitions: this.#overflowPartitions }, topicNames: [...this.#topicNames] }
  }
}
