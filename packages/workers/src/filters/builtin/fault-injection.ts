// faultInjection: for chosen API keys, topics, principals or client ids, a percentage of requests
// get a chosen Kafka error (as the broker would send it: per partition for Produce, per topic for
// CreateTopics, ...), an added latency, or a closed connection. For testing how clients cope with
// leader moves, timeouts and dropped connections, without touching the brokers.
//
//   filters:
//     - name: faultInjection
//       config:
//         seed: 42                      # optional: the same sequence of faults on every run
//         rules:
//           - match: { apiKeys: [Produce], topics: [orders, /^audit\./] }
//             percent: 30
//             action: { error: NOT_LEADER_OR_FOLLOWER }
//           - match: { clientIds: [flaky-app] }
//             percent: 5
//             action: { delayMs: 2000 }
//
// Every injected fault is counted: kproxy_filter_events_total{filter="faultInjection",
// event="Produce:error:NOT_LEADER_OR_FOLLOWER"}.
import { apiByKey, apiByName } from '@kproxy/core/protocol/api-keys'
import { errorByCode, errorByName } from '@kproxy/core/protocol/codec'
import { collectEntities } from '@kproxy/core/protocol/entity-walk'
import { defineFilter } from '../filter-api.ts'
import type { ApiInterest, Filter, FilterCounter, FilterEnvironment, FilterRequest, RequestAction } from '../filter-api.ts'
import { configProblems, parseTopicMatcher } from './filter-config.ts'
import type { TopicMatcher } from './filter-config.ts'

export type FaultAction =
  | { readonly kind: 'error', readonly code: number, readonly name: string }
  | { readonly kind: 'delay', readonly ms: number }
  | { readonly kind: 'close' }

export interface FaultRule {
  readonly apiKeys: readonly number[] | null
  readonly topics: readonly TopicMatcher[] | null
  readonly principals: readonly string[] | null
  readonly clientIds: readonly string[] | null
  readonly percent: number
  readonly action: FaultAction
}

export interface FaultInjectionConfig {
  readonly rules: readonly FaultRule[]
  readonly seed: number | null
}

const MAX_DELAY_MS = 600_000

export function parseFaultInjectionConfig (raw: unknown): FaultInjectionConfig {
  const problems: string[] = []
  const c = (raw ?? {}) as Record<string, unknown>
  if (typeof c !== 'object' || Array.isArray(c)) throw configProblems(['config must be a mapping with rules'])
  for (const key of Object.keys(c)) if (key !== 'rules' && key !== 'seed') problems.push(`${key}: unknown key; allowed: rules, seed`)
  let seed: number | null = null
  if (c.seed !== undefined) {
    if (typeof c.seed === 'number' && Number.isInteger(c.seed)) seed = c.seed
    else problems.push(`seed: got ${JSON.stringify(c.seed)}, allowed: an integer`)
  }
  const rules: FaultRule[] = []
  if (!Array.isArray(c.rules) || c.rules.length === 0) {
    problems.push('rules: allowed: a non-empty list of { match, percent, action }')
  } else {
    c.rules.forEach((r, i) => {
      const rule = parseRule(r, `rules[${i}]`, problems)
      if (rule !== null) rules.push(rule)
    })
  }
  if (problems.length > 0) throw configProblems(problems)
  return { rules, seed }
}

function parseRule (raw: unknown, at: string, problems: string[]): FaultRule | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${at}: allowed: a mapping with match, percent and action`)
    return null
  }
  const r = raw as Record<string, unknown>
  for (const key of Object.keys(r)) if (!['match', 'percent', 'action'].includes(key)) problems.push(`${at}.${key}: unknown key; allowed: match, percent, action`)
  const m = (r.match ?? {}) as Record<string, unknown>
  if (typeof m !== 'object' || Array.isArray(m)) problems.push(`${at}.match: allowed: a mapping of apiKeys, topics, principals, clientIds`)
  for (const key of Object.keys(m)) if (!['apiKeys', 'topics', 'principals', 'clientIds'].includes(key)) problems.push(`${at}.match.${key}: unknown key; allowed: apiKeys, topics, principals, clientIds`)
  const apiKeys = list(m.apiKeys, `${at}.match.apiKeys`, problems, (v, where) => {
    const api = typeof v === 'number' ? apiByKey(v) : typeof v === 'string' ? apiByName(v) : undefined
    if (api === undefined) problems.push(`${where}: ${JSON.stringify(v)} is not a Kafka API (a name such as Produce, or a key number)`)
    return api?.apiKey ?? null
  })
  const topics = list(m.topics, `${at}.match.topics`, problems, (v, where) => parseTopicMatcher(v, where, problems))
  const principals = list(m.principals, `${at}.match.principals`, problems, (v, where) => typeof v === 'string' ? v : (problems.push(`${where}: allowed: a principal name`), null))
  const clientIds = list(m.clientIds, `${at}.match.clientIds`, problems, (v, where) => typeof v === 'string' ? v : (problems.push(`${where}: allowed: a client id`), null))
  const percent = r.percent
  if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) problems.push(`${at}.percent: got ${JSON.stringify(percent)}, allowed: a number from 0 to 100`)
  const action = parseAction(r.action, `${at}.action`, problems)
  if (action === null || typeof percent !== 'number') return null
  return { apiKeys, topics, principals, clientIds, percent, action }
}

function parseAction (raw: unknown, at: string, problems: string[]): FaultAction | null {
  const allowed = 'one of { error: <Kafka error name or code> }, { delayMs: 0..600000 }, { close: true }'
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || Object.keys(raw).length !== 1) {
    problems.push(`${at}: allowed: ${allowed}`)
    return null
  }
  const a = raw as Record<string, unknown>
  if ('error' in a) {
    const info = typeof a.error === 'number' ? errorByCode(a.error) : typeof a.error === 'string' ? errorByName(a.error) : undefined
    if (info === undefined || info.code === 0) {
      problems.push(`${at}.error: ${JSON.stringify(a.error)} is not a Kafka error; allowed: a name such as NOT_LEADER_OR_FOLLOWER or REQUEST_TIMED_OUT, or its code`)
      return null
    }
    return { kind: 'error', code: info.code, name: info.name }
  }
  if ('delayMs' in a) {
    if (typeof a.delayMs === 'number' && Number.isInteger(a.delayMs) && a.delayMs >= 0 && a.delayMs <= MAX_DELAY_MS) return { kind: 'delay', ms: a.delayMs }
    problems.push(`${at}.delayMs: got ${JSON.stringify(a.delayMs)}, allowed: an integer from 0 to ${MAX_DELAY_MS}`)
    return null
  }
  if ('close' in a && a.close === true) return { kind: 'close' }
  problems.push(`${at}: allowed: ${allowed}`)
  return null
}

function list<T> (raw: unknown, at: string, problems: string[], item: (v: unknown, where: string) => T | null): T[] | null {
  if (raw === undefined) return null
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(`${at}: allowed: a non-empty list`)
    return null
  }
  const out: T[] = []
  raw.forEach((v, i) => {
    const parsed = item(v, `${at}[${i}]`)
    if (parsed !== null) out.push(parsed)
  })
  return out
}

// mulberry32: small, fast, and repeatable from a seed
function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function createFaultInjection (config: FaultInjectionConfig, env: FilterEnvironment): Filter {
  const rules = config.rules
  const roll = random(config.seed ?? (Math.random() * 2 ** 32))
  const counters = new Map<string, FilterCounter>()
  const count = (event: string): void => {
    let c = counters.get(event)
    if (c === undefined) counters.set(event, c = env.counter(event))
    c.inc()
  }
  const needsBody = rules.some(r => r.topics !== null)
  const level = needsBody ? 'body' : 'header'
  const interest: ApiInterest = rules.some(r => r.apiKeys === null)
    ? { apiKeys: 'all', level }
    : { apiKeys: [...new Set(rules.flatMap(r => r.apiKeys!))], level }
  return {
    interests: { requests: [interest] },
    onRequest (request: FilterRequest): RequestAction | Promise<void> | undefined {
      let topics: string[] | null = null
      for (const rule of rules) {
        if (rule.apiKeys !== null && !rule.apiKeys.includes(request.apiKey)) continue
        if (rule.principals !== null && !rule.principals.includes(request.connection.principal)) continue
        if (rule.clientIds !== null && !rule.clientIds.includes(request.header.clientId ?? '')) continue
        if (rule.topics !== null) {
          const api = apiByKey(request.apiKey)!
          topics ??= collectEntities(api.request.schema, request.body, 'topicName', request.apiVersion)
          if (!topics.some(t => rule.topics!.some(m => m(t)))) continue
        }
        if (roll() * 100 >= rule.percent) continue
        const name = apiByKey(request.apiKey)?.name ?? String(request.apiKey)
        const action = rule.action
        switch (action.kind) {
          case 'error':
            count(`${name}:error:${action.name}`)
            return { kind: 'error', errorCode: action.code, message: 'injected by kproxy faultInjection' }
          case 'delay':
            count(`${name}:delay`)
            return new Promise<void>(resolve => { setTimeout(resolve, action.ms) })
          case 'close':
            count(`${name}:close`)
            return { kind: 'close', reason: 'faultInjection: close' }
        }
      }
      return undefined
    }
  }
}

export const faultInjection = defineFilter<FaultInjectionConfig>({
  name: 'faultInjection',
  parseConfig: parseFaultInjectionConfig,
  create: createFaultInjection
})
