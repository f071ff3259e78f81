// One client request in mesh mode, from its decoded body to its one answer: the sub-requests it
// was split into (each to one broker of one cluster), their answers as they come, and the merged
// answer the client gets. A handler (one per API, handlers/) plans the parts with send() inside
// begin()/end(); `whenAll` runs once every part is answered (or lost), and answer() encodes the
// merged body with the client's correlation id. A call answers exactly once; answers that come
// after it (a fetch answered early) are dropped.
import { encodeResponse } from '@kproxy/core/protocol/codec'
import type { InFlight } from '../session/in-flight.ts'
import type { MeshCluster } from './mesh-cluster.ts'

// Where a part goes: the worker's shared connection to the broker, or one of this client's own
// (for requests a broker holds: Fetch, JoinGroup, SyncGroup, ...: a broker answers one request of
// a connection at a time, so a held request on a shared connection would hold everybody's).
// (Produce does not come through here: its parts go to the shared connection's coalescer,
// produce-coalescer.ts.) This client's own connections come in three, as a Java client keeps
// its coordinator connection apart from its fetch connection: 'own' (Fetch), 'coordinator'
// (group and transaction requests; a JoinGroup held for a rebalance must not hold fetches) and
// 'admin' (topic admin, held up to its timeout).
export type Lane = 'shared' | 'own' | 'coordinator' | 'admin'

export type PartAnswer = (body: any | null, error: string | null) => void

export interface CallSink {
  // the answer, size prefix included
  answered (call: MeshCall, frames: readonly Buffer[]): void
  // sends a part; false when nothing could be sent (no address known)
  // runs `task` after the previous serial tasks of this client released (Produce: a later request
  // must not overtake an earlier one that waits for metadata)
  serial (task: (release: () => void) => void): void
  // no serial task of this client is waiting: one run now keeps the order
  serialIdle (): boolean
  // marks a serial task leaves for the tasks queued behind it (cleared once none is queued)
  serialMarks (): Set<string>
  // the client's connection is gone
  closed (): boolean
  // a handler's failure: this client's connection closes, nobody else's
  failed (err: Error, apiKey: number): void
  sendPart (call: MeshCall, cluster: MeshCluster, node: number, lane: Lane, apiKey: number, apiVersion: number, body: unknown, done: PartAnswer): boolean
}

export class MeshCall {
  readonly entry: InFlight | null
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  // the client's client id (the header's), sent upstream with the parts
  readonly clientId: string
  #body: any
  readonly #sink: CallSink
  #pending = 0
  #finished = false
  whenAll: (() => void) | null = null

  constructor (sink: CallSink, entry: InFlight | null, apiKey: number, apiVersion: number, correlationId: number, body: unknown, clientId = 'kproxy') {
    this.#sink = sink
    this.entry = entry
    this.apiKey = apiKey
    this.apiVersion = apiVersion
    this.correlationId = correlationId
    this.clientId = clientId
    this.#body = body
  }

  // the decoded request
  get body (): any { return this.#body }

  // The decoded request, which the call then no longer holds (Produce: its records must not
  // live as long as the call waits for its answers).
  takeBody (): any {
    const body = this.#body
    this.#body = null
    return body
  }

  get finished (): boolean { return this.#finished }
  get pending (): number { return this.#pending }

  // planning parts: whenAll cannot run until end()
  begin (): void {
    this.#pending++
  }

  end (): void {
    if (--this.#pending === 0 && !this.#finished) this.whenAll?.()
  }

  // One part: `done` gets the decoded answer, or null and why (connection lost, no address).
  send (cluster: MeshCluster, node: number, lane: Lane, body: unknown, done: PartAnswer, apiKey = this.apiKey, apiVersion = this.apiVersion): void {
    this.#pending++
    const sent = this.#sink.sendPart(this, cluster, node, lane, apiKey, apiVersion, body, (answer, error) => {
      if (!this.#finished) done(answer, error)
      this.end()
    })
    if (!sent) {
      done(null, `no broker address known in cluster ${cluster.name}`)
      this.end()
    }
  }

  // Waits for something outside the parts (metadata, a coordinator lookup) inside the plan.
  hold (): () => void {
    this.#pending++
    let released = false
    return () => {
      if (released) return
      released = true
      this.end()
    }
  }

  serial (task: (release: () => void) => void): void {
    this.#sink.serial(task)
  }

  serialIdle (): boolean {
    return this.#sink.serialIdle()
  }

  serialMarks (): Set<string> {
    return this.#sink.serialMarks()
  }

  closed (): boolean {
    return this.#sink.closed()
  }

  failed (err: Error): void {
    this.#finished = true
    this.#sink.failed(err, this.apiKey)
  }

  answer (body: unknown): void {
    if (this.#finished) return
    this.#finished = true
    if (this.entry === null) return
    const frames = encodeResponse(this.apiKey, this.apiVersion, { correlationId: this.correlationId }, body)
    this.#sink.answered(this, frames)
  }

  // no answer at all (Produce acks=0)
  finishSilently (): void {
    this.#finished = true
  }
}
