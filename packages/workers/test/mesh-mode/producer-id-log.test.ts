// The producer id log's rules on an in-memory partition: a mapping another replica wrote is used
// without taking a new producer id; two replicas taking one for the same key at once agree on the
// first written; a refused mapping is replaced by the next generation, which every replica then
// uses; records past retention are skipped; a failed write answers an error and uses nothing; the
// topic is created when missing; the cache is bounded. That real clusters and real kproxy
// processes share it is test/integration/mesh-mode-producer-ids.test.ts.
import t from 'tap'
import pino from 'pino'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { readBatchHeader } from '@kproxy/core/protocol/record-batch'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { ProducerIdLog } from '../../src/mesh-mode/producer-id-log.ts'
import type { LogCluster } from '../../src/mesh-mode/producer-id-log.ts'
import type { TopicMeta } from '../../src/mesh-mode/mesh-cluster.ts'
import type { UpstreamProducer } from '../../src/mesh-mode/producer-ids.ts'

const CONFIG = { topic: '__kproxy_producer_ids', retentionMs: 604_800_000, replicationFactor: -1 }
const silent = pino({ level: 'silent' })

// One partition of one broker (node 1), answering on the next turn of the event loop.
class MemoryCluster implements LogCluster {
  readonly name = 'home'
  readonly topics = new Map<string, TopicMeta>()
  readonly batches: Buffer[] = []
  logStart = 0n
  created: any[] = []
  failProduce = 0
  metadataError = 0
  constructor (exists = true) {
    if (exists) this.#exists()
  }

  #exists (): void {
    this.topics.set(CONFIG.topic, { name: CONFIG.topic, topicId: 'x', errorCode: 0, isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0 }] })
  }

  leader (topic: string): number { return this.topics.has(topic) ? 1 : -1 }
  fresh (topic: string): boolean { return this.topics.has(topic) && !this.staled }
  staled = false
  stale (): void { this.staled = true }
  metadataAsked = 0
  metadata (_topics: readonly string[] | null, _auto: boolean, done: (body: any, error: string | null) => void): void {
    this.metadataAsked++
    if (this.topics.has(CONFIG.topic)) this.staled = false
    if (this.metadataError !== 0) {
      setImmediate(() => done({ topics: [{ name: CONFIG.topic, errorCode: this.metadataError }] }, null))
      return
    }
    setImmediate(() => done({ topics: this.topics.has(CONFIG.topic) ? [{ name: CONFIG.topic, errorCode: 0 }] : [{ name: CONFIG.topic, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] }, null))
  }

  // the offset the next record gets (a batch takes one offset per record)
  end = 0n
  get highWatermark (): bigint { return this.end }

  // appends a batch: its base offset set, as the broker does
  append (batch: Buffer): bigint {
    const offset = this.end
    batch.writeBigInt64BE(offset, 0)
    this.batches.push(batch)
    this.end += BigInt(readBatchHeader(batch).recordCount)
    return offset
  }

  // the topic deleted and made again
  recreate (): void {
    this.batches.length = 0
    this.logStart = 0n
    this.end = 0n
  }

  // requests asked of it, by API key
  readonly #asked = new Map<number, number>()
  asked (apiKey: number): number { return this.#asked.get(apiKey) ?? 0 }

  request (_node: number, apiKey: number, _version: number, body: any, done: (body: any, error: string | null) => void): void {
    this.#asked.set(apiKey, this.asked(apiKey) + 1)
    setImmediate(() => {
      if (apiKey === ApiKey.CreateTopics) {
        this.created.push(body.topics[0])
        this.#exists()
        return done({ topics: [{ name: CONFIG.topic, errorCode: 0 }] }, null)
      }
      if (apiKey === ApiKey.Produce) {
        if (this.failProduce > 0) {
          this.failProduce--
          return done({ responses: [{ partitionResponses: [{ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, baseOffset: -1n }] }] }, null)
        }
        const batch = Buffer.from(body.topicData[0].partitionData[0].records)
        const offset = this.append(batch)
        return done({ responses: [{ partitionResponses: [{ errorCode: 0, baseOffset: offset }] }] }, null)
      }
      if (apiKey === ApiKey.Fetch) {
        const from: bigint = body.topics[0].partitions[0].fetchOffset
        const base = { errorCode: 0, highWatermark: this.highWatermark, logStartOffset: this.logStart, records: null as Buffer | null }
        // as Kafka answers it: no log start offset
        if (from < this.logStart || from > this.highWatermark) return done({ errorCode: 0, responses: [{ partitions: [{ ...base, logStartOffset: -1n, highWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }] }] }, null)
        // at most two batches per answer, so that reads take several rounds
        const first = this.batches.findIndex(b => { const h = readBatchHeader(b); return h.baseOffset + BigInt(h.lastOffsetDelta) >= from })
        const slice = first < 0 ? [] : this.batches.slice(first, first + 2)
        return done({ errorCode: 0, responses: [{ partitions: [{ ...base, records: Buffer.concat(slice) }] }] }, null)
      }
      if (apiKey === ApiKey.ListOffsets) {
        const ts: bigint = body.topics[0].partitions[0].timestamp
        return done({ topics: [{ partitions: [{ errorCode: 0, offset: ts === -2n ? this.logStart : this.highWatermark }] }] }, null)
      }
      done(null, `unexpected api ${apiKey}`)
    })
  }
}

const resolve = async (log: ProducerIdLog, key: string, make: () => UpstreamProducer | null, refused: UpstreamProducer | null = null): Promise<{ producer: UpstreamProducer | null, error: string | null, made: number }> => {
  let made = 0
  return await new Promise(resolve => {
    log.resolve(key, refused, done => {
      made++
      const p = make()
      done(p, p === null ? 'cannot' : null)
    }, (producer, error) => resolve({ producer, error, made }))
  })
}

const pid = (n: number): UpstreamProducer => ({ producerId: BigInt(n), producerEpoch: 0 })

// a record written by some other replica, straight into the partition
function write (cluster: MemoryCluster, key: string, generation: number, id: number, timestamp = Date.now()): void {
  const batch = encodeRecordBatch({ baseTimestamp: BigInt(timestamp), records: [{ key: Buffer.from(key), value: Buffer.from(JSON.stringify({ v: 1, g: generation, id: String(id), e: 0 })) }] })
  cluster.append(batch)
}

t.test('a mapping another replica wrote is used as is', async t => {
  const cluster = new MemoryCluster()
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  const b = new ProducerIdLog(cluster, CONFIG, silent)
  const first = await resolve(a, 'b\u00007\u00000', () => pid(100))
  t.same(first, { producer: pid(100), error: null, made: 1 }, 'the first replica takes one and writes it')
  const second = await resolve(b, 'b\u00007\u00000', () => pid(200))
  t.same(second, { producer: pid(100), error: null, made: 0 }, 'the second reads it and takes none')
  t.equal(cluster.batches.length, 1, 'one record in the log')
  const again = await resolve(a, 'b\u00007\u00000', () => pid(300))
  t.same(again.producer, pid(100), 'the first replica, asked again (its process cache missed): the same')
})

t.test('two replicas taking a producer id for one key at once both use the first written', async t => {
  const cluster = new MemoryCluster()
  // other keys first, so that reads take several rounds
  const seed = new ProducerIdLog(cluster, CONFIG, silent)
  for (let i = 0; i < 5; i++) await resolve(seed, `c\u0000${i}\u00000`, () => pid(i))
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  const b = new ProducerIdLog(cluster, CONFIG, silent)
  const [ra, rb] = await Promise.all([resolve(a, 'k', () => pid(11)), resolve(b, 'k', () => pid(22))])
  t.same([ra.made, rb.made], [1, 1], 'both took one (neither saw the other\'s yet)')
  t.same(ra.producer, rb.producer, 'and both use the same')
  t.same(ra.producer, pid(11), 'the one written first')
  const late = new ProducerIdLog(cluster, CONFIG, silent)
  t.same((await resolve(late, 'k', () => pid(33))).producer, pid(11), 'as does a replica started later')
})

t.test('a refused mapping is replaced by the next generation, and every replica moves to it', async t => {
  const cluster = new MemoryCluster()
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  const b = new ProducerIdLog(cluster, CONFIG, silent)
  t.same((await resolve(a, 'k', () => pid(1))).producer, pid(1))
  t.same((await resolve(b, 'k', () => pid(9))).producer, pid(1), 'b uses generation 0')
  const replaced = await resolve(b, 'k', () => pid(2), pid(1))
  t.same(replaced, { producer: pid(2), error: null, made: 1 }, 'b, refused by the cluster: a new one')
  t.same((await resolve(a, 'k', () => pid(9))).producer, pid(2), 'a reads generation 1')
  const stale = await resolve(a, 'k', () => pid(9), pid(1))
  t.same(stale, { producer: pid(2), error: null, made: 0 }, 'a refusal of generation 0 that comes late takes nothing new')
})

t.test('records past retention are skipped', async t => {
  const cluster = new MemoryCluster()
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  await resolve(a, 'old', () => pid(1))
  await resolve(a, 'new', () => pid(2))
  // the first record deleted by retention
  cluster.batches.shift()
  cluster.logStart = 1n
  const b = new ProducerIdLog(cluster, CONFIG, silent)
  t.same(await resolve(b, 'new', () => pid(9)), { producer: pid(2), error: null, made: 0 }, 'read from the log start offset')
  t.same((await resolve(b, 'old', () => pid(3))).producer, pid(3), 'a mapping gone with retention is taken again')
  // the topic deleted and made again: shorter than what b read
  cluster.recreate()
  write(cluster, 'new', 0, 7)
  t.same(await resolve(b, 'x', () => pid(8)), { producer: pid(8), error: null, made: 1 }, 'a log made again is read from its start')
  t.same(await resolve(b, 'new', () => pid(9)), { producer: pid(7), error: null, made: 0 }, 'and what was read before it is forgotten')
})

t.test('a failed write answers an error, and the producer id taken is not used', async t => {
  const cluster = new MemoryCluster()
  cluster.failProduce = 1
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  const failed = await resolve(a, 'k', () => pid(1))
  t.equal(failed.producer, null)
  t.match(failed.error, /__kproxy_producer_ids on cluster home: Produce answered NOT_ENOUGH_REPLICAS/)
  const asked = cluster.metadataAsked
  t.same((await resolve(a, 'k', () => pid(2))).producer, pid(2), 'the next resolve takes and writes another')
  t.equal(cluster.metadataAsked, asked + 1, 'after asking the cluster for the partition\'s leader again')
  const make = await resolve(a, 'x', () => null)
  t.same([make.producer, make.error], [null, 'cannot'], 'a producer id the cluster could not give: its error')
})

t.test('the topic is created when the cluster does not have it', async t => {
  const cluster = new MemoryCluster(false)
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  t.same((await resolve(a, 'k', () => pid(1))).producer, pid(1))
  t.equal(cluster.created.length, 1, 'one CreateTopics')
  const c = cluster.created[0]
  t.same([c.name, c.numPartitions, c.replicationFactor], [CONFIG.topic, 1, -1])
  t.same(c.configs.map((x: any) => `${x.name}=${x.value}`), ['cleanup.policy=delete', 'retention.ms=604800000'])
  t.equal(readBatchHeader(cluster.batches[0]!).producerId, -1n, 'the log is written without a producer id of its own')
})

t.test('past maxEntries keys in memory, a key not in memory is looked for in the whole log: no second producer id', async t => {
  const cluster = new MemoryCluster()
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  for (let i = 0; i < 6; i++) await resolve(a, `k${i}`, () => pid(i))
  const small = new ProducerIdLog(cluster, CONFIG, silent, 2)
  t.same(await resolve(small, 'k5', () => pid(99)), { producer: pid(5), error: null, made: 0 }, 'the newest key, in memory')
  t.equal(small.size, 2, 'two kept')
  t.same(await resolve(small, 'k0', () => pid(99)), { producer: pid(0), error: null, made: 0 }, 'the oldest, dropped from memory: found in the log, none taken')
  t.same(await resolve(small, 'none', () => pid(50)), { producer: pid(50), error: null, made: 1 }, 'a key the log does not have: taken')
  t.same(await resolve(a, 'none', () => pid(51)), { producer: pid(50), error: null, made: 0 }, 'and the other replica uses it')
})

t.test('the set of dropped keys is started anew after twice the retention and the slack, the one before still asked', async t => {
  const cluster = new MemoryCluster()
  let now = 1_000_000_000_000
  for (let i = 0; i < 10; i++) write(cluster, `k${i}`, 0, i, now)
  const small = new ProducerIdLog(cluster, CONFIG, silent, 2, () => now)
  const scans = async (key: string): Promise<number> => {
    const before = cluster.asked(ApiKey.Fetch)
    await resolve(small, key, () => pid(99))
    return cluster.asked(ApiKey.Fetch) - before
  }
  await resolve(small, 'k9', () => pid(99))
  // a scan reads the whole log, two records per Fetch: at least 5 Fetch requests here
  t.ok(await scans('k0') >= 5, 'k0, dropped from memory: looked for in the whole log')
  const period = 2 * CONFIG.retentionMs + 7 * 24 * 3_600_000
  now += period + 1
  // two more keys push two out: a new set is started, k0's set is the one before
  write(cluster, 'x', 0, 10, now)
  write(cluster, 'y', 0, 11, now)
  await resolve(small, 'y', () => pid(99))
  t.ok(await scans('k1') >= 5, 'a key of the set before: still looked for')
  now += period + 1
  write(cluster, 'z', 0, 12, now)
  write(cluster, 'w', 0, 13, now)
  await resolve(small, 'w', () => pid(99))
  // k2 went out in the first period; two periods later it is in neither set (its record is past retention)
  t.equal(await scans('k2'), 2, 'a key dropped two periods ago: no scan (the read to the log end, and the read-back of the one taken)')
})

t.test('a conflict (a later record of the same generation naming another producer) is settled one generation up, so the winner stands after retention', async t => {
  const cluster = new MemoryCluster()
  write(cluster, 'k', 0, 1)
  // the loser of a race, which stopped before it read its own record back
  write(cluster, 'k', 0, 2)
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  t.same(await resolve(a, 'k', () => pid(3)), { producer: pid(1), error: null, made: 0 }, 'the first record stands')
  t.equal(cluster.batches.length, 3, 'and the reader wrote it again, one generation up')
  cluster.batches.shift()
  cluster.logStart = 1n
  const b = new ProducerIdLog(cluster, CONFIG, silent)
  t.same(await resolve(b, 'k', () => pid(4)), { producer: pid(1), error: null, made: 0 }, 'after retention deleted the first record, a new replica still uses producer 1')
})

t.test('mappings in use whose record is older than half the retention are written again in one Produce, and survive retention', async t => {
  const cluster = new MemoryCluster()
  let now = 1_000_000_000_000
  write(cluster, 'k', 0, 1, now)
  write(cluster, 'j', 0, 2, now)
  // a worker whose log never read the topic (its mappings came from the process's registry)
  const a = new ProducerIdLog(cluster, CONFIG, silent, undefined, () => now)
  const producesBefore = cluster.asked(ApiKey.Produce)
  const produced = (): number => cluster.asked(ApiKey.Produce) - producesBefore
  const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 30)) }
  a.refresh([['k', pid(1)], ['j', pid(2)]])
  await settle()
  t.equal(cluster.batches.length, 2, 'young: not written again')
  now += CONFIG.retentionMs / 2 + 1
  a.refresh([['k', pid(9)], ['j', pid(2)], ['k', pid(1)], ['unknown', pid(3)]])
  await settle()
  t.equal(cluster.batches.length, 3, 'old: written again, in one batch')
  t.equal(produced(), 1, 'one Produce for both (a producer not the one in the log, and a key the log does not have, left out)')
  a.refresh([['k', pid(1)]])
  await settle()
  t.equal(cluster.batches.length, 3, 'and not again while the copy is young')
  cluster.batches.splice(0, 2)
  cluster.logStart = 2n
  const b = new ProducerIdLog(cluster, CONFIG, silent)
  t.same(await resolve(b, 'k', () => pid(4)), { producer: pid(1), error: null, made: 0 }, 'k\'s copy stands after retention deleted the first records')
  t.same(await resolve(b, 'j', () => pid(4)), { producer: pid(2), error: null, made: 0 }, 'and j\'s')
})

t.test('2,500 old mappings in use: written again 1,000 per Produce, all read back', async t => {
  const cluster = new MemoryCluster()
  let now = 1_000_000_000_000
  const N = 2500
  const inUse: Array<[string, UpstreamProducer]> = []
  for (let i = 0; i < N; i++) {
    write(cluster, `m${i}`, 0, i, now)
    inUse.push([`m${i}`, pid(i)])
  }
  const log = new ProducerIdLog(cluster, CONFIG, silent, undefined, () => now)
  const producesBefore = cluster.asked(ApiKey.Produce)
  const produced = (): number => cluster.asked(ApiKey.Produce) - producesBefore
  now += CONFIG.retentionMs / 2 + 1
  log.refresh(inUse)
  for (let i = 0; i < 200 && produced() < 3; i++) await new Promise(resolve => setTimeout(resolve, 10))
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(produced(), 3, 'three Produce requests')
  t.equal(cluster.batches.length, N + 3, 'three batches appended')
  log.refresh(inUse)
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(produced(), 3, 'asked again at once: every copy was read back (through the last record of the last batch), so nothing is old')
})

t.test('a conflict settle that fails keeps every unsettled key for the next operation', async t => {
  const cluster = new MemoryCluster()
  write(cluster, 'a', 0, 1)
  write(cluster, 'b', 0, 2)
  write(cluster, 'a', 0, 3)
  write(cluster, 'b', 0, 4)
  const log = new ProducerIdLog(cluster, CONFIG, silent)
  cluster.failProduce = 1
  const failed = await resolve(log, 'x', () => pid(9))
  t.match(failed.error, /NOT_ENOUGH_REPLICAS/, 'the settle failed, and so did the resolve')
  t.same((await resolve(log, 'x', () => pid(9))).producer, pid(9), 'the next operation settles both and goes on')
  const fresh = new ProducerIdLog(cluster, CONFIG, silent)
  cluster.batches.splice(0, 4)
  cluster.logStart = 4n
  t.same([(await resolve(fresh, 'a', () => pid(0))).producer, (await resolve(fresh, 'b', () => pid(0))).producer], [pid(1), pid(2)], 'both winners were written one generation up')
})

t.test('a replacement for a refused producer whose generation another kproxy filled with that same producer: an error, and the next one succeeds', async t => {
  const cluster = new MemoryCluster()
  write(cluster, 'k', 0, 1)
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  t.same((await resolve(a, 'k', () => pid(9))).producer, pid(1))
  // while a makes its replacement, another replica settles an old conflict with producer 1 at generation 1
  const replaced = await resolve(a, 'k', () => { write(cluster, 'k', 1, 1); return pid(5) }, pid(1))
  t.equal(replaced.producer, null, 'not the refused producer')
  t.match(replaced.error, /refused producer id was written again first/)
  t.same((await resolve(a, 'k', () => pid(6), pid(1))).producer, pid(6), 'the next resolve takes a new one')
})

t.test('a log deleted and made again (a new topic id) is read from its start', async t => {
  const cluster = new MemoryCluster()
  write(cluster, 'k', 0, 1)
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  t.same((await resolve(a, 'k', () => pid(9))).producer, pid(1))
  cluster.recreate()
  // the new log: k at offset 0, and a later record of k's generation (the loser of a race)
  write(cluster, 'k', 0, 3)
  write(cluster, 'k', 0, 4)
  cluster.topics.set(CONFIG.topic, { ...cluster.topics.get(CONFIG.topic)!, topicId: 'another' })
  cluster.staled = true
  t.same((await resolve(a, 'k', () => pid(9))).producer, pid(3), 'the new log\'s mapping, not the one read before')
})

t.test('a make that throws, and a topic the cluster will not show: errors, and the queue goes on', async t => {
  const cluster = new MemoryCluster()
  const a = new ProducerIdLog(cluster, CONFIG, silent)
  const thrown = await new Promise<{ producer: unknown, error: string | null }>(resolve => {
    a.resolve('k', null, () => { throw new Error('boom') }, (producer, error) => resolve({ producer, error }))
  })
  t.equal(thrown.producer, null)
  t.match(thrown.error, /boom/)
  t.same((await resolve(a, 'k', () => pid(1))).producer, pid(1), 'the next resolve runs')
  const denied = new MemoryCluster(false)
  denied.metadataError = ErrorCode.TOPIC_AUTHORIZATION_FAILED
  const started = Date.now()
  const d = await resolve(new ProducerIdLog(denied, CONFIG, silent), 'k', () => pid(1))
  t.match(d.error, /TOPIC_AUTHORIZATION_FAILED/, 'an authorization error')
  t.ok(Date.now() - started < 1000, 'at once, not after retries')
})

t.test('resolves that arrive while one reads the log are served by the next read: one read for many, none skipped', async t => {
  const cluster = new MemoryCluster()
  const writer = new ProducerIdLog(cluster, CONFIG, silent)
  for (let i = 0; i < 20; i++) await resolve(writer, `k${i}`, () => pid(i))
  // and many more written by others, so that thousands of resolves are served by one read
  for (let i = 20; i < 3000; i++) write(cluster, `k${i}`, 0, i)
  const MANY = 3000
  const fetchesBefore = cluster.asked(ApiKey.Fetch)
  const reader = new ProducerIdLog(cluster, CONFIG, silent)
  const all = await Promise.all(Array.from({ length: MANY }, (_, i) => resolve(reader, `k${i}`, () => pid(100_000 + i))))
  t.same(all.map(r => r.producer), Array.from({ length: MANY }, (_, i) => pid(i)), `every one of ${MANY} answered with the mapping written before (no stack overflow)`)
  t.same(all.filter(r => r.made > 0).length, 0, 'none taken anew')
  const fetches = cluster.asked(ApiKey.Fetch) - fetchesBefore
  t.ok(fetches <= MANY / 2 + 1, `one read to the end (${MANY / 2} rounds of 2 records, and one empty answer) served them all (${fetches} Fetch requests)`)
  // a mapping written after a resolve arrived is still seen by that resolve's own read
  await resolve(writer, 'late', () => pid(500))
  t.same((await resolve(reader, 'late', () => pid(501))).producer, pid(500), 'a later resolve reads again and finds the newer mapping')
})
