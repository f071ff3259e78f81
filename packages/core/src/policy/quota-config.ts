// Quotas, per principal and/or client id, Kafka-style: entries name a user, a client id, both,
// or the default of either ('*'), and the most specific entry that sets a limit decides it
// (quota-resolver.ts). Written in the config (`policy.quotas`) or in a quotas file (reloaded
// live):
//
//   window: { samples: 11, seconds: 1 }          # Kafka's quota.window.num / quota.window.size.seconds
//   maxThrottleMs: 30000                         # the longest throttle one response asks for
//   entities:
//     - user: "*"                                # every user, each with its own bucket
//       produceBytesPerSecond: 10MiB
//       requests:
//         - { apis: [JoinGroup, SyncGroup], perMinute: 30 }
//     - user: alice
//       produceBytesPerSecond: 5MB
//       requests:
//         - { apis: [Metadata], perSecond: 50 }
//     - user: alice
//       clientId: reporting
//       fetchBytesPerSecond: 1MiB
//     - clientId: "*"
//       connections: 20                          # open at once
//       connectionsPerSecond: 5                  # new ones
//       partitionsPerRequest: 1000
import { apiByName } from '../protocol/api-keys.ts'
import { describeValue, isPlainObject, parsePolicyYaml, PolicyFileError, Problems } from './policy-source.ts'
import type { PathSegment, PolicySource } from './policy-source.ts'

export const QUOTA_ERROR = 'KPROXY_ERR_QUOTAS'

export interface RequestRateLimit {
  // API keys counted together, from the names given (sorted, unique)
  readonly apiKeys: readonly number[]
  readonly apiNames: readonly string[]
  // requests per second (a perMinute limit is stored divided by 60)
  readonly perSecond: number
  readonly unit: 'second' | 'minute'
}

export interface QuotaLimits {
  readonly produceBytesPerSecond?: number
  readonly fetchBytesPerSecond?: number
  // every request, whatever its API
  readonly requestsPerSecond?: number
  readonly requests?: readonly RequestRateLimit[]
  readonly connections?: number
  readonly connectionsPerSecond?: number
  readonly partitionsPerRequest?: number
}

export interface QuotaEntity extends QuotaLimits {
  // undefined: the entry does not look at users; '*': every user (the default)
  readonly user?: string
  readonly clientId?: string
  // where it was written, for logs
  readonly where: string
}

export interface QuotaRules {
  readonly samples: number
  readonly windowMs: number
  readonly maxThrottleMs: number
  readonly entities: readonly QuotaEntity[]
}

export const DEFAULT_SAMPLES = 11
export const DEFAULT_WINDOW_MS = 1000
export const DEFAULT_MAX_THROTTLE_MS = 30_000
export const EMPTY_QUOTAS: QuotaRules = { samples: DEFAULT_SAMPLES, windowMs: DEFAULT_WINDOW_MS, maxThrottleMs: DEFAULT_MAX_THROTTLE_MS, entities: [] }

const DOC_KEYS = ['window', 'maxThrottleMs', 'entities']
const LIMIT_KEYS = ['produceBytesPerSecond', 'fetchBytesPerSecond', 'requestsPerSecond', 'requests', 'connections', 'connectionsPerSecond', 'partitionsPerRequest'] as const
const ENTITY_KEYS = ['user', 'clientId', ...LIMIT_KEYS]
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 }

export function parseQuotasFile (text: string, file: string): QuotaRules {
  return parseQuotas(parsePolicyYaml(text, file, QUOTA_ERROR, `Quotas file ${file} is refused`), [], `Quotas file ${file} is refused (the running quotas stay)`)
}

export function parseQuotas (source: PolicySource, extraKeys: readonly string[] = [], what = 'Quotas are refused'): QuotaRules {
  const problems = new Problems(source.locate)
  const rules = read(source, problems, extraKeys)
  if (!problems.empty) throw new PolicyFileError(QUOTA_ERROR, what, problems.list)
  return rules
}

function read (source: PolicySource, problems: Problems, extraKeys: readonly string[]): QuotaRules {
  const doc = source.value ?? {}
  if (!isPlainObject(doc)) {
    problems.add([], `expected a mapping with ${DOC_KEYS.join(', ')}, got ${describeValue(doc)}`)
    return EMPTY_QUOTAS
  }
  for (const k of Object.keys(doc)) {
    if (!DOC_KEYS.includes(k) && !extraKeys.includes(k)) problems.add([k], `unknown key '${k}'; allowed: ${[...DOC_KEYS, ...extraKeys].join(', ')}`, 'key')
  }
  let samples = DEFAULT_SAMPLES
  let windowMs = DEFAULT_WINDOW_MS
  if (doc.window !== undefined) {
    const w = doc.window
    if (!isPlainObject(w)) problems.add(['window'], `expected { samples: N, seconds: S }, got ${describeValue(w)}`)
    else {
      for (const k of Object.keys(w)) if (k !== 'samples' && k !== 'seconds') problems.add(['window', k], `unknown key '${k}'; allowed: samples, seconds`, 'key')
      if (w.samples !== undefined) samples = whole(w.samples, ['window', 'samples'], problems, 2, 60) ?? samples
      if (w.seconds !== undefined) windowMs = (whole(w.seconds, ['window', 'seconds'], problems, 1, 3600) ?? 1) * 1000
    }
  }
  const maxThrottleMs = doc.maxThrottleMs === undefined ? DEFAULT_MAX_THROTTLE_MS : whole(doc.maxThrottleMs, ['maxThrottleMs'], problems, 0, 3_600_000) ?? DEFAULT_MAX_THROTTLE_MS
  const entities: QuotaEntity[] = []
  const seen = new Map<string, string>()
  if (doc.entities !== undefined) {
    if (!Array.isArray(doc.entities)) problems.add(['entities'], `expected a list of entries, got ${describeValue(doc.entities)}`)
    else doc.entities.forEach((raw, i) => {
      const e = entity(raw, ['entities', i], problems, source.locate(['entities', i]))
      if (e === null) return
      const key = `${e.user ?? ''}\0${e.clientId ?? ''}\0${e.user === undefined ? 0 : 1}${e.clientId === undefined ? 0 : 1}`
      const first = seen.get(key)
      if (first !== undefined) problems.add(['entities', i], `this user/clientId pair is already set at ${first}; merge the two entries`)
      else seen.set(key, e.where)
      entities.push(e)
    })
  }
  return { samples, windowMs, maxThrottleMs, entities }
}

function whole (v: unknown, path: PathSegment[], problems: Problems, min: number, max: number): number | null {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v
  problems.add(path, `got ${describeValue(v)}; allowed: a whole number from ${min} to ${max}`)
  return null
}

function positive (v: unknown, path: PathSegment[], problems: Problems, units: boolean): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v
  if (units && typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)\s*$/i.exec(v)
    if (m !== null) return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!
  }
  problems.add(path, `got ${describeValue(v)}; allowed: a number above 0${units ? ' of bytes, optionally with a unit (500KB, 5MB, 1GB, 5MiB, ...)' : ''}`)
  return null
}

function entity (raw: unknown, path: PathSegment[], problems: Problems, where: string): QuotaEntity | null {
  if (!isPlainObject(raw)) {
    problems.add(path, `expected an entry with user and/or clientId and limits, got ${describeValue(raw)}`)
    return null
  }
  const before = problems.list.length
  for (const k of Object.keys(raw)) if (!ENTITY_KEYS.includes(k)) problems.add([...path, k], `unknown key '${k}'; allowed: ${ENTITY_KEYS.join(', ')}`, 'key')
  for (const k of ['user', 'clientId'] as const) {
    if (raw[k] !== undefined && (typeof raw[k] !== 'string' || raw[k] === '')) problems.add([...path, k], `got ${describeValue(raw[k])}; allowed: a name, or "*" for the default`)
  }
  if (raw.user === undefined && raw.clientId === undefined) problems.add(path, 'an entry names a user, a clientId or both ("*" is the default of either)')
  if (!LIMIT_KEYS.some(k => raw[k] !== undefined)) problems.add(path, `an entry sets at least one limit: ${LIMIT_KEYS.join(', ')}`)
  const out: { -readonly [K in keyof QuotaEntity]: QuotaEntity[K] } = { where }
  if (typeof raw.user === 'string') out.user = raw.user
  if (typeof raw.clientId === 'string') out.clientId = raw.clientId
  if (raw.produceBytesPerSecond !== undefined) out.produceBytesPerSecond = positive(raw.produceBytesPerSecond, [...path, 'produceBytesPerSecond'], problems, true) ?? undefined
  if (raw.fetchBytesPerSecond !== undefined) out.fetchBytesPerSecond = positive(raw.fetchBytesPerSecond, [...path, 'fetchBytesPerSecond'], problems, true) ?? undefined
  if (raw.requestsPerSecond !== undefined) out.requestsPerSecond = positive(raw.requestsPerSecond, [...path, 'requestsPerSecond'], problems, false) ?? undefined
  if (raw.connections !== undefined) out.connections = whole(raw.connections, [...path, 'connections'], problems, 0, 1_000_000) ?? undefined
  if (raw.connectionsPerSecond !== undefined) out.connectionsPerSecond = positive(raw.connectionsPerSecond, [...path, 'connectionsPerSecond'], problems, false) ?? undefined
  if (raw.partitionsPerRequest !== undefined) out.partitionsPerRequest = whole(raw.partitionsPerRequest, [...path, 'partitionsPerRequest'], problems, 1, 10_000_000) ?? undefined
  if (raw.requests !== undefined) out.requests = requestLimits(raw.requests, [...path, 'requests'], problems) ?? undefined
  return problems.list.length > before ? null : out
}

function requestLimits (raw: unknown, path: PathSegment[], problems: Problems): RequestRateLimit[] | null {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.add(path, `expected a list like [{ apis: [Metadata], perSecond: 50 }], got ${describeValue(raw)}`)
    return null
  }
  const out: RequestRateLimit[] = []
  raw.forEach((item, i) => {
    const at = [...path, i]
    if (!isPlainObject(item)) {
      problems.add(at, `expected { apis: [...], perSecond: N } or { apis: [...], perMinute: N }, got ${describeValue(item)}`)
      return
    }
    for (const k of Object.keys(item)) if (!['apis', 'perSecond', 'perMinute'].includes(k)) problems.add([...at, k], `unknown key '${k}'; allowed: apis, perSecond, perMinute`, 'key')
    const names = Array.isArray(item.apis) ? item.apis : [item.apis]
    const keys: number[] = []
    const apiNames: string[] = []
    names.forEach((n, j) => {
      const api = typeof n === 'string' ? apiByName(n) : undefined
      if (api === undefined) problems.add(Array.isArray(item.apis) ? [...at, 'apis', j] : [...at, 'apis'], `unknown API ${describeValue(n)}; allowed: Kafka's API names as in its protocol guide (Produce, Fetch, Metadata, JoinGroup, SyncGroup, ...)`)
      else if (!keys.includes(api.apiKey)) {
        keys.push(api.apiKey)
        apiNames.push(api.name)
      }
    })
    const hasSecond = item.perSecond !== undefined
    const hasMinute = item.perMinute !== undefined
    if (hasSecond === hasMinute) {
      problems.add(at, 'give exactly one of perSecond and perMinute')
      return
    }
    const n = positive(hasSecond ? item.perSecond : item.perMinute, [...at, hasSecond ? 'perSecond' : 'perMinute'], problems, false)
    if (n === null || keys.length !== names.length) return
    const order = keys.map((k, j) => [k, apiNames[j]!] as const).sort((a, b) => a[0] - b[0])
    out.push({ apiKeys: order.map(o => o[0]), apiNames: order.map(o => o[1]), perSecond: hasSecond ? n : n / 60, unit: hasSecond ? 'second' : 'minute' })
  })
  return out.length === raw.length ? out : null
}
