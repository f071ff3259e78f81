// The quota filter (docs/policy.md, Quotas): Kafka's client quotas (ClientQuotaManager, KIP-219)
// applied by kproxy, per principal and/or client id, for every worker of the process together
// (the shared table, quota-service.ts). For each request of a connection:
//
//   - on the first request (the client id is known then) the connection resolves its limits and
//     is counted in: over `connections` (open at once) or `connectionsPerSecond` it is closed,
//     with a log line naming the limit and where it is set;
//   - a request naming more partitions than `partitionsPerRequest` is answered with
//     POLICY_VIOLATION and does not reach the broker;
//   - the request is recorded in the request-rate buckets (all requests, and the API groups such
//     as Metadata or JoinGroup+SyncGroup) and a Produce request's size in the produce-bytes
//     bucket; a Fetch response's size is recorded in the fetch-bytes bucket;
//   - when a rate is over its bound, the answer carries throttle_time_ms = the delay that brings
//     it back, and kproxy reads nothing from that connection for as long (other connections are
//     not affected). Clients honour the field (KIP-219) and slow down.
//
// It sits nearest the client in the chain (after the API key policy): every request is counted,
// whatever later filters decide (as a broker counts requests its authorizer refuses), and its
// onResponse is the last to touch an answer (quota-response.ts).
//
// Per request: one Map lookup (the connection's state), a few Atomics operations per limit that
// applies, no allocation unless the request is throttled.
import type { Logger } from 'pino'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { principalName } from '@kproxy/core/policy/principal'
import type { ConnectionQuota, QuotaRefusal } from '@kproxy/core/policy/quota-enforcer'
import type { ProxyMetrics, QuotaEventCounter } from '@kproxy/core/metrics/proxy-metrics'
import type { ConnectionContext, Filter, FilterRequest, FilterResponse, RequestAction } from '../filters/filter-api.ts'
import type { QuotaService } from './quota-service.ts'
import { partitionsTouched } from './quota-partitions.ts'
import { setThrottleTime } from './quota-response.ts'

export const QUOTA_FILTER_LABEL = 'quota'

// the connection's state in its attributes
const STATE = Symbol('kproxy.quota')

const NO_COUNTER: QuotaEventCounter = { throttled () {}, refused () {} }

class ConnectionQuotaState {
  quota: ConnectionQuota | null = null
  // what `quota` was resolved for
  principal = ''
  clientId = ''
  // the connection is not read until then (ms since the epoch)
  pausedUntil = 0
  // correlation id -> throttle ms for the answer; only requests that were throttled
  pending: Map<number, number> | null = null
  // quota kind -> counter for this principal
  counters: Map<string, QuotaEventCounter> | null = null
  closed = false
}

export interface QuotaFilterOptions {
  readonly service: QuotaService
  readonly metrics: ProxyMetrics
  readonly logger: Logger
}

export function createQuotaFilter (options: QuotaFilterOptions): Filter {
  const { service, metrics, logger } = options

  const counter = (st: ConnectionQuotaState, kind: string): QuotaEventCounter => {
    const counters = (st.counters ??= new Map())
    let c = counters.get(kind)
    // labelled by the name quotas key on (`alice`, the `user` of the quota entity), whether the
    // connection is User:alice by a SASL login or alice by its certificate
    if (c === undefined) counters.set(kind, c = metrics.quotaCounter?.(principalName(st.principal), kind) ?? NO_COUNTER)
    return c
  }

  const release = (st: ConnectionQuotaState): void => {
    if (st.quota === null) return
    st.quota.close()
    service.released(st.quota)
  }

  const refuseConnection = (connection: ConnectionContext, st: ConnectionQuotaState, r: QuotaRefusal): RequestAction => {
    counter(st, r.kind).refused()
    st.closed = true
    logger.warn({ code: 'KPROXY_ERR_QUOTA_CONNECTIONS', principal: st.principal, clientId: st.clientId, peer: `${connection.peer.address}:${connection.peer.port}`, quota: r.kind, limit: r.limit, where: r.where }, `connection refused by quota ${r.kind}: ${r.message}`)
    return { kind: 'close', reason: `quota ${r.kind}: ${r.message}` }
  }

  // Resolves the connection's limits when it has none yet, after a reload, or when its principal
  // (a SASL login) or client id changed. null: go on; an action: the connection is refused.
  const resolve = (connection: ConnectionContext, st: ConnectionQuotaState, nowMs: number): RequestAction | null => {
    const principal = connection.principal
    const clientId = connection.clientId ?? ''
    const enforcer = service.enforcer
    const previous = st.quota
    if (enforcer === null) {
      if (previous !== null) release(st)
      st.quota = null
      return null
    }
    if (previous !== null && previous.version === enforcer.version && st.principal === principal && st.clientId === clientId) return null
    const identityChanged = previous === null || st.principal !== principal || st.clientId !== clientId
    if (st.principal !== principal) st.counters = null
    st.principal = principal
    st.clientId = clientId
    const next = service.forConnection(principalName(principal), clientId)!
    st.quota = next
    service.holding(next)
    if (identityChanged) {
      // a new identity is counted in as a new connection would be
      if (previous !== null) {
        previous.close()
        service.released(previous)
      }
      const refusal = next.open(nowMs)
      if (refusal !== null) return refuseConnection(connection, st, refusal)
    } else if (previous !== null) {
      // new limits for the same identity: the place it holds moves to the new bucket
      next.carryOver(previous)
      service.released(previous)
    }
    return null
  }

  const throttle = (connection: ConnectionContext, st: ConnectionQuotaState, ms: number, nowMs: number): void => {
    const until = nowMs + ms
    if (until > st.pausedUntil) {
      st.pausedUntil = until
      connection.throttle(ms)
    }
  }

  return {
    interests: {
      requests: [{ apiKeys: 'all', level: 'header' }],
      responses: [{ apiKeys: 'all', level: 'header' }]
    },

    onRequest (request: FilterRequest): RequestAction | undefined {
      const connection = request.connection
      let st = connection.attributes.get(STATE) as ConnectionQuotaState | undefined
      if (st === undefined) connection.attributes.set(STATE, st = new ConnectionQuotaState())
      if (st.closed) return { kind: 'close', reason: 'refused by a quota' }
      const now = Date.now()
      const refused = resolve(connection, st, now)
      if (refused !== null) return refused
      const q = st.quota
      if (q === null) return undefined

      if (q.partitionsLimit !== Infinity) {
        const n = partitionsTouched(request)
        if (!q.partitionsAllowed(n)) {
          const where = q.resolved.partitionsPerRequest!.where
          counter(st, 'partitions-per-request').refused()
          logger.warn({ code: 'KPROXY_ERR_QUOTA_PARTITIONS', principal: st.principal, clientId: st.clientId, apiKey: request.apiKey, partitions: n, limit: q.partitionsLimit, where }, `request refused: it names ${n} partitions, more than the ${q.partitionsLimit} allowed by ${where}`)
          return { kind: 'error', errorCode: 'POLICY_VIOLATION', message: `kproxy quota: ${n} partitions in one request, more than the ${q.partitionsLimit} allowed` }
        }
      }

      let ms = q.onRequest(request.apiKey, now)
      let kind = ms > 0 ? q.lastThrottleKind : ''
      if (request.apiKey === ApiKey.Produce) {
        const p = q.onProduceBytes(request.frame.size, now)
        if (p > ms) {
          ms = p
          kind = q.lastThrottleKind
        }
      }
      if (ms > 0) {
        counter(st, kind).throttled(ms)
        throttle(connection, st, ms, now)
        if (request.expectsResponse) (st.pending ??= new Map()).set(request.correlationId, ms)
      }
      return undefined
    },

    onResponse (response: FilterResponse): undefined {
      const connection = response.request.connection
      const st = connection.attributes.get(STATE) as ConnectionQuotaState | undefined
      if (st === undefined) return undefined
      let ms = 0
      const pending = st.pending
      if (pending !== null && pending.size > 0) {
        const p = pending.get(response.correlationId)
        if (p !== undefined) {
          pending.delete(response.correlationId)
          ms = p
        }
      }
      const q = st.quota
      if (q !== null && response.apiKey === ApiKey.Fetch) {
        const now = Date.now()
        const bytes = response.frame !== null ? response.frame.size : (response as { payload?: Buffer }).payload?.length ?? 0
        const f = q.onFetchBytes(bytes, now)
        if (f > 0) {
          counter(st, q.lastThrottleKind).throttled(f)
          throttle(connection, st, f, now)
          if (f > ms) ms = f
        }
      }
      if (ms > 0) setThrottleTime(response, ms)
      return undefined
    },

    onConnectionClose (connection: ConnectionContext): void {
      const st = connection.attributes.get(STATE) as ConnectionQuotaState | undefined
      if (st === undefined) return
      release(st)
      st.quota = null
      st.pending = null
    }
  }
}
