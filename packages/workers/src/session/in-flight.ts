// One client request on its way through kproxy, from the moment its frame is cut until its
// response is written (or, for Produce acks=0, until it is handed upstream). An entry is answered
// by exactly one of: the upstream's response (a frame), kproxy itself (frames it made: a filter's
// answer, an error), or a merge of several upstream responses (mesh mode, partial ACL denials),
// which the route hands over as finished frames too.
//
// Entries are pooled per session: a connection that pipelines reuses the same few objects, so the
// data path allocates nothing per request.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { RequestView } from '../filters/request-view.ts'
import type { FilterChain } from '../filters/filter-chain.ts'

// 'chain'    in the request filters (or waiting behind a held request of the same connection)
// 'held'     a filter's promise is pending (quota delay, lookup); the hold deadline runs
// 'upstream' handed to the route; waiting for its answer
// 'answered' the response is ready (frames or upstream frame); written when it reaches the head
// 'free'     back in the pool
export type EntryState = 'chain' | 'held' | 'upstream' | 'answered' | 'free'

export class InFlight {
  state: EntryState = 'free'
  // bumped each time the entry is reused: a late promise of a held request checks it
  gen = 0
  // the chain the request entered (a reload may replace the listener's chain meanwhile)
  chain: FilterChain | null = null
  correlationId = 0
  apiKey = 0
  apiVersion = 0
  // performance.now() when the request's frame was complete
  startTime = 0
  expectsResponse = true
  // set when some filter is interested: the decoded view filters and their responses share
  request: RequestView | null = null
  // the original frame (kept while the request has not been forwarded: a held request)
  frame: Frame | null = null
  // the answer: an upstream frame as it arrived, or frames with size prefixes made by kproxy
  responseFrame: Frame | null = null
  responseFrames: readonly Buffer[] | null = null
  // index of the next request filter to run (resumes after a hold)
  filterIndex = 0
  holdTimer: NodeJS.Timeout | null = null
  // for the route: which upstream connection it went to, when it was sent, ...
  routeData: unknown = null

  reset (): void {
    this.state = 'free'
    this.chain = null
    this.request = null
    this.frame = null
    this.responseFrame = null
    this.responseFrames = null
    this.filterIndex = 0
    if (this.holdTimer !== null) clearTimeout(this.holdTimer)
    this.holdTimer = null
    this.routeData = null
  }
}

// The entries of one connection that expect a response, in arrival order: a broker answers in
// order, and so must kproxy. A ring that doubles when full; entries are recycled through a small
// free list. Initial capacity is small: most connections have a handful of requests in flight,
// and an idle connection should cost little.
const INITIAL_CAPACITY = 8
const MAX_POOLED = 64

export class InFlightQueue {
  #ring: Array<InFlight | undefined> = new Array(INITIAL_CAPACITY)
  #head = 0
  #length = 0
  readonly #pool: InFlight[] = []

  get length (): number { return this.#length }

  // The oldest entry; undefined when empty.
  get head (): InFlight | undefined {
    return this.#length === 0 ? undefined : this.#ring[this.#head]
  }

  // The k-th entry from the head (0 = head); for walking the queue in order.
  at (k: number): InFlight {
    return this.#ring[(this.#head + k) & (this.#ring.length - 1)]!
  }

  // A fresh entry (not queued yet).
  take (): InFlight {
    return this.#pool.pop() ?? new InFlight()
  }

  // An entry that never got queued (acks=0) or was shifted: back to the pool.
  release (entry: InFlight): void {
    entry.reset()
    if (this.#pool.length < MAX_POOLED) this.#pool.push(entry)
  }

  push (entry: InFlight): void {
    if (this.#length === this.#ring.length) this.#grow()
    this.#ring[(this.#head + this.#length) & (this.#ring.length - 1)] = entry
    this.#length++
  }

  // Removes the head (the caller releases it once written).
  shift (): InFlight | undefined {
    if (this.#length === 0) return undefined
    const entry = this.#ring[this.#head]
    this.#ring[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#ring.length - 1)
    this.#length--
    return entry
  }

  // Empties the queue; returns nothing to the pool (a closing connection drops it all).
  clear (): void {
    for (let k = 0; k < this.#length; k++) {
      const i = (this.#head + k) & (this.#ring.length - 1)
      const entry = this.#ring[i]!
      if (entry.holdTimer !== null) clearTimeout(entry.holdTimer)
      entry.holdTimer = null
      entry.state = 'free'
      this.#ring[i] = undefined
    }
    this.#head = 0
    this.#length = 0
  }

  #grow (): void {
    const ring: Array<InFlight | undefined> = new Array(this.#ring.length * 2)
    for (let k = 0; k < this.#length; k++) ring[k] = this.#ring[(this.#head + k) & (this.#ring.length - 1)]
    this.#ring = ring
    this.#head = 0
  }
}
