// The mesh's producer id mappings in a topic of the default home cluster, shared by every kproxy
// replica and kept across restarts.
//
// Why: kproxy takes a producer id of its own on each cluster that did not allocate a client's
// (producer-ids.ts). A client whose request timed out retries the batch with the same producer id
// and sequence numbers, possibly through another kproxy replica or a restarted one. Had that
// replica taken another producer id on the cluster, the cluster would write the retry a second
// time (a producer id it never saw accepts any first sequence) instead of answering it as a
// duplicate. So a replica that has no mapping in memory reads the log before taking a new
// producer id, and writes the new one there before using it.
//
// The log: one partition; each record's key is the mapping's key (cluster, client producer id,
// epoch), its value `{"v":1,"g":GEN,"id":"PRODUCER_ID","e":EPOCH}`. Which record stands for a key:
// the first of the highest generation. Two replicas that take producer ids for one key at once
// both append; both read the log up to their own record and use the first, so they agree (the
// other producer id is never used). Generation g+1 replaces g when the cluster refused g's
// producer (its state there expired or was fenced).
//
// A resolve whose log read or write fails answers an error: the client's partition on that
// cluster gets a retriable error, and a mapping is never used before it is in the log.
// Operations run one at a time per worker (mappings are made once per producer and cluster).
// Bounds: MAX_LOG_ENTRIES keys per worker, oldest first out; the topic keeps retentionMs.
import type { Logger } from 'pino'
import type { ProducerIdLogConfig } from '@kproxy/core/config/schema/mesh-schema'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { ErrorCode, errorByCode, getApi } from '@kproxy/core/protocol/codec'
import { isControlBatch, readBatches } from '@kproxy/core/protocol/record-batch'
import { decodeRecordBatch } from '@kproxy/core/protocol/record-batch-records'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { ANY_BROKER } from './mesh-cluster.ts'
import type { TopicMeta } from './mesh-cluster.ts'
import type { ProducerAnswer, UpstreamProducer } from './producer-ids.ts'

export const MAX_LOG_ENTRIES = 200_000
const VALUE_VERSION = 1
const PARTITION = 0
// every broker since Kafka 2.7 answers these (Fetch and Produce by topic name)
const FETCH_VERSION = 12
const PRODUCE_VERSION = 9
const CREATE_TOPICS_VERSION = 7
const FETCH_MAX_BYTES = 1 << 20
const PRODUCE_TIMEOUT_MS = 5_000
const CREATE_TIMEOUT_MS = 5_000
// a topic just created has no leader for a moment
const LEADER_ATTEMPTS = 25
const LEADER_RETRY_MS = 200

// Where a mapping is to be taken when the log has none (or only the refused one).
export type MakeProducer = (done: ProducerAnswer) => void

export interface ProducerIdStore {
  // The producer standing for `key` in every replica: the log's, unless it is `refused`; else one
  // from `make`, written to the log first.
  resolve (key: string, refused: UpstreamProducer | null, make: MakeProducer, done: ProducerAnswer): void
}

// mesh.producerIdLog.enabled false: the process's own mappings only
export const processOnlyStore: ProducerIdStore = {
  resolve: (_key, _refused, make, done) => { make(done) }
}

// What the log needs of the home cluster (a MeshCluster).
export interface LogCluster {
  readonly name: string
  readonly topics: ReadonlyMap<string, TopicMeta>
  request (node: number, apiKey: number, apiVersion: number, body: unknown, done: (body: any | null, error: string | null) => void): void
  metadata (topics: readonly string[] | null, allowAutoTopicCreation: boolean, done: (body: any | null, error: string | null) => void): void
  leader (topic: string, partition: number): number
  // known and asked about within metadataMaxAgeMs, with no error since
  fresh (topic: string, now: number): boolean
  stale (topic: string): void
}

interface Entry {
  readonly generation: number
  readonly producer: UpstreamProducer
}

type Step = (error: string | null) => void

export class ProducerIdLog implements ProducerIdStore {
  readonly #cluster: LogCluster
  readonly #config: ProducerIdLogConfig
  readonly #logger: Logger
  readonly #maxEntries: number
  readonly #entries = new Map<string, Entry>()
  // the next offset to read
  #next = 0n
  readonly #queue: Array<() => void> = []
  #running = false
  // resolves are numbered as they arrive; a read of the log to its end that started after
  // resolve N arrived serves N too (it saw every mapping written before N), so the resolves
  // queued behind one read skip their own (many producers reconnecting at once cost one read)
  #arrived = 0
  #served = 0

  constructor (cluster: LogCluster, config: ProducerIdLogConfig, logger: Logger, maxEntries = MAX_LOG_ENTRIES) {
    this.#cluster = cluster
    this.#config = config
    this.#logger = logger
    this.#maxEntries = maxEntries
  }

  get size (): number { return this.#entries.size }

  resolve (key: string, refused: UpstreamProducer | null, make: MakeProducer, done: ProducerAnswer): void {
    const ticket = ++this.#arrived
    this.#enqueue(finish => {
      const answer: ProducerAnswer = (producer, error) => {
        finish()
        done(producer, error)
      }
      this.#resolve(ticket, key, refused, make, answer)
    })
  }

  #resolve (ticket: number, key: string, refused: UpstreamProducer | null, make: MakeProducer, done: ProducerAnswer): void {
    const fail = (error: string): void => { done(null, `the producer id log ${this.#config.topic} on cluster ${this.#cluster.name}: ${error}`) }
    this.#readFor(ticket, error => {
      if (error !== null) return fail(error)
      const known = this.#entries.get(key)
      if (known !== undefined && (refused === null || !sameProducer(known.producer, refused))) return done(known.producer, null)
      make((producer, makeError) => {
        if (producer === null) return done(null, makeError)
        const generation = known === undefined ? 0 : known.generation + 1
        this.#append(key, generation, producer, (offset, appendError) => {
          if (offset === null) return fail(appendError ?? 'not written')
          this.#catchUp(offset, readError => {
            if (readError !== null) return fail(readError)
            const winner = this.#entries.get(key)
            if (winner === undefined) return fail(`the record written at offset ${offset} was not read back`)
            if (!sameProducer(winner.producer, producer)) {
              this.#logger.debug({ cluster: this.#cluster.name, key: printable(key), taken: String(producer.producerId), used: String(winner.producer.producerId) }, 'mesh: another kproxy wrote a producer id for this producer first; using that one')
            }
            done(winner.producer, null)
          })
        })
      })
    })
  }

  // The log read to its end by a read that started after `ticket` arrived.
  #readFor (ticket: number, done: Step): void {
    if (ticket <= this.#served) return done(null)
    const covers = this.#arrived
    this.#catchUp(-1n, error => {
      if (error === null && covers > this.#served) this.#served = covers
      done(error)
    })
  }

  #enqueue (op: (finish: () => void) => void): void {
    this.#queue.push(() => {
      let finished = false
      op(() => {
        if (finished) return
        finished = true
        this.#running = false
        this.#runNext()
      })
    })
    this.#runNext()
  }

  #runNext (): void {
    if (this.#running) return
    const next = this.#queue.shift()
    if (next === undefined) return
    this.#running = true
    next()
  }

  // ---- the topic ------------------------------------------------------------------------------------

  // The partition's leader, the topic created first when the cluster does not have it.
  #leader (done: (node: number, error: string | null) => void, attempt = 0, created = false): void {
    const topic = this.#config.topic
    const known = this.#cluster.leader(topic, PARTITION)
    if (known >= 0 && this.#cluster.fresh(topic, Date.now())) return done(known, null)
    this.#cluster.metadata([topic], false, (answer, error) => {
      if (answer === null) return done(-1, error)
      const t = answer.topics.find((x: any) => x.name === topic)
      const errorCode: number = t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      const leader = this.#cluster.leader(topic, PARTITION)
      if (leader >= 0) return done(leader, null)
      if (attempt >= LEADER_ATTEMPTS) return done(-1, `no leader for partition ${PARTITION} after ${attempt} attempts (${errorName(errorCode)})`)
      const again = (): void => { setTimeout(() => this.#leader(done, attempt + 1, true), LEADER_RETRY_MS).unref() }
      if (errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || created) return again()
      this.#create(createError => {
        if (createError !== null) return done(-1, createError)
        // asked again at once: the controller may have elected the leader already
        this.#leader(done, attempt + 1, true)
      })
    })
  }

  #create (done: Step): void {
    const api = getApi(ApiKey.CreateTopics).request
    const body = api.create()
    body.timeoutMs = CREATE_TIMEOUT_MS
    body.topics = [{
      ...api.structs.CreatableTopic!(),
      name: this.#config.topic,
      numPartitions: 1,
      replicationFactor: this.#config.replicationFactor,
      assignments: [],
      configs: [
        { ...api.structs.CreatableTopicConfig!(), name: 'cleanup.policy', value: 'delete' },
        { ...api.structs.CreatableTopicConfig!(), name: 'retention.ms', value: String(this.#config.retentionMs) }
      ]
    }]
    this.#cluster.request(ANY_BROKER, ApiKey.CreateTopics, CREATE_TOPICS_VERSION, body, (answer, error) => {
      if (answer === null) return done(error)
      const code: number = answer.topics[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
      if (code !== 0 && code !== ErrorCode.TOPIC_ALREADY_EXISTS) return done(`CreateTopics answered ${errorName(code)}: ${answer.topics[0]?.errorMessage ?? ''}`)
      if (code === 0) this.#logger.info({ cluster: this.#cluster.name, topic: this.#config.topic }, `mesh: created the producer id log ${this.#config.topic} on cluster ${this.#cluster.name}`)
      done(null)
    })
  }

  // Reads the log from #next to its high watermark (and at least past `through`).
  #catchUp (through: bigint, done: Step, rounds = 0): void {
    this.#leader((node, error) => {
      if (node < 0) return done(error ?? 'no leader')
      const api = getApi(ApiKey.Fetch).request
      const body = api.create()
      body.replicaId = -1
      body.maxWaitMs = 0
      body.minBytes = 0
      body.maxBytes = FETCH_MAX_BYTES
      body.isolationLevel = 0
      body.topics = [{ ...api.structs.FetchTopic!(), topic: this.#config.topic, partitions: [{ ...api.structs.FetchPartition!(), partition: PARTITION, fetchOffset: this.#next, partitionMaxBytes: FETCH_MAX_BYTES }] }]
      this.#cluster.request(node, ApiKey.Fetch, FETCH_VERSION, body, (answer, fetchError) => {
        if (answer === null) return done(fetchError)
        if (answer.errorCode !== 0) return done(`Fetch answered ${errorName(answer.errorCode)}`)
        const p = answer.responses[0]?.partitions[0]
        if (p === undefined) return done('Fetch answered without the partition')
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && p.logStartOffset > this.#next) {
          // older records are past retention
          this.#next = p.logStartOffset
          return this.#catchUp(through, done, rounds + 1)
        }
        if (p.errorCode !== 0) {
          this.#cluster.stale(this.#config.topic)
          return done(`Fetch answered ${errorName(p.errorCode)}`)
        }
        const before = this.#next
        try {
          this.#read(p.records ?? Buffer.alloc(0))
        } catch (err) {
          return done(`a record at offset ${this.#next} cannot be read: ${(err as Error).message}`)
        }
        const end: bigint = p.highWatermark
        if (this.#next >= end && this.#next > through) return done(null)
        if (this.#next === before) return done(`no progress at offset ${this.#next} (high watermark ${end})`)
        this.#catchUp(through, done, rounds + 1)
      })
    })
  }

  #read (records: Buffer): void {
    for (const b of readBatches(records).batches) {
      const last = b.header.baseOffset + BigInt(b.header.lastOffsetDelta)
      if (last < this.#next) continue
      if (!isControlBatch(b.header)) {
        for (const r of decodeRecordBatch(b.bytes).records) {
          if (b.header.baseOffset + BigInt(r.offsetDelta) < this.#next) continue
          if (r.key !== null && r.value !== null) this.#apply(r.key.toString('utf8'), r.value)
        }
      }
      this.#next = last + 1n
    }
  }

  // the first record of a key's highest generation stands
  #apply (key: string, value: Buffer): void {
    let parsed: { v?: unknown, g?: unknown, id?: unknown, e?: unknown }
    try {
      parsed = JSON.parse(value.toString('utf8'))
    } catch {
      return
    }
    if (parsed.v !== VALUE_VERSION || typeof parsed.g !== 'number' || typeof parsed.id !== 'string' || typeof parsed.e !== 'number' || !/^\d+$/.test(parsed.id)) return
    const known = this.#entries.get(key)
    if (known !== undefined && known.generation >= parsed.g) return
    this.#entries.delete(key)
    this.#entries.set(key, { generation: parsed.g, producer: { producerId: BigInt(parsed.id), producerEpoch: parsed.e } })
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!)
  }

  #append (key: string, generation: number, producer: UpstreamProducer, done: (offset: bigint | null, error: string | null) => void): void {
    const node = this.#cluster.leader(this.#config.topic, PARTITION)
    if (node < 0) return done(null, 'no leader')
    const value = JSON.stringify({ v: VALUE_VERSION, g: generation, id: String(producer.producerId), e: producer.producerEpoch })
    const batch = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ key: Buffer.from(key, 'utf8'), value: Buffer.from(value, 'utf8') }] })
    const api = getApi(ApiKey.Produce).request
    const body = api.create()
    body.transactionalId = null
    body.acks = -1
    body.timeoutMs = PRODUCE_TIMEOUT_MS
    body.topicData = [{ ...api.structs.TopicProduceData!(), name: this.#config.topic, partitionData: [{ ...api.structs.PartitionProduceData!(), index: PARTITION, records: batch }] }]
    this.#cluster.request(node, ApiKey.Produce, PRODUCE_VERSION, body, (answer, error) => {
      if (answer === null) return done(null, error)
      const p = answer.responses[0]?.partitionResponses[0]
      if (p === undefined) return done(null, 'Produce answered without the partition')
      if (p.errorCode !== 0) {
        this.#cluster.stale(this.#config.topic)
        return done(null, `Produce answered ${errorName(p.errorCode)}`)
      }
      done(p.baseOffset, null)
    })
  }
}

function sameProducer (a: UpstreamProducer, b: UpstreamProducer): boolean {
  return a.producerId === b.producerId && a.producerEpoch === b.producerEpoch
}

function errorName (code: number): string {
  return errorByCode(code)?.name ?? String(code)
}

function printable (key: string): string {
  return key.replaceAll('\u0000', '/')
}
