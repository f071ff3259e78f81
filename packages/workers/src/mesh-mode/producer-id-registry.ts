// The process-wide owner of mesh producer id mappings (producer-ids.ts), so that every worker
// uses the same producer id on a cluster for a client's producer. A client whose request timed
// out reconnects and retries its batches with the same sequence numbers, and the new connection
// may land on another worker (reusePort): had that worker taken a producer id of its own, the
// cluster would have written the retried batches a second time instead of answering them as
// duplicates.
//
// The supervisor holds one registry; a worker asks it only when its own cache misses. A claim is
// answered with the mapping when one exists, with 'make' to the first worker that asks for a key
// (it takes the producer id on the cluster and reports it with made()), and to the workers asking
// while that is under way, once it is done. A failure is not remembered: the next claim makes.
//
// Bounds: MAX_REGISTRY_ENTRIES mappings, least recently claimed first out. Nothing goes for
// idleness here: a worker's cache hits are never reported, so a mapping in use may look idle.
import type { UpstreamProducer } from './producer-ids.ts'

export const MAX_REGISTRY_ENTRIES = 100_000

export type ProducerClaim =
  | { readonly kind: 'known', readonly producer: UpstreamProducer }
  // the asker takes the producer id and reports it (made)
  | { readonly kind: 'make' }
  | { readonly kind: 'failed', readonly error: string }

export type ClaimAnswer = (claim: ProducerClaim) => void

// How a worker reaches the registry: in process (one worker, tests) or through the supervisor.
export interface ProducerIdClaims {
  claim (key: string, answer: ClaimAnswer): void
  made (key: string, producer: UpstreamProducer | null, error: string | null): void
  release (key: string, producer: UpstreamProducer): void
}

interface Making {
  readonly worker: number
  readonly waiters: ClaimAnswer[]
}

export class ProducerIdRegistry {
  readonly #maxEntries: number
  // key -> the mapping (least recently claimed first)
  readonly #known = new Map<string, UpstreamProducer>()
  // key -> the worker making it and the claims waiting for it
  readonly #making = new Map<string, Making>()

  constructor (maxEntries = MAX_REGISTRY_ENTRIES) {
    this.#maxEntries = maxEntries
  }

  get size (): number { return this.#known.size }

  claim (worker: number, key: string, answer: ClaimAnswer): void {
    const known = this.#known.get(key)
    if (known !== undefined) {
      this.#known.delete(key)
      this.#known.set(key, known)
      answer({ kind: 'known', producer: known })
      return
    }
    const making = this.#making.get(key)
    if (making !== undefined) {
      making.waiters.push(answer)
      return
    }
    this.#making.set(key, { worker, waiters: [] })
    answer({ kind: 'make' })
  }

  // `worker`'s producer id for `key`, or why it has none; ignored unless that worker was making it
  made (worker: number, key: string, producer: UpstreamProducer | null, error: string | null): void {
    const making = this.#making.get(key)
    if (making === undefined || making.worker !== worker) return
    this.#making.delete(key)
    if (producer !== null) {
      this.#known.set(key, producer)
      if (this.#known.size > this.#maxEntries) this.#known.delete(this.#known.keys().next().value!)
    }
    const claim: ProducerClaim = producer !== null ? { kind: 'known', producer } : { kind: 'failed', error: error ?? 'no producer id' }
    for (const w of making.waiters) w(claim)
  }

  // A cluster refused `producer`: dropped, unless the key already has another one.
  release (key: string, producer: UpstreamProducer): void {
    const known = this.#known.get(key)
    if (known !== undefined && known.producerId === producer.producerId && known.producerEpoch === producer.producerEpoch) this.#known.delete(key)
  }

  // A worker died: the producer ids it was making are never reported; their waiters are told.
  workerGone (worker: number): void {
    for (const [key, making] of this.#making) {
      if (making.worker === worker) this.made(worker, key, null, `worker ${worker} stopped while taking the producer id`)
    }
  }
}

// The registry in the same thread (a single worker outside a supervisor, tests).
export function localClaims (registry = new ProducerIdRegistry(), worker = 0): ProducerIdClaims {
  return {
    claim: (key, answer) => { registry.claim(worker, key, answer) },
    made: (key, producer, error) => { registry.made(worker, key, producer, error) },
    release: (key, producer) => { registry.release(key, producer) }
  }
}
