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
// the first of the highest generation.
// - Two replicas that take producer ids for one key at once both append; both read the log up
//   to their own record and use the first, so they agree (the other producer id is never used).
// - A later record of the same generation naming another producer (the loser of such a race) is
//   a conflict: whoever reads it appends the winner again one generation up, so that the winner
//   still stands once retention has deleted its first record.
// - Generation g+1 replaces g when the cluster refused g's producer (its state there expired or
//   was fenced).
// - A mapping in use is written again (same generation) once its last record is older than half
//   the retention (refresh(), asked hourly by producer-ids.ts with every mapping its worker used,
//   one operation and one Produce per pass), so that retention, which counts from the write and
//   not from the producer's last batch, never deletes it.
//
// A resolve whose log read or write fails answers an error: the client's partition on that
// cluster gets a retriable error, and a mapping is never used before it is in the log.
// Operations run one at a time per worker (mappings are made once per producer and cluster). A
// resolve is answered within OPERATION_TIMEOUT_MS whatever the cluster does; the next operation
// waits until the late one has ended (every step of it times out), or OPERATION_LIMIT_MS.
// Bounds: MAX_LOG_ENTRIES keys per worker, oldest first out; a key that went out is remembered in
// a fixed 1 MiB bit set (EVICTED_BITS), and a key not in memory but maybe in that set is looked
// for in the whole log before it counts as unmapped. The set is started anew every
// 2 × retentionMs + EVICTED_SLACK_MS, the one before still asked, so that a key goes out of both
// only once the log can no longer hold its record (at most 2 MiB). The topic keeps retentionMs.
import type { Logger } from 'pino'
import type { ProducerIdLogConfig } from '@kproxy/core/config/schema/mesh-schema'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { ErrorCode, errorByCode, getApi } from '@kproxy/core/protocol/codec'
import { isControlBatch, readBatches } from '@kproxy/core/protocol/record-batch'
import { decodeRecordBatch, recordTimestamp } from '@kproxy/core/protocol/record-batch-records'
import type { KafkaRecord } from '@kproxy/core/protocol/record-batch-records'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { ANY_BROKER, ZERO_UUID } from './mesh-cluster.ts'
import type { TopicMeta } from './mesh-cluster.ts'
import type { ProducerAnswer, UpstreamProducer } from './producer-ids.ts'

export const MAX_LOG_ENTRIES = 200_000
const VALUE_VERSION = 1
const PARTITION = 0
// every broker since Kafka 2.7 answers these (Fetch and Produce by topic name)
const FETCH_VERSION = 12
const PRODUCE_VERSION = 9
const LIST_OFFSETS_VERSION = 7
const CREATE_TOPICS_VERSION = 7
const EARLIEST = -2n
const LATEST = -1n
const FETCH_MAX_BYTES = 1 << 20
const PRODUCE_TIMEOUT_MS = 5_000
const CREATE_TIMEOUT_MS = 5_000
// a topic just created has no leader for a moment
const LEADER_ATTEMPTS = 10
const LEADER_RETRY_MS = 200
// one resolve or refresh, whatever the cluster does (kproxy's own requests time out after 8 s)
export const OPERATION_TIMEOUT_MS = 30_000
// an operation still running after this is left behind (a step whose callback never came)
const OPERATION_LIMIT_MS = 300_000
// records per Produce when mappings are written again
const REFRESH_BATCH = 1_000
// the bit set of keys gone out of memory: 2^23 bits, three hashes
const EVICTED_BITS = 1 << 23
// a record outlives retention.ms until its segment rolls (segment.ms, 7 days by default)
const EVICTED_SLACK_MS = 7 * 24 * 3_600_000

// Where a mapping is to be taken when the log has none (or only the refused one).
export type MakeProducer = (done: ProducerAnswer) => void

export interface ProducerIdStore {
  // The producer standing for `key` in every replica: the log's, unless it is `refused`; else one
  // from `make`, written to the log first.
  resolve (key: string, refused: UpstreamProducer | null, make: MakeProducer, done: ProducerAnswer): void
  // Mappings in use: each written again when its last record is old (see above).
  refresh (inUse: ReadonlyArray<readonly [string, UpstreamProducer]>): void
}

// mesh.producerIdLog.enabled false: the process's own mappings only
export const processOnlyStore: ProducerIdStore = {
  resolve: (_key, _refused, make, done) => { make(done) },
  refresh: () => {}
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
  // the timestamp (ms) of its latest record
  writtenAt: number
}

type Step = (error: string | null) => void
// what a read does with each record
type RecordSink = (key: string, value: Buffer, timestamp: number) => void

export class ProducerIdLog implements ProducerIdStore {
  readonly #cluster: LogCluster
  readonly #config: ProducerIdLogConfig
  readonly #logger: Logger
  readonly #maxEntries: number
  readonly #now: () => number
  readonly #entries = new Map<string, Entry>()
  // keys that went out of #entries (null: none): a missing key set here may still be in the log
  #evicted: Uint8Array | null = null
  // the set before it (still asked), and when #evicted was started
  #evictedBefore: Uint8Array | null = null
  #evictedSince = 0
  #warnedFull = false
  // the log's topic id when last asked: another one means it was deleted and made again
  #topicId: string | null = null
  // counts the times what was read became void (#forget): a read that spans one drops its records
  #epoch = 0
  // keys with a later record of their generation naming another producer, to be settled
  readonly #conflicts = new Set<string>()
  // the next offset to read
  #next = 0n
  readonly #queue: Array<() => void> = []
  #running = false
  #draining = false
  // resolves are numbered as they arrive; a read of the log to its end that started after
  // resolve N arrived serves N too (it saw every mapping written before N), so the resolves
  // queued behind one read skip their own (many producers reconnecting at once cost one read)
  #arrived = 0
  #served = 0

  constructor (cluster: LogCluster, config: ProducerIdLogConfig, logger: Logger, maxEntries = MAX_LOG_ENTRIES, now: () => number = Date.now) {
    this.#cluster = cluster
    this.#config = config
    this.#logger = logger
    this.#maxEntries = maxEntries
    this.#now = now
  }

  get size (): number { return this.#entries.size }

  resolve (key: string, refused: UpstreamProducer | null, make: MakeProducer, done: ProducerAnswer): void {
    const ticket = ++this.#arrived
    let replied = false
    const reply: ProducerAnswer = (producer, error) => {
      if (replied) return
      replied = true
      clearTimeout(timer)
      try {
        done(producer, error)
      } catch (err) {
        this.#logger.error({ code: 'KPROXY_ERR_INTERNAL', err: (err as Error).stack }, 'mesh: a waiter on the producer id log failed')
      }
    }
    // counted from the arrival, time in the queue included
    const timer = setTimeout(() => { reply(null, this.#failure(`no answer within ${OPERATION_TIMEOUT_MS} ms`)) }, OPERATION_TIMEOUT_MS)
    timer.unref()
    this.#enqueue(end => {
      // answered (timed out) while it waited: nothing to do
      if (replied) return end()
      const answer: ProducerAnswer = (producer, error) => {
        reply(producer, error)
        end()
      }
      try {
        this.#resolve(ticket, key, refused, make, answer)
      } catch (err) {
        answer(null, this.#failure((err as Error).message))
      }
    })
  }

  refresh (inUse: ReadonlyArray<readonly [string, UpstreamProducer]>): void {
    if (inUse.length === 0) return
    const ticket = ++this.#arrived
    this.#enqueue(ended => {
      const end = (error: string | null): void => {
        if (error !== null) this.#logger.debug({ cluster: this.#cluster.name, error }, 'mesh: producer id mappings could not be written again; asked again within the hour')
        ended()
      }
      try {
        this.#readFor(ticket, error => {
          if (error !== null) return end(error)
          const old: LogRecord[] = []
          for (const [key, producer] of inUse) {
            const e = this.#entries.get(key)
            if (e !== undefined && sameProducer(e.producer, producer) && this.#old(e)) old.push({ key, generation: e.generation, producer })
          }
          this.#appendAll(old, (last, appendError) => {
            if (appendError !== null) return end(appendError)
            if (last < 0n) return end(null)
            this.#catchUp(last, end)
          })
        })
      } catch (err) {
        end((err as Error).message)
      }
    })
  }

  #old (entry: Entry): boolean {
    return this.#now() - entry.writtenAt > this.#config.retentionMs / 2
  }

  #failure (error: string): string {
    return `the producer id log ${this.#config.topic} on cluster ${this.#cluster.name}: ${error}`
  }

  #resolve (ticket: number, key: string, refused: UpstreamProducer | null, make: MakeProducer, done: ProducerAnswer): void {
    const fail = (error: string): void => { done(null, this.#failure(error)) }
    this.#readFor(ticket, error => {
      if (error !== null) return fail(error)
      this.#settleConflicts(settleError => {
        if (settleError !== null) return fail(settleError)
        this.#lookup(key, (known, lookupError) => {
          if (lookupError !== null) return fail(lookupError)
          if (known !== undefined && (refused === null || !sameProducer(known.producer, refused))) return done(known.producer, null)
          const made: ProducerAnswer = (producer, makeError) => {
            if (producer === null) return done(null, makeError)
            const generation = known === undefined ? 0 : known.generation + 1
            this.#appendAll([{ key, generation, producer }], (offset, appendError) => {
              if (appendError !== null) return fail(appendError)
              this.#catchUp(offset, readError => {
                if (readError !== null) return fail(readError)
                // we lost a race: the winner goes up a generation before we use it
                this.#settleConflicts(() => {
                  const winner = this.#entries.get(key)
                  if (winner === undefined) return fail(`the record written at offset ${offset} was not read back`)
                  // another replica wrote the refused one up a generation first: the next batch makes another
                  if (refused !== null && sameProducer(winner.producer, refused)) return fail('the refused producer id was written again first by another kproxy; a new one is taken at the next batch')
                  if (!sameProducer(winner.producer, producer)) {
                    this.#logger.debug({ cluster: this.#cluster.name, key: printable(key), taken: String(producer.producerId), used: String(winner.producer.producerId) }, 'mesh: another kproxy wrote a producer id for this producer first; using that one')
                  }
                  done(winner.producer, null)
                })
              })
            })
          }
          try {
            make(made)
          } catch (err) {
            done(null, (err as Error).message)
          }
        })
      })
    })
  }

  // ---- one operation at a time ------------------------------------------------------------------

  // `op` runs after the operations before it have ended; it calls `end` once it has (the queue
  // goes on without it after OPERATION_LIMIT_MS: a step whose callback never came).
  #enqueue (op: (end: () => void) => void): void {
    this.#queue.push(() => {
      let ended = false
      const end = (): void => {
        if (ended) return
        ended = true
        clearTimeout(limit)
        this.#running = false
        this.#runNext()
      }
      const limit = setTimeout(() => {
        this.#logger.warn({ cluster: this.#cluster.name, topic: this.#config.topic }, `mesh: an operation on the producer id log did not end within ${OPERATION_LIMIT_MS} ms; going on without it`)
        end()
      }, OPERATION_LIMIT_MS)
      limit.unref()
      op(end)
    })
    this.#runNext()
  }

  // A loop, not a recursion: operations that finish at once (served by an earlier read) run one
  // after the other here instead of nesting one stack frame per operation.
  #runNext (): void {
    if (this.#running || this.#draining) return
    this.#draining = true
    try {
      while (!this.#running) {
        const next = this.#queue.shift()
        if (next === undefined) break
        this.#running = true
        next()
      }
    } finally {
      this.#draining = false
    }
  }

  // ---- reading ------------------------------------------------------------------------------------

  // The log read to its end by a read that started after `ticket` arrived.
  #readFor (ticket: number, done: Step): void {
    if (ticket <= this.#served) return done(null)
    const covers = this.#arrived
    this.#catchUp(-1n, error => {
      if (error === null && covers > this.#served) this.#served = covers
      done(error)
    })
  }

  // `key`'s entry: from memory, or, once keys went out of memory, from a read of the whole log.
  #lookup (key: string, done: (entry: Entry | undefined, error: string | null) => void): void {
    const known = this.#entries.get(key)
    if (known !== undefined || !this.#maybeEvicted(key)) return done(known, null)
    const found = new Map<string, Entry>()
    const conflicts = new Set<string>()
    const end = this.#next
    const epoch = this.#epoch
    const scan = (from: bigint, rounds: number): void => {
      this.#readRound(from, (k, value, timestamp) => { if (k === key) applyRecord(found, conflicts, k, value, timestamp) }, (error, next) => {
        if (error !== null) return done(undefined, error)
        if (epoch !== this.#epoch) return done(undefined, 'the log was made again while it was read')
        if (next >= end) {
          const entry = found.get(key)
          if (entry !== undefined) this.#keep(key, entry)
          if (conflicts.has(key)) this.#conflicts.add(key)
          return done(entry, null)
        }
        if (next <= from && rounds > 0) return done(undefined, `no progress at offset ${from} while looking for a mapping`)
        scan(next, rounds + 1)
      }, false)
    }
    scan(0n, 0)
  }

  // Reads the log from #next to its high watermark (and at least past `through`).
  #catchUp (through: bigint, done: Step): void {
    const from = this.#next
    const epoch = this.#epoch
    this.#readRound(from, (key, value, timestamp) => {
      applyRecord(this.#entries, this.#conflicts, key, value, timestamp)
      this.#bound()
    }, (error, next, end) => {
      if (error !== null) return done(error)
      // what was read became void meanwhile: again from where the log now starts
      if (epoch !== this.#epoch) return this.#catchUp(through, done)
      const progressed = next !== from
      this.#next = next
      if (next >= end && next > through) return done(null)
      if (!progressed) return done(`no progress at offset ${next} (high watermark ${end})`)
      this.#catchUp(through, done)
    }, true)
  }

  // One Fetch from `from`: every record at or after it goes to `sink`; then the next offset to
  // read and the high watermark. An offset out of range (retention deleted it, or the topic was
  // made again) moves to the log's start, asked with ListOffsets; `own` says the read is the
  // log's own cursor, whose memory is dropped when the log was made again.
  #readRound (from: bigint, sink: RecordSink, done: (error: string | null, next: bigint, end: bigint) => void, own: boolean): void {
    const epoch = this.#epoch
    this.#leader((node, error) => {
      if (node < 0) return done(error ?? 'no leader', from, from)
      const api = getApi(ApiKey.Fetch).request
      const body = api.create()
      body.replicaId = -1
      body.maxWaitMs = 0
      body.minBytes = 0
      body.maxBytes = FETCH_MAX_BYTES
      body.isolationLevel = 0
      body.topics = [{ ...api.structs.FetchTopic!(), topic: this.#config.topic, partitions: [{ ...api.structs.FetchPartition!(), partition: PARTITION, fetchOffset: from, partitionMaxBytes: FETCH_MAX_BYTES }] }]
      this.#cluster.request(node, ApiKey.Fetch, FETCH_VERSION, body, (answer, fetchError) => {
        if (answer === null) return done(fetchError, from, from)
        if (answer.errorCode !== 0) return done(`Fetch answered ${errorName(answer.errorCode)}`, from, from)
        const p = answer.responses[0]?.partitions[0]
        if (p === undefined) return done('Fetch answered without the partition', from, from)
        if (epoch !== this.#epoch) return done(null, from, from)
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) return this.#outOfRange(node, from, done, own)
        if (p.errorCode !== 0) {
          this.#cluster.stale(this.#config.topic)
          return done(`Fetch answered ${errorName(p.errorCode)}`, from, from)
        }
        let next = from
        for (const b of readBatches(p.records ?? Buffer.alloc(0)).batches) {
          const last = b.header.baseOffset + BigInt(b.header.lastOffsetDelta)
          if (last < next) continue
          if (!isControlBatch(b.header)) {
            let records: KafkaRecord[]
            try {
              records = decodeRecordBatch(b.bytes).records
            } catch (err) {
              // every reader skips the same batch, so they stay in agreement
              this.#logger.warn({ code: 'KPROXY_WARN_MESH_PRODUCER_ID_LOG_RECORD', cluster: this.#cluster.name, topic: this.#config.topic, offset: String(b.header.baseOffset), error: (err as Error).message },
                `mesh: a batch of the producer id log ${this.#config.topic} at offset ${b.header.baseOffset} cannot be read and is skipped`)
              records = []
            }
            for (const r of records) {
              if (b.header.baseOffset + BigInt(r.offsetDelta) < next) continue
              if (r.key !== null && r.value !== null) sink(r.key.toString('utf8'), r.value, Number(recordTimestamp(b.header, r)))
            }
          }
          next = last + 1n
        }
        done(null, next, p.highWatermark)
      })
    })
  }

  #outOfRange (node: number, from: bigint, done: (error: string | null, next: bigint, end: bigint) => void, own: boolean): void {
    const api = getApi(ApiKey.ListOffsets).request
    const ask = (timestamp: bigint, then: (offset: bigint | null, error: string | null) => void): void => {
      const body = api.create()
      body.replicaId = -1
      body.isolationLevel = 0
      body.topics = [{ ...api.structs.ListOffsetsTopic!(), name: this.#config.topic, partitions: [{ ...api.structs.ListOffsetsPartition!(), partitionIndex: PARTITION, currentLeaderEpoch: -1, timestamp }] }]
      this.#cluster.request(node, ApiKey.ListOffsets, LIST_OFFSETS_VERSION, body, (answer, error) => {
        const p = answer?.topics[0]?.partitions[0]
        if (p === undefined) return then(null, error ?? 'ListOffsets answered without the partition')
        if (p.errorCode !== 0) return then(null, `ListOffsets answered ${errorName(p.errorCode)}`)
        then(p.offset, null)
      })
    }
    ask(EARLIEST, (start, error) => {
      if (start === null) return done(error, from, from)
      if (from < start) return done(null, start, start + 1n)
      ask(LATEST, (end, latestError) => {
        if (end === null) return done(latestError, from, from)
        if (from <= end) return done(`offset ${from} out of range between ${start} and ${end}`, from, from)
        // the log is shorter than what was read: made again; what was read from it is void
        this.#logger.warn({ code: 'KPROXY_WARN_MESH_PRODUCER_ID_LOG_RECORD', cluster: this.#cluster.name, topic: this.#config.topic, offset: String(from), end: String(end) },
          `mesh: the producer id log ${this.#config.topic} ends at ${end}, before offset ${from} already read: it was deleted or truncated; reading it again from ${start}`)
        if (own) {
          this.#forget()
          this.#next = start
        }
        done(null, start, start + 1n)
      })
    })
  }

  // The log was made again: what was read of the old one is void, and every resolve reads again.
  #forget (): void {
    this.#epoch++
    this.#entries.clear()
    this.#conflicts.clear()
    this.#evicted = null
    this.#evictedBefore = null
    this.#served = 0
  }

  #maybeEvicted (key: string): boolean {
    return (this.#evicted !== null && hasBits(this.#evicted, key)) || (this.#evictedBefore !== null && hasBits(this.#evictedBefore, key))
  }

  #keep (key: string, entry: Entry): void {
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    this.#bound()
  }

  #bound (): void {
    if (this.#entries.size <= this.#maxEntries) return
    const oldest = this.#entries.keys().next().value!
    this.#entries.delete(oldest)
    this.#conflicts.delete(oldest)
    const now = this.#now()
    if (this.#evicted !== null && now - this.#evictedSince > 2 * this.#config.retentionMs + EVICTED_SLACK_MS) {
      this.#evictedBefore = this.#evicted
      this.#evicted = null
    }
    if (this.#evicted === null) {
      this.#evicted = new Uint8Array(EVICTED_BITS / 8)
      this.#evictedSince = now
    }
    setBits(this.#evicted, oldest)
    if (!this.#warnedFull) {
      this.#warnedFull = true
      this.#logger.warn({ code: 'KPROXY_WARN_MESH_PRODUCER_ID_LOG_FULL', entries: this.#maxEntries, topic: this.#config.topic },
        `mesh: more than ${this.#maxEntries} producer id mappings in the log ${this.#config.topic}; the oldest are dropped from memory and looked for in the whole log when asked for`)
    }
  }

  // Each conflict: its winner written again one generation up (one pass; what the read after it
  // finds waits for the next operation).
  #settleConflicts (done: Step): void {
    const keys = [...this.#conflicts]
    this.#conflicts.clear()
    let last = -1n
    const next = (i: number): void => {
      if (i >= keys.length) return last < 0n ? done(null) : this.#catchUp(last, done)
      const key = keys[i]!
      const winner = this.#entries.get(key)
      if (winner === undefined) return next(i + 1)
      this.#appendAll([{ key, generation: winner.generation + 1, producer: winner.producer }], (offset, error) => {
        if (error !== null) {
          for (const k of keys.slice(i)) this.#conflicts.add(k)
          return done(error)
        }
        last = offset
        next(i + 1)
      })
    }
    next(0)
  }

  // ---- the topic ------------------------------------------------------------------------------------

  // The partition's leader, the topic created first when the cluster does not have it.
  #leader (done: (node: number, error: string | null) => void, attempt = 0, created = false): void {
    const topic = this.#config.topic
    const known = this.#cluster.leader(topic, PARTITION)
    if (known >= 0 && this.#cluster.fresh(topic, Date.now())) {
      this.#checkTopicId(this.#cluster.topics.get(topic)?.topicId)
      return done(known, null)
    }
    this.#cluster.metadata([topic], false, (answer, error) => {
      if (answer === null) return done(-1, error)
      const t = answer.topics.find((x: any) => x.name === topic)
      const errorCode: number = t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      this.#checkTopicId(this.#cluster.topics.get(topic)?.topicId)
      const leader = this.#cluster.leader(topic, PARTITION)
      if (leader >= 0) return done(leader, null)
      // an error that waiting does not mend (an ACL, a bad name): at once
      if (errorCode !== 0 && errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && errorCode !== ErrorCode.LEADER_NOT_AVAILABLE) return done(-1, `Metadata answered ${errorName(errorCode)}`)
      if (attempt >= LEADER_ATTEMPTS) return done(-1, `no leader for partition ${PARTITION} after ${attempt} attempts (${errorName(errorCode)})`)
      if (errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || created) {
        setTimeout(() => this.#leader(done, attempt + 1, created), LEADER_RETRY_MS).unref()
        return
      }
      this.#create(createError => {
        if (createError !== null) return done(-1, createError)
        // asked again at once: the controller may have elected the leader already
        this.#leader(done, attempt + 1, true)
      })
    })
  }

  // A topic id other than the one read before: the log was deleted and made again.
  #checkTopicId (id: string | undefined): void {
    if (id === undefined || id === ZERO_UUID) return
    if (this.#topicId !== null && this.#topicId !== id) {
      this.#logger.warn({ code: 'KPROXY_WARN_MESH_PRODUCER_ID_LOG_RECORD', cluster: this.#cluster.name, topic: this.#config.topic },
        `mesh: the producer id log ${this.#config.topic} was deleted and made again; reading it from its start`)
      this.#forget()
      this.#next = 0n
    }
    this.#topicId = id
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

  // Writes `records`, REFRESH_BATCH per Produce, one Produce after the other; then the offset of
  // the last one written (-1 when there was none), or why not.
  #appendAll (records: readonly LogRecord[], done: (last: bigint, error: string | null) => void): void {
    this.#appendFrom(records, 0, -1n, done)
  }

  #appendFrom (records: readonly LogRecord[], from: number, last: bigint, done: (last: bigint, error: string | null) => void): void {
    if (from >= records.length) return done(last, null)
    const node = this.#cluster.leader(this.#config.topic, PARTITION)
    if (node < 0) return done(last, 'no leader')
    const chunk = records.slice(from, from + REFRESH_BATCH)
    const now = BigInt(this.#now())
    const batch = encodeRecordBatch({
      baseTimestamp: now,
      records: chunk.map(r => ({ key: Buffer.from(r.key, 'utf8'), value: Buffer.from(JSON.stringify({ v: VALUE_VERSION, g: r.generation, id: String(r.producer.producerId), e: r.producer.producerEpoch }), 'utf8') }))
    })
    const api = getApi(ApiKey.Produce).request
    const body = api.create()
    body.transactionalId = null
    body.acks = -1
    body.timeoutMs = PRODUCE_TIMEOUT_MS
    body.topicData = [{ ...api.structs.TopicProduceData!(), name: this.#config.topic, partitionData: [{ ...api.structs.PartitionProduceData!(), index: PARTITION, records: batch }] }]
    this.#cluster.request(node, ApiKey.Produce, PRODUCE_VERSION, body, (answer, error) => {
      if (answer === null) return done(last, error ?? 'no answer')
      const p = answer.responses[0]?.partitionResponses[0]
      if (p === undefined) return done(last, 'Produce answered without the partition')
      if (p.errorCode !== 0) {
        this.#cluster.stale(this.#config.topic)
        return done(last, `Produce answered ${errorName(p.errorCode)}`)
      }
      this.#appendFrom(records, from + chunk.length, (p.baseOffset as bigint) + BigInt(chunk.length - 1), done)
    })
  }
}

interface LogRecord {
  readonly key: string
  readonly generation: number
  readonly producer: UpstreamProducer
}

// three FNV-1a hashes of `key` into the bit set
function bitsOf (key: string): [number, number, number] {
  let a = 0x811c9dc5
  let b = 0x01000193
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x811c9dc5) ^ (b >>> 13)
  }
  const mask = EVICTED_BITS - 1
  return [(a >>> 0) & mask, (b >>> 0) & mask, ((a ^ Math.imul(b, 31)) >>> 0) & mask]
}

function setBits (bits: Uint8Array, key: string): void {
  for (const i of bitsOf(key)) bits[i >>> 3]! |= 1 << (i & 7)
}

function hasBits (bits: Uint8Array, key: string): boolean {
  for (const i of bitsOf(key)) if ((bits[i >>> 3]! & (1 << (i & 7))) === 0) return false
  return true
}

// The rule, for the log's memory and for a scan: the first record of a key's highest generation
// stands; a later one of that generation naming another producer is a conflict; one naming the
// same producer (written again) moves its time on.
function applyRecord (entries: Map<string, Entry>, conflicts: Set<string>, key: string, value: Buffer, timestamp: number): void {
  let parsed: { v?: unknown, g?: unknown, id?: unknown, e?: unknown }
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch {
    return
  }
  if (parsed.v !== VALUE_VERSION || typeof parsed.g !== 'number' || !Number.isSafeInteger(parsed.g) || typeof parsed.id !== 'string' || typeof parsed.e !== 'number' || !/^\d{1,19}$/.test(parsed.id)) return
  const producer: UpstreamProducer = { producerId: BigInt(parsed.id), producerEpoch: parsed.e }
  const known = entries.get(key)
  if (known === undefined || parsed.g > known.generation) {
    entries.delete(key)
    entries.set(key, { generation: parsed.g, producer, writtenAt: timestamp })
    conflicts.delete(key)
    return
  }
  if (parsed.g < known.generation) return
  if (sameProducer(known.producer, producer)) {
    // written again: the newest in memory too, so that the bound drops it last
    known.writtenAt = Math.max(known.writtenAt, timestamp)
    entries.delete(key)
    entries.set(key, known)
  } else {
    conflicts.add(key)
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
