// Topic id -> name for the ACL filter. Since Kafka 4 some requests name topics by id only
// (Produce v13, Fetch v13+, OffsetCommit v10, ShareFetch, ...), and rules name topics. The
// directory is per worker: learned from every Metadata, DescribeTopicPartitions and CreateTopics
// answer that passes the filter; an id it does not know is looked up upstream (a Metadata request
// for all topics on a connection of kproxy's own) at most once per LOOKUP_INTERVAL_MS, so a client
// sending random ids cannot make kproxy flood the brokers. An id still unknown after that is
// refused, never let through. A topic id is never reused for another name (Kafka gives a
// re-created topic a new id), so what is learned stays true.
import { ZERO_UUID } from '@kproxy/core/protocol/primitives/reader'

// bound on the ids remembered (a cluster with more topics than this keeps working: a forgotten id
// is looked up again)
export const MAX_TOPIC_IDS = 100_000
export const LOOKUP_INTERVAL_MS = 1000

export interface TopicNameId { readonly name: string, readonly id: string }

// asks the upstream for every topic's name and id
export type TopicLookup = () => Promise<readonly TopicNameId[]>

export class TopicIdDirectory {
  readonly #names = new Map<string, string>()
  readonly #lookup: TopicLookup | null
  readonly #now: () => number
  #pending: Promise<void> | null = null
  #lastLookup = -Infinity

  constructor (lookup: TopicLookup | null, now: () => number = Date.now) {
    this.#lookup = lookup
    this.#now = now
  }

  get size (): number { return this.#names.size }

  nameOf (id: string): string | undefined {
    return this.#names.get(id)
  }

  learn (name: string | null, id: string | null | undefined): void {
    if (name === null || name === '' || id === null || id === undefined || id === ZERO_UUID) return
    if (this.#names.get(id) === name) return
    if (this.#names.size >= MAX_TOPIC_IDS) this.#names.clear()
    this.#names.set(id, name)
  }

  // Resolves when a lookup for these ids has been made (or could not be: rate limit, no lookup,
  // upstream failure); the caller then asks nameOf() again. Never rejects.
  resolve (ids: readonly string[]): Promise<void> {
    if (ids.every(id => this.#names.has(id))) return Promise.resolve()
    if (this.#pending !== null) return this.#pending
    if (this.#lookup === null || this.#now() - this.#lastLookup < LOOKUP_INTERVAL_MS) return Promise.resolve()
    this.#lastLookup = this.#now()
    const pending = this.#lookup().then(topics => {
      for (const t of topics) this.learn(t.name, t.id)
    }, () => {}).finally(() => {
      this.#pending = null
    })
    this.#pending = pending
    return pending
  }
}
