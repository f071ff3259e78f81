// Which limits apply to one connection (user = the principal's name, client id from the request
// header), with Kafka's precedence (ClientQuotaManager), most specific first:
//   1 user + client id   2 user + default client   3 user
//   4 default user + client id   5 default user + default client   6 default user
//   7 client id   8 default client
// Each limit is resolved on its own: the first entry in that order that sets it wins. The
// bucket a limit counts in follows the winning entry, as Kafka's quota metric tags do: an entry
// naming a user (or the default user) counts per user, one naming a client id (or the default)
// per client id, one naming both per pair. So `user: "*"` gives every user a bucket of their own,
// and `user: alice` alone lets all of alice's clients share one.
import type { QuotaEntity, QuotaRules, RequestRateLimit } from './quota-config.ts'

export interface ResolvedRate {
  // 'produce-bytes', 'fetch-bytes', 'requests', 'requests:JoinGroup+SyncGroup/minute', 'connection-rate'
  readonly kind: string
  // the bound, in units (bytes or requests or connections) per second
  readonly perSecond: number
  readonly samples: number
  readonly windowMs: number
  // the shared-state key: limit, window and the bucket's entity
  readonly bucket: string
  // the bucket's entity, for metrics labels and logs (null: not part of the bucket)
  readonly user: string | null
  readonly clientId: string | null
  // the entry that set it
  readonly where: string
  // request-rate groups only
  readonly apiKeys?: readonly number[]
}

export interface ResolvedCount {
  readonly limit: number
  readonly bucket: string
  readonly user: string | null
  readonly clientId: string | null
  readonly where: string
}

export interface ResolvedQuotas {
  readonly produce: ResolvedRate | null
  readonly fetch: ResolvedRate | null
  readonly requests: ResolvedRate | null
  readonly requestGroups: readonly ResolvedRate[]
  readonly connectionRate: ResolvedRate | null
  readonly connections: ResolvedCount | null
  readonly partitionsPerRequest: { readonly limit: number, readonly where: string } | null
}

// The entries that apply to (user, clientId), most specific first.
export function applicableEntities (rules: QuotaRules, user: string, clientId: string): QuotaEntity[] {
  const levels: Array<(e: QuotaEntity) => boolean> = [
    e => e.user === user && e.clientId === clientId,
    e => e.user === user && e.clientId === '*',
    e => e.user === user && e.clientId === undefined,
    e => e.user === '*' && e.clientId === clientId,
    e => e.user === '*' && e.clientId === '*',
    e => e.user === '*' && e.clientId === undefined,
    e => e.user === undefined && e.clientId === clientId,
    e => e.user === undefined && e.clientId === '*'
  ]
  const out: QuotaEntity[] = []
  // An entry for the literal user '*' or client id '*' is the default, never an exact match.
  for (const level of levels) for (const e of rules.entities) if (level(e) && !out.includes(e)) out.push(e)
  return out
}

function entityKey (e: QuotaEntity, user: string, clientId: string): { user: string | null, clientId: string | null, key: string } {
  const u = e.user === undefined ? null : user
  const c = e.clientId === undefined ? null : clientId
  return { user: u, clientId: c, key: `${u === null ? 'u-' : `u=${JSON.stringify(u)}`}|${c === null ? 'c-' : `c=${JSON.stringify(c)}`}` }
}

export function resolveQuotas (rules: QuotaRules, user: string, clientId: string): ResolvedQuotas {
  const entries = applicableEntities(rules, user, clientId)
  const rate = (kind: string, e: QuotaEntity, perSecond: number, minute = false, apiKeys?: readonly number[]): ResolvedRate => {
    const windowMs = minute ? Math.round(60_000 / (rules.samples - 1)) : rules.windowMs
    const k = entityKey(e, user, clientId)
    return { kind, perSecond, samples: rules.samples, windowMs, bucket: `${kind}|${windowMs}|${k.key}`, user: k.user, clientId: k.clientId, where: e.where, ...(apiKeys === undefined ? {} : { apiKeys }) }
  }
  const first = <K extends keyof QuotaEntity>(key: K): QuotaEntity | undefined => entries.find(e => e[key] !== undefined)

  const p = first('produceBytesPerSecond')
  const f = first('fetchBytesPerSecond')
  const r = first('requestsPerSecond')
  const cr = first('connectionsPerSecond')
  const c = first('connections')
  const ppr = first('partitionsPerRequest')

  const groups: ResolvedRate[] = []
  const seen = new Set<string>()
  for (const e of entries) {
    for (const g of e.requests ?? [] as readonly RequestRateLimit[]) {
      const kind = `requests:${g.apiNames.join('+')}/${g.unit}`
      if (seen.has(kind)) continue
      seen.add(kind)
      groups.push(rate(kind, e, g.perSecond, g.unit === 'minute', g.apiKeys))
    }
  }
  const connections = c === undefined ? null : (() => { const k = entityKey(c, user, clientId); return { limit: c.connections!, bucket: `connections|${k.key}`, user: k.user, clientId: k.clientId, where: c.where } })()
  return {
    produce: p === undefined ? null : rate('produce-bytes', p, p.produceBytesPerSecond!),
    fetch: f === undefined ? null : rate('fetch-bytes', f, f.fetchBytesPerSecond!),
    requests: r === undefined ? null : rate('requests', r, r.requestsPerSecond!),
    requestGroups: groups,
    connectionRate: cr === undefined ? null : rate('connection-rate', cr, cr.connectionsPerSecond!),
    connections,
    partitionsPerRequest: ppr === undefined ? null : { limit: ppr.partitionsPerRequest!, where: ppr.where }
  }
}
