// One worker's part of the readiness report: the connections open now (read from their contexts
// when a report is asked for) and those that closed, folded into one record per client identity
// (client-report.ts in core). Nothing here runs per request: a connection's used versions are
// marked by ClientUsageTap in its own bitset, and this registry only looks at a connection when it
// closes and when a report is made.
import { absorbClient, clientKey, mergeClientRecords } from '@kproxy/core/bridge/client-report'
import type { ClientRecord } from '@kproxy/core/bridge/client-report'
import type { SessionContext } from '../session/session-context.ts'

// Closed-connection records kept per worker; beyond it, the least recently seen goes.
export const MAX_CLOSED_CLIENTS = 2000

function recordOf (c: SessionContext, active: boolean, now: number): ClientRecord {
  return {
    clientId: c.clientId,
    softwareName: c.clientSoftwareName,
    softwareVersion: c.clientSoftwareVersion,
    principal: c.principal,
    peer: c.peer.address,
    connectionsActive: active ? 1 : 0,
    connectionsTotal: 1,
    firstSeen: c.openedAt,
    lastSeen: now,
    used: c.usedVersions.toPacked()
  }
}

export class ClientRegistry {
  // Map order = least recently updated first (an update deletes and re-inserts)
  readonly #closed = new Map<string, ClientRecord>()
  readonly #now: () => number

  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  // A connection closed: its identity and versions stay in the report.
  closed (c: SessionContext): void {
    if (c.usedVersions.empty) return // never sent a request (a port scan, a TLS failure)
    const r = recordOf(c, false, this.#now())
    const key = clientKey(r)
    const have = this.#closed.get(key)
    if (have !== undefined) {
      this.#closed.delete(key)
      absorbClient(have, r)
      this.#closed.set(key, have)
      return
    }
    this.#closed.set(key, r)
    if (this.#closed.size > MAX_CLOSED_CLIENTS) this.#closed.delete(this.#closed.keys().next().value!)
  }

  // Every client of this worker: the open connections and the closed ones.
  report (open: Iterable<SessionContext>): ClientRecord[] {
    const now = this.#now()
    const records: ClientRecord[] = [...this.#closed.values()]
    for (const c of open) if (!c.usedVersions.empty) records.push(recordOf(c, true, now))
    return mergeClientRecords(records)
  }
}
