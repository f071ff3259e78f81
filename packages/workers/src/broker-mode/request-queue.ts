// The requests of one connection still waiting for their response, in arrival order (a broker
// answers in order, and so must kproxy). A ring of parallel typed arrays: no object per request.
// An entry may carry a response kproxy made itself (a denied request, an ApiVersions version it
// does not know): it goes out when it reaches the head, behind earlier forwarded requests.
// Small: most connections have a handful of requests in flight, and an idle connection should
// cost little (the ring doubles when needed). Always a power of two (index & (cap - 1)).
const INITIAL_CAPACITY = 8

export class RequestQueue {
  #cap = INITIAL_CAPACITY
  #head = 0
  #length = 0
  #correlationIds = new Int32Array(INITIAL_CAPACITY)
  #apiKeys = new Int16Array(INITIAL_CAPACITY)
  #apiVersions = new Int16Array(INITIAL_CAPACITY)
  #startTimes = new Float64Array(INITIAL_CAPACITY)
  // synthesised responses (size prefix included); undefined for forwarded requests
  #synthetic: Array<Buffer[] | undefined> = new Array(INITIAL_CAPACITY)

  get length (): number {
    return this.#length
  }

  push (correlationId: number, apiKey: number, apiVersion: number, startTime: number, synthetic?: Buffer[]): void {
    if (this.#length === this.#cap) this.#grow()
    const i = (this.#head + this.#length) & (this.#cap - 1)
    this.#correlationIds[i] = correlationId
    this.#apiKeys[i] = apiKey
    this.#apiVersions[i] = apiVersion
    this.#startTimes[i] = startTime
    this.#synthetic[i] = synthetic
    this.#length++
  }

  // Head accessors; only valid when length > 0.
  get headCorrelationId (): number { return this.#correlationIds[this.#head] }
  get headApiKey (): number { return this.#apiKeys[this.#head] }
  get headApiVersion (): number { return this.#apiVersions[this.#head] }
  get headStartTime (): number { return this.#startTimes[this.#head] }
  get headSynthetic (): Buffer[] | undefined { return this.#synthetic[this.#head] }

  shift (): void {
    if (this.#length === 0) return
    this.#synthetic[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#cap - 1)
    this.#length--
  }

  clear (): void {
    this.#synthetic.fill(undefined)
    this.#head = 0
    this.#length = 0
  }

  #grow (): void {
    const cap = this.#cap * 2
    const ids = new Int32Array(cap)
    const keys = new Int16Array(cap)
    const versions = new Int16Array(cap)
    const starts = new Float64Array(cap)
    const synthetic: Array<Buffer[] | undefined> = new Array(cap)
    for (let k = 0; k < this.#length; k++) {
      const i = (this.#head + k) & (this.#cap - 1)
      ids[k] = this.#correlationIds[i]
      keys[k] = this.#apiKeys[i]
      versions[k] = this.#apiVersions[i]
      starts[k] = this.#startTimes[i]
      synthetic[k] = this.#synthetic[i]
    }
    this.#correlationIds = ids
    this.#apiKeys = keys
    this.#apiVersions = versions
    this.#startTimes = starts
    this.#synthetic = synthetic
    this.#cap = cap
    this.#head = 0
  }
}
