// Quotas on the request path, per worker over the process-wide QuotaTable. A connection
// resolves its limits once (when its principal and client id are known) into bucket numbers;
// after that each request costs a few Atomics operations and no allocation:
//
//   const q = enforcer.forConnection('alice', clientId)        // at authentication
//   const refusal = q.open(Date.now())                         // connections / connection rate
//   ...per request:
//   if (q.version !== enforcer.version) q = enforcer.forConnection(...)   // after a reload
//   if (!q.partitionsAllowed(n)) -> refuse the request
//   const ms = Math.max(q.onRequest(apiKey, now), q.onProduceBytes(bytes, now))
//   -> put ms in the response's throttle_time_ms and stop reading the connection for ms (KIP-219)
//   ...on close: q.close()
//
// `lastThrottleKind` / `lastThrottleWhere` name the limit behind the last non-zero answer, for
// metrics by principal and quota.
import type { QuotaRules } from './quota-config.ts'
import { resolveQuotas } from './quota-resolver.ts'
import type { ResolvedQuotas, ResolvedRate } from './quota-resolver.ts'
import { NO_BUCKET, throttleTimeMs } from './quota-table.ts'
import type { QuotaTable } from './quota-table.ts'

interface RateHandle {
  readonly bucket: number
  readonly perSecond: number
  readonly kind: string
  readonly where: string
}

export interface QuotaRefusal {
  readonly kind: 'connections' | 'connection-rate'
  readonly limit: number
  readonly where: string
  readonly message: string
}

export class QuotaEnforcer {
  readonly table: QuotaTable
  #rules: QuotaRules
  #version: number

  constructor (table: QuotaTable, rules: QuotaRules, version = 1) {
    this.table = table
    this.#rules = rules
    this.#version = version
  }

  get version (): number { return this.#version }
  get rules (): QuotaRules { return this.#rules }

  // A reload: connections see the new version and resolve again. A different sample count needs
  // a new table, i.e. a restart (the table's count is kept until then).
  update (rules: QuotaRules, version: number): void {
    this.#rules = rules
    this.#version = version
  }

  forConnection (user: string, clientId: string): ConnectionQuota {
    return new ConnectionQuota(this.table, resolveQuotas(this.#rules, user, clientId), this.#rules.maxThrottleMs, this.#version)
  }
}

export class ConnectionQuota {
  readonly version: number
  readonly resolved: ResolvedQuotas
  lastThrottleKind = ''
  lastThrottleWhere = ''
  readonly #table: QuotaTable
  readonly #maxThrottleMs: number
  readonly #produce: RateHandle | null
  readonly #fetch: RateHandle | null
  readonly #requests: RateHandle | null
  // per API key: the request-rate groups that count it
  readonly #byApiKey: Array<readonly RateHandle[] | undefined> = []
  readonly #connectionRate: RateHandle | null
  readonly #connectionsBucket: number
  readonly #partitions: number
  readonly #rate = new Float64Array(2)
  #holding = false

  constructor (table: QuotaTable, resolved: ResolvedQuotas, maxThrottleMs: number, version: number) {
    this.#table = table
    this.resolved = resolved
    this.#maxThrottleMs = maxThrottleMs
    this.version = version
    const handle = (r: ResolvedRate | null): RateHandle | null => {
      if (r === null) return null
      const bucket = table.bucket(r.bucket, r.windowMs)
      return bucket === NO_BUCKET ? null : { bucket, perSecond: r.perSecond, kind: r.kind, where: r.where }
    }
    this.#produce = handle(resolved.produce)
    this.#fetch = handle(resolved.fetch)
    this.#requests = handle(resolved.requests)
    this.#connectionRate = handle(resolved.connectionRate)
    for (const g of resolved.requestGroups) {
      const h = handle(g)
      if (h === null) continue
      for (const key of g.apiKeys!) this.#byApiKey[key] = [...(this.#byApiKey[key] ?? []), h]
    }
    this.#connectionsBucket = resolved.connections === null ? NO_BUCKET : table.bucket(resolved.connections.bucket, 0)
    this.#partitions = resolved.partitionsPerRequest?.limit ?? Infinity
  }

  #record (h: RateHandle, value: number, nowMs: number): number {
    this.#table.record(h.bucket, value, nowMs, this.#rate)
    const ms = throttleTimeMs(this.#rate[0]!, h.perSecond, this.#rate[1]!, this.#maxThrottleMs)
    if (ms > 0) {
      this.lastThrottleKind = h.kind
      this.lastThrottleWhere = h.where
    }
    return ms
  }

  // One request of `apiKey`: the throttle (ms) the request-rate limits ask for, 0 when none.
  onRequest (apiKey: number, nowMs: number): number {
    let ms = this.#requests === null ? 0 : this.#record(this.#requests, 1, nowMs)
    const groups = this.#byApiKey[apiKey]
    if (groups !== undefined) {
      for (let i = 0; i < groups.length; i++) {
        const g = this.#record(groups[i]!, 1, nowMs)
        if (g > ms) ms = g
      }
    }
    return ms
  }

  onProduceBytes (bytes: number, nowMs: number): number {
    return this.#produce === null ? 0 : this.#record(this.#produce, bytes, nowMs)
  }

  onFetchBytes (bytes: number, nowMs: number): number {
    return this.#fetch === null ? 0 : this.#record(this.#fetch, bytes, nowMs)
  }

  // Kafka's unrecord: a throttled fetch answered empty takes its bytes back.
  unrecordFetchBytes (bytes: number, nowMs: number): void {
    if (this.#fetch !== null) this.#table.record(this.#fetch.bucket, -bytes, nowMs, this.#rate)
  }

  partitionsAllowed (count: number): boolean {
    return count <= this.#partitions
  }

  get partitionsLimit (): number { return this.#partitions }

  // Counts the connection in (open connections, new connections per second); a refusal says
  // which limit and where it was set. Call once per connection; close() gives the place back.
  open (nowMs: number): QuotaRefusal | null {
    const c = this.resolved.connections
    if (c !== null && this.#connectionsBucket !== NO_BUCKET) {
      if (!this.#table.tryAcquire(this.#connectionsBucket, c.limit)) {
        return { kind: 'connections', limit: c.limit, where: c.where, message: `${c.limit} connection(s) already open, the most allowed by ${c.where}` }
      }
      this.#holding = true
    }
    const r = this.#connectionRate
    if (r !== null && this.#record(r, 1, nowMs) > 0) {
      // Refused connections do not count toward the rate of the next ones.
      this.#table.record(r.bucket, -1, nowMs, this.#rate)
      this.close()
      return { kind: 'connection-rate', limit: r.perSecond, where: r.where, message: `more than ${r.perSecond} new connection(s) per second, the most allowed by ${r.where}` }
    }
    return null
  }

  // After a reload: this connection's new quotas take over the place it holds (an open
  // connection is never cut by a change of limits; it counts in the new bucket from now on).
  carryOver (previous: ConnectionQuota): void {
    if (!previous.#holding) return
    previous.close()
    if (this.#connectionsBucket !== NO_BUCKET && !this.#holding) {
      this.#table.forceAcquire(this.#connectionsBucket)
      this.#holding = true
    }
  }

  close (): void {
    if (this.#holding) {
      this.#holding = false
      this.#table.release(this.#connectionsBucket)
    }
  }
}
