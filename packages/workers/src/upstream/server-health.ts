// Which bootstrap server a new connection should try first. Connections are spread over the
// servers in turn, and a server that recently refused a connection, timed out or left a request
// unanswered is tried only after the others: a broker whose JVM is alive at TCP level but not
// answering (stopped, in a long GC, out of memory) would otherwise make every new client wait out
// its request timeout. One per worker thread, shared by its routes and its metadata lookups.
import type { HostPort } from '@kproxy/core/config/proxy-config'

// how long a failure sends a server to the back of the line
export const FAILURE_MEMORY_MS = 30_000

// Told when a server that was healthy fails (not again while it stays failed): the worker logs it
// once, not once per client connection.
export type ServerFailureListener = (server: HostPort, why: string) => void

export class ServerHealth {
  // "host:port" -> when it last failed
  readonly #failedAt = new Map<string, number>()
  #turn = 0
  readonly #now: () => number
  readonly #onFailed: ServerFailureListener | null

  constructor (now: () => number = Date.now, onFailed: ServerFailureListener | null = null) {
    this.#now = now
    this.#onFailed = onFailed
  }

  // The servers in the order to try them: healthy ones first, starting at the next in turn;
  // then the ones that failed recently, the longest ago first.
  order (servers: readonly HostPort[]): HostPort[] {
    const n = servers.length
    if (n === 0) return []
    const start = this.#turn++ % n
    const now = this.#now()
    const healthy: HostPort[] = []
    const failed: Array<{ s: HostPort, at: number }> = []
    for (let k = 0; k < n; k++) {
      const s = servers[(start + k) % n]!
      const at = this.#failedAt.get(key(s))
      if (at === undefined || now - at >= FAILURE_MEMORY_MS) healthy.push(s)
      else failed.push({ s, at })
    }
    failed.sort((a, b) => a.at - b.at)
    for (const f of failed) healthy.push(f.s)
    return healthy
  }

  failed (server: HostPort, why = 'it failed'): void {
    const fresh = !this.recentlyFailed(server)
    this.#failedAt.set(key(server), this.#now())
    if (fresh) this.#onFailed?.(server, why)
  }

  ok (server: HostPort): void {
    this.#failedAt.delete(key(server))
  }

  recentlyFailed (server: HostPort): boolean {
    const at = this.#failedAt.get(key(server))
    return at !== undefined && this.#now() - at < FAILURE_MEMORY_MS
  }
}

function key (s: HostPort): string {
  return `${s.host}:${s.port}`
}
