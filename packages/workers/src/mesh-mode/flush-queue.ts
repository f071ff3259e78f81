// Connections written to during this turn of the event loop, flushed once at its end: the parts
// of many clients' requests bound for one broker leave in one write.
import type { KafkaConnection } from '../upstream/kafka-connection.ts'

export class FlushQueue {
  readonly #dirty = new Set<KafkaConnection>()
  #scheduled = false
  readonly #run = this.#flush.bind(this)

  add (conn: KafkaConnection): void {
    this.#dirty.add(conn)
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.#run)
  }

  #flush (): void {
    this.#scheduled = false
    for (const c of this.#dirty) c.flush()
    this.#dirty.clear()
  }
}
