// A listener's filters in order, compiled into per-(API key, version) tables: which filters want
// the request, which want the response, and whether any wants the body. A session asks the table
// for every frame; `null` means nobody wants it and the frame goes through as it arrived.
//
// Requests pass the filters first to last; responses last to first (the filter nearest the
// upstream sees the upstream's answer first, as in Envoy and Kroxylicious). An answer made by
// filter i passes back through filters i-1..0 only.
//
// Taps are observe-only built-ins with plain-number callbacks (metrics): called for every frame,
// they never decode and never allocate.
import { apiByName } from '@kproxy/core/protocol/api-keys'
import { MAX_API_KEYS, MAX_VERSIONS } from '@kproxy/core/metrics/metrics-registry'
import type { ApiInterest, Filter, FilterInterests, InterestLevel } from './filter-api.ts'
import type { SessionContext } from '../session/session-context.ts'

export interface Tap {
  // a request frame was read (size: payload bytes) on that connection
  request (apiKey: number, apiVersion: number, size: number, connection: SessionContext): void
  // a response was written, latencyMicros after its request was read
  response (apiKey: number, apiVersion: number, latencyMicros: number): void
}

export interface ChainMember {
  // the name in logs and metrics: the entry's `name`, or the built-in's / module's filter name
  readonly label: string
  readonly filter: Filter
  // one of kproxy's own (its failures on a response close the connection, as a decode error does)
  readonly builtin?: boolean
}

export interface Interested {
  readonly index: number // position in the chain
  readonly member: ChainMember
  readonly level: InterestLevel
}

const NONE: readonly Interested[] = []

export class FilterChain {
  readonly members: readonly ChainMember[]
  readonly taps: readonly Tap[]
  // [apiKey * MAX_VERSIONS + version] -> interested filters in chain order, or null
  readonly #requests: Array<readonly Interested[] | null>
  readonly #responses: Array<readonly Interested[] | null>
  // 1 when a filter wants that request body (the codec must be able to decode it)
  readonly #requestBody: Uint8Array
  readonly #responseBody: Uint8Array

  constructor (members: readonly ChainMember[], taps: readonly Tap[] = []) {
    this.members = members
    this.taps = taps
    this.#requests = new Array(MAX_API_KEYS * MAX_VERSIONS).fill(null)
    this.#responses = new Array(MAX_API_KEYS * MAX_VERSIONS).fill(null)
    this.#requestBody = new Uint8Array(MAX_API_KEYS * MAX_VERSIONS)
    this.#responseBody = new Uint8Array(MAX_API_KEYS * MAX_VERSIONS)
    members.forEach((member, index) => {
      const interests: FilterInterests = member.filter.interests ?? {}
      compile(interests.requests, member, index, this.#requests, this.#requestBody, member.label, 'requests')
      compile(interests.responses, member, index, this.#responses, this.#responseBody, member.label, 'responses')
    })
  }

  // The filters that want this request, or null. Keys and versions outside the tables: null.
  requestFilters (apiKey: number, apiVersion: number): readonly Interested[] | null {
    if (apiKey >>> 0 >= MAX_API_KEYS || apiVersion >>> 0 >= MAX_VERSIONS) return null
    return this.#requests[apiKey * MAX_VERSIONS + apiVersion]!
  }

  responseFilters (apiKey: number, apiVersion: number): readonly Interested[] | null {
    if (apiKey >>> 0 >= MAX_API_KEYS || apiVersion >>> 0 >= MAX_VERSIONS) return null
    return this.#responses[apiKey * MAX_VERSIONS + apiVersion]!
  }

  // Some filter wants the request or the response at this version decoded.
  wantsBody (apiKey: number, apiVersion: number): boolean {
    if (apiKey >>> 0 >= MAX_API_KEYS || apiVersion >>> 0 >= MAX_VERSIONS) return false
    const i = apiKey * MAX_VERSIONS + apiVersion
    return this.#requestBody[i] === 1 || this.#responseBody[i] === 1
  }

  close (): void {
    for (const m of this.members) {
      try { m.filter.close?.() } catch {}
    }
  }
}

function compile (list: readonly ApiInterest[] | undefined, member: ChainMember, index: number, table: Array<readonly Interested[] | null>, body: Uint8Array, label: string, what: string): void {
  if (list === undefined) return
  for (const interest of list) {
    const level = interest.level ?? 'body'
    const keys = interest.apiKeys === 'all' ? allKeys() : interest.apiKeys.map(k => apiKeyOf(k, label, what))
    const lo = Math.max(0, interest.minVersion ?? 0)
    const hi = Math.min(MAX_VERSIONS - 1, interest.maxVersion ?? MAX_VERSIONS - 1)
    for (const key of keys) {
      for (let v = lo; v <= hi; v++) {
        const i = key * MAX_VERSIONS + v
        const have = table[i] ?? NONE
        const existing = have.findIndex(x => x.index === index)
        if (existing >= 0) {
          // the same filter twice for one key: the wider level wins
          if (level === 'body' && have[existing]!.level !== 'body') {
            table[i] = have.map(x => x.index === index ? { index, member, level } : x)
          }
        } else {
          table[i] = [...have, { index, member, level }].sort((a, b) => a.index - b.index)
        }
        if (level === 'body') body[i] = 1
      }
    }
  }
}

function allKeys (): number[] {
  return Array.from({ length: MAX_API_KEYS }, (_, k) => k)
}

function apiKeyOf (key: number | string, label: string, what: string): number {
  if (typeof key === 'number') {
    if (Number.isInteger(key) && key >= 0 && key < MAX_API_KEYS) return key
  } else {
    const api = apiByName(key)
    if (api !== undefined) return api.apiKey
  }
  throw new TypeError(`filter ${label}: ${what} interest names API key ${JSON.stringify(key)}, which is neither a Kafka API name (such as 'Produce') nor a key from 0 to ${MAX_API_KEYS - 1}`)
}
