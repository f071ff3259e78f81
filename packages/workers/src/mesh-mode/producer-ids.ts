// Producer ids of idempotent producers across the clusters of a mesh. A producer id is allocated
// by one cluster (the one its InitProducerId went to: the default home cluster for a producer
// without transactional id) and means nothing on the others: there the same number may be
// another producer's, whose sequence numbers would then collide with this one's
// (OUT_OF_ORDER_SEQUENCE_NUMBER, or a batch taken for a duplicate: acknowledged, never written).
// So for each (client producer id, epoch, other cluster) kproxy takes a producer id of its own
// on that cluster (InitProducerId without transactional id, on the worker's shared connection)
// and the produce handler writes it into the batches bound there (record-batch-producer.ts).
// The mappings are the process's, not a worker's: a worker caches them and asks the registry
// (producer-id-registry.ts, held by the supervisor) on a miss, so a client that reconnects to
// another worker and retries a batch gets the same producer id on the cluster, and the cluster
// answers the retry as a duplicate instead of writing it twice.
//
// Bounds of the cache: at most MAX_ENTRIES mappings per worker, least recently used first out;
// one unused for IDLE_MS is dropped when a new one is made. A dropped entry is asked of the
// registry again on the next batch.
// Which cluster allocated a client's producer id is learnt from the InitProducerId answers this
// worker forwarded (at most MAX_ENTRIES, oldest first out); an id not seen here (the client asked
// on another connection that landed on another worker, or before a restart) is taken to be the
// default home cluster's, where every non-transactional InitProducerId of the mesh goes.
// Across processes (kproxy replicas, a restart) the mappings are shared through a log topic of the
// default home cluster (producer-id-log.ts): a mapping no worker of this process has is looked up
// there before one is taken, and written there before it is used.
import type { Logger } from 'pino'
import type { BatchProducer } from '@kproxy/core/protocol/record-batch-producer'
import { localClaims } from './producer-id-registry.ts'
import { processOnlyStore } from './producer-id-log.ts'
import type { ProducerIdStore } from './producer-id-log.ts'
import type { ProducerClaim, ProducerIdClaims } from './producer-id-registry.ts'

export const MAX_ENTRIES = 10_000
export const IDLE_MS = 15 * 60_000
// the warning that mappings still in use are dropped, at most this often
const FULL_WARNING_MS = 60_000

export interface UpstreamProducer {
  readonly producerId: bigint
  readonly producerEpoch: number
}

export type ProducerAnswer = (producer: UpstreamProducer | null, error: string | null) => void

// A cluster as the map needs it: a name, whether it is down, and kproxy's own InitProducerId there.
export interface ProducerIdSource {
  readonly name: string
  readonly down: boolean
  newProducerId (done: ProducerAnswer): void
}

export interface ProducerIdBounds {
  readonly maxEntries: number
  readonly idleMs: number
}

interface Mapping {
  readonly producer: UpstreamProducer
  usedAt: number
}

export class MeshProducerIds {
  readonly #logger: Logger
  readonly #bounds: ProducerIdBounds
  readonly #now: () => number
  readonly #claims: ProducerIdClaims
  readonly #store: ProducerIdStore
  // key -> the producer the cluster refused (at most maxEntries): the log's mapping of that key is
  // replaced rather than used again
  readonly #refused = new Map<string, UpstreamProducer>()
  // client producer id -> the cluster that allocated it (insertion order: oldest first)
  readonly #allocatedBy = new Map<bigint, string>()
  // cluster, client producer id, epoch -> kproxy's producer there (least recently used first)
  readonly #mapped = new Map<string, Mapping>()
  // InitProducerId under way, by the same key, with their waiters
  readonly #pending = new Map<string, ProducerAnswer[]>()
  #fullWarnedAt = Number.NEGATIVE_INFINITY

  constructor (logger: Logger, claims: ProducerIdClaims = localClaims(), bounds: ProducerIdBounds = { maxEntries: MAX_ENTRIES, idleMs: IDLE_MS }, now: () => number = Date.now, store: ProducerIdStore = processOnlyStore) {
    this.#logger = logger
    this.#claims = claims
    this.#store = store
    this.#bounds = bounds
    this.#now = now
  }

  get size (): number { return this.#mapped.size }

  // An InitProducerId answer kproxy forwarded: `cluster` allocated `producerId`.
  allocated (producerId: bigint, cluster: string): void {
    if (producerId < 0n) return
    this.#allocatedBy.delete(producerId)
    this.#allocatedBy.set(producerId, cluster)
    if (this.#allocatedBy.size > this.#bounds.maxEntries) this.#allocatedBy.delete(this.#allocatedBy.keys().next().value!)
  }

  // The cluster that allocated `producerId`; `otherwise` when this worker never saw it allocated.
  allocatorOf (producerId: bigint, otherwise: string): string {
    return this.#allocatedBy.get(producerId) ?? otherwise
  }

  // kproxy's producer on `cluster` standing for the client's `from`: at once when cached, else
  // from the registry, which has it or lets this worker take one (kproxy's own InitProducerId
  // there; one per key, however many batches of however many workers wait for it).
  // An error is not remembered: the next batch asks again.
  lookup (cluster: ProducerIdSource, from: BatchProducer, done: ProducerAnswer): void {
    const key = keyOf(cluster.name, from)
    const known = this.#mapped.get(key)
    if (known !== undefined) {
      known.usedAt = this.#now()
      // most recently used last
      this.#mapped.delete(key)
      this.#mapped.set(key, known)
      done(known.producer, null)
      return
    }
    const waiting = this.#pending.get(key)
    if (waiting !== undefined) {
      waiting.push(done)
      return
    }
    const waiters = [done]
    this.#pending.set(key, waiters)
    const finish = (producer: UpstreamProducer | null, error: string | null): void => {
      this.#pending.delete(key)
      if (producer !== null) this.#insert(key, { producer, usedAt: this.#now() })
      for (const w of waiters) w(producer, error)
    }
    this.#claims.claim(key, (claim: ProducerClaim) => {
      if (claim.kind === 'known') finish(claim.producer, null)
      else if (claim.kind === 'failed') finish(null, claim.error)
      else this.#make(cluster, from, key, finish)
    })
  }

  #make (cluster: ProducerIdSource, from: BatchProducer, key: string, finish: ProducerAnswer): void {
    // a cluster known to be down has said so in the log already
    const wasDown = cluster.down
    const refused = this.#refused.get(key) ?? null
    this.#store.resolve(key, refused, made => { cluster.newProducerId(made) }, (producer, error) => {
      if (producer !== null) this.#refused.delete(key)
      this.#claims.made(key, producer, error)
      if (producer === null) {
        const fields = { code: 'KPROXY_WARN_MESH_PRODUCER_ID_FAILED', cluster: cluster.name, producerId: String(from.producerId), error }
        const message = `mesh: cannot get a producer id on cluster ${cluster.name} for producer ${from.producerId}: ${error}; its partitions there get a retriable error`
        if (wasDown) this.#logger.debug(fields, message)
        else this.#logger.warn(fields, message)
      }
      finish(producer, error)
    })
  }

  // Every mapping used within idleMs, handed to the shared store, which writes it again when its
  // record grows old (producer-id-log.ts): asked periodically by the mesh.
  refreshInUse (): void {
    const now = this.#now()
    const inUse: Array<[string, UpstreamProducer]> = []
    for (const [key, m] of this.#mapped) {
      if (now - m.usedAt < this.#bounds.idleMs) inUse.push([key, m.producer])
    }
    this.#store.refresh(inUse)
  }

  // The cluster refused kproxy's producer (its state there is gone or fenced): the next batch of
  // `from` gets a new one.
  forget (cluster: string, from: BatchProducer, producer: UpstreamProducer): void {
    const key = keyOf(cluster, from)
    if (this.#mapped.get(key)?.producer === producer) this.#mapped.delete(key)
    this.#refused.delete(key)
    this.#refused.set(key, producer)
    if (this.#refused.size > this.#bounds.maxEntries) this.#refused.delete(this.#refused.keys().next().value!)
    this.#claims.release(key, producer)
  }

  #insert (key: string, mapping: Mapping): void {
    const now = mapping.usedAt
    // idle ones first (the least recently used are first in the map)
    for (const [k, m] of this.#mapped) {
      if (now - m.usedAt < this.#bounds.idleMs) break
      this.#mapped.delete(k)
    }
    if (this.#mapped.size >= this.#bounds.maxEntries) {
      this.#mapped.delete(this.#mapped.keys().next().value!)
      if (now - this.#fullWarnedAt >= FULL_WARNING_MS) {
        this.#fullWarnedAt = now
        this.#logger.warn({ code: 'KPROXY_WARN_MESH_PRODUCER_IDS_FULL', entries: this.#bounds.maxEntries },
          `mesh: ${this.#bounds.maxEntries} producer id mappings in use on this worker; the least recently used ones are dropped before going idle`)
      }
    }
    this.#mapped.set(key, mapping)
  }
}

function keyOf (cluster: string, from: BatchProducer): string {
  return `${cluster}\u0000${from.producerId}\u0000${from.producerEpoch}`
}
