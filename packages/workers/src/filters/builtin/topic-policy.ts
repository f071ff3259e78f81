// topicPolicy: CreateTopics, CreatePartitions, AlterConfigs and IncrementalAlterConfigs checked
// against rules (topic name pattern, partition count range, minimum replication factor, required
// or forbidden topic configs). A topic that breaks its rule gets POLICY_VIOLATION (44) with a
// message that says which rule and what is allowed; the other topics of the same request go to the
// broker, and the answers are merged back in the client's order.
//
//   filters:
//     - name: topicPolicy
//       config:
//         rules:                              # first rule whose topics match applies
//           - topics: 'orders.*'
//             partitions: { min: 3, max: 48 }
//             minReplicationFactor: 3
//             requiredConfigs: { min.insync.replicas: '2', cleanup.policy: null }  # null: any value
//             forbiddenConfigs: [unclean.leader.election.enable]
//             message: ask #data-platform for exceptions
//           - topics: '*'
//             minReplicationFactor: 2
//
// A create that leaves the partition count or replication factor to the broker's default (-1,
// what kafka-topics.sh sends without --partitions / --replication-factor) is refused when its rule
// bounds that value: kproxy cannot know the broker's default, so the client is asked to set it.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import { defineFilter } from '../filter-api.ts'
import type { Filter, FilterCounter, FilterEnvironment, FilterRequest, FilterResponse, RequestAction } from '../filter-api.ts'
import { configProblems, parseTopicMatcher } from './filter-config.ts'
import type { TopicMatcher } from './filter-config.ts'

export interface TopicRule {
  readonly index: number // 1-based, for messages
  readonly pattern: string
  readonly topics: TopicMatcher
  readonly minPartitions: number | null
  readonly maxPartitions: number | null
  readonly minReplicationFactor: number | null
  // key -> required value, or null for "any value"
  readonly requiredConfigs: ReadonlyMap<string, string | null>
  readonly forbiddenConfigs: readonly string[]
  readonly message: string | null
}

export interface TopicPolicyConfig {
  readonly rules: readonly TopicRule[]
}

const TOPIC_RESOURCE = 2
const OP_SET = 0
const OP_DELETE = 1
const OP_APPEND = 2
const RULE_KEYS = ['topics', 'partitions', 'minReplicationFactor', 'requiredConfigs', 'forbiddenConfigs', 'message']

export function parseTopicPolicyConfig (raw: unknown): TopicPolicyConfig {
  const problems: string[] = []
  const c = (raw ?? {}) as Record<string, unknown>
  if (typeof c !== 'object' || Array.isArray(c)) throw configProblems(['config must be a mapping with rules'])
  for (const key of Object.keys(c)) if (key !== 'rules') problems.push(`${key}: unknown key; allowed: rules`)
  const rules: TopicRule[] = []
  if (!Array.isArray(c.rules) || c.rules.length === 0) {
    problems.push('rules: allowed: a non-empty list of rules')
  } else {
    c.rules.forEach((r, i) => {
      const rule = parseRule(r, i, problems)
      if (rule !== null) rules.push(rule)
    })
  }
  if (problems.length > 0) throw configProblems(problems)
  return { rules }
}

function int (v: unknown, at: string, min: number, problems: string[]): number | null {
  if (v === undefined) return null
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 2_147_483_647) return v
  problems.push(`${at}: got ${JSON.stringify(v)}, allowed: an integer of at least ${min}`)
  return null
}

function parseRule (raw: unknown, i: number, problems: string[]): TopicRule | null {
  const at = `rules[${i}]`
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${at}: allowed: a mapping of ${RULE_KEYS.join(', ')}`)
    return null
  }
  const r = raw as Record<string, unknown>
  for (const key of Object.keys(r)) if (!RULE_KEYS.includes(key)) problems.push(`${at}.${key}: unknown key; allowed: ${RULE_KEYS.join(', ')}`)
  const pattern = r.topics === undefined ? '*' : r.topics
  const topics = parseTopicMatcher(pattern, `${at}.topics`, problems)
  let minPartitions: number | null = null
  let maxPartitions: number | null = null
  if (r.partitions !== undefined) {
    const p = r.partitions as Record<string, unknown>
    if (p === null || typeof p !== 'object' || Array.isArray(p)) {
      problems.push(`${at}.partitions: allowed: a mapping with min and/or max`)
    } else {
      for (const key of Object.keys(p)) if (key !== 'min' && key !== 'max') problems.push(`${at}.partitions.${key}: unknown key; allowed: min, max`)
      minPartitions = int(p.min, `${at}.partitions.min`, 1, problems)
      maxPartitions = int(p.max, `${at}.partitions.max`, 1, problems)
      if (minPartitions !== null && maxPartitions !== null && minPartitions > maxPartitions) problems.push(`${at}.partitions: min ${minPartitions} is above max ${maxPartitions}`)
    }
  }
  const minReplicationFactor = int(r.minReplicationFactor, `${at}.minReplicationFactor`, 1, problems)
  const requiredConfigs = new Map<string, string | null>()
  if (r.requiredConfigs !== undefined) {
    const m = r.requiredConfigs as Record<string, unknown>
    if (m === null || typeof m !== 'object' || Array.isArray(m)) problems.push(`${at}.requiredConfigs: allowed: a mapping of config name to value (or null for any value)`)
    else {
      for (const [k, v] of Object.entries(m)) {
        if (v === null || typeof v === 'string') requiredConfigs.set(k, v)
        else if (typeof v === 'number' || typeof v === 'boolean') requiredConfigs.set(k, String(v))
        else problems.push(`${at}.requiredConfigs.${k}: allowed: a value or null`)
      }
    }
  }
  let forbiddenConfigs: string[] = []
  if (r.forbiddenConfigs !== undefined) {
    if (Array.isArray(r.forbiddenConfigs) && r.forbiddenConfigs.every(k => typeof k === 'string')) forbiddenConfigs = r.forbiddenConfigs as string[]
    else problems.push(`${at}.forbiddenConfigs: allowed: a list of config names`)
  }
  let message: string | null = null
  if (r.message !== undefined) {
    if (typeof r.message === 'string') message = r.message
    else problems.push(`${at}.message: allowed: a string`)
  }
  if (topics === null) return null
  return { index: i + 1, pattern: String(pattern), topics, minPartitions, maxPartitions, minReplicationFactor, requiredConfigs, forbiddenConfigs, message }
}

// ---- checks -------------------------------------------------------------------------------------

function ruleFor (rules: readonly TopicRule[], topic: string): TopicRule | null {
  for (const r of rules) if (r.topics(topic)) return r
  return null
}

function refusal (rule: TopicRule, topic: string, problems: string[]): string {
  const text = `topic '${topic}' breaks topicPolicy rule ${rule.index} (topics: '${rule.pattern}'): ${problems.join('; ')}`
  return rule.message !== null ? `${text}. ${rule.message}` : text
}

function partitionProblems (rule: TopicRule, count: number, problems: string[], what: string): void {
  const range = rule.minPartitions !== null && rule.maxPartitions !== null
    ? `from ${rule.minPartitions} to ${rule.maxPartitions}`
    : rule.minPartitions !== null ? `at least ${rule.minPartitions}` : `at most ${rule.maxPartitions}`
  if (count < 0) {
    if (rule.minPartitions !== null || rule.maxPartitions !== null) problems.push(`the partition count is left to the broker's default; set it explicitly (allowed: ${range})`)
    return
  }
  if ((rule.minPartitions !== null && count < rule.minPartitions) || (rule.maxPartitions !== null && count > rule.maxPartitions)) {
    problems.push(`${what} ${count} partitions; allowed: ${range}`)
  }
}

function checkCreate (rules: readonly TopicRule[], t: any): string | null {
  const rule = ruleFor(rules, t.name)
  if (rule === null) return null
  const problems: string[] = []
  const assigned = Array.isArray(t.assignments) && t.assignments.length > 0
  partitionProblems(rule, assigned ? t.assignments.length : t.numPartitions, problems, 'it would have')
  if (rule.minReplicationFactor !== null) {
    const rf = assigned ? Math.min(...t.assignments.map((a: any) => a.brokerIds.length)) : t.replicationFactor
    if (rf < 0) problems.push(`the replication factor is left to the broker's default; set it explicitly (allowed: at least ${rule.minReplicationFactor})`)
    else if (rf < rule.minReplicationFactor) problems.push(`replication factor ${rf} is below the minimum ${rule.minReplicationFactor}`)
  }
  const configs = new Map<string, string | null>((t.configs ?? []).map((c: any) => [c.name, c.value]))
  for (const [key, value] of rule.requiredConfigs) {
    if (!configs.has(key)) problems.push(`config ${key} is required${value !== null ? ` (= ${value})` : ''}`)
    else if (value !== null && configs.get(key) !== value) problems.push(`config ${key} must be ${value}, not ${String(configs.get(key))}`)
  }
  for (const key of rule.forbiddenConfigs) if (configs.has(key)) problems.push(`config ${key} may not be set`)
  return problems.length === 0 ? null : refusal(rule, t.name, problems)
}

function checkCreatePartitions (rules: readonly TopicRule[], t: any): string | null {
  const rule = ruleFor(rules, t.name)
  if (rule === null) return null
  const problems: string[] = []
  partitionProblems(rule, t.count, problems, 'it would have')
  return problems.length === 0 ? null : refusal(rule, t.name, problems)
}

// AlterConfigs replaces a topic's whole config: a required key that is not in it would be removed.
function checkAlter (rules: readonly TopicRule[], r: any, incremental: boolean): string | null {
  if (r.resourceType !== TOPIC_RESOURCE) return null
  const rule = ruleFor(rules, r.resourceName)
  if (rule === null) return null
  const problems: string[] = []
  const configs: any[] = r.configs ?? []
  for (const key of rule.forbiddenConfigs) {
    const c = configs.find(x => x.name === key)
    if (c !== undefined && (!incremental || c.configOperation === OP_SET || c.configOperation === OP_APPEND)) problems.push(`config ${key} may not be set`)
  }
  for (const [key, value] of rule.requiredConfigs) {
    const c = configs.find(x => x.name === key)
    if (incremental) {
      if (c === undefined) continue
      if (c.configOperation === OP_DELETE) problems.push(`config ${key} is required and may not be deleted`)
      else if (c.configOperation === OP_SET && value !== null && c.value !== value) problems.push(`config ${key} must be ${value}, not ${String(c.value)}`)
    } else if (c === undefined) {
      problems.push(`config ${key} is required${value !== null ? ` (= ${value})` : ''} and would be removed`)
    } else if (value !== null && c.value !== value) {
      problems.push(`config ${key} must be ${value}, not ${String(c.value)}`)
    }
  }
  return problems.length === 0 ? null : refusal(rule, r.resourceName, problems)
}

// ---- splitting a request and merging the answer --------------------------------------------------

interface Shape {
  readonly requestList: string
  readonly responseList: string
  readonly resultStruct: string
  check (rules: readonly TopicRule[], entity: any): string | null
  result (entity: any): Record<string, unknown>
}

const SHAPES: ReadonlyMap<number, Shape> = new Map<number, Shape>([
  [ApiKey.CreateTopics, { requestList: 'topics', responseList: 'topics', resultStruct: 'CreatableTopicResult', check: checkCreate, result: t => ({ name: t.name, numPartitions: -1, replicationFactor: -1, configs: null }) }],
  [ApiKey.CreatePartitions, { requestList: 'topics', responseList: 'results', resultStruct: 'CreatePartitionsTopicResult', check: checkCreatePartitions, result: t => ({ name: t.name }) }],
  [ApiKey.AlterConfigs, { requestList: 'resources', responseList: 'responses', resultStruct: 'AlterConfigsResourceResponse', check: (rules, r) => checkAlter(rules, r, false), result: r => ({ resourceType: r.resourceType, resourceName: r.resourceName }) }],
  [ApiKey.IncrementalAlterConfigs, { requestList: 'resources', responseList: 'responses', resultStruct: 'AlterConfigsResourceResponse', check: (rules, r) => checkAlter(rules, r, true), result: r => ({ resourceType: r.resourceType, resourceName: r.resourceName }) }]
])

// What a split request remembers for its response: per original position, the refusal (or null
// for an entity that went to the broker).
const REFUSED = Symbol('topicPolicy refused')

// Every refused topic is counted: kproxy_filter_events_total{filter="topicPolicy",
// event="CreateTopics:refused"} (the answer itself is made here, so kproxy's response error
// counters do not see it).
export function createTopicPolicy (config: TopicPolicyConfig, env?: Pick<FilterEnvironment, 'counter'>): Filter {
  const rules = config.rules
  const keys = [...SHAPES.keys()]
  const refusedCounters = new Map<number, FilterCounter>(keys.map(k => [k, env?.counter(`${getApi(k).name}:refused`) ?? NO_COUNTER]))
  const filter: Filter = {
    interests: {
      requests: [{ apiKeys: keys, level: 'body' }],
      responses: [{ apiKeys: keys, level: 'header' }]
    },
    onRequest (request: FilterRequest): RequestAction | undefined {
      const shape = SHAPES.get(request.apiKey)!
      const body = request.body
      const entities: any[] = body[shape.requestList] ?? []
      const refusals = entities.map(e => shape.check(rules, e))
      let refusedCount = 0
      for (const r of refusals) if (r !== null) refusedCount++
      if (refusedCount === 0) return undefined
      refusedCounters.get(request.apiKey)!.inc(refusedCount)
      const codec = getApi(request.apiKey).response
      const resultOf = (e: any, message: string): Record<string, unknown> =>
        ({ ...codec.structs[shape.resultStruct]!(), ...shape.result(e), errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: message })
      if (refusedCount === entities.length) {
        const response = codec.create()
        response[shape.responseList] = entities.map((e, i) => resultOf(e, refusals[i]!))
        return { kind: 'respond', body: response }
      }
      request.attributes.set(REFUSED, entities.map((e, i) => refusals[i] === null ? null : resultOf(e, refusals[i]!)))
      body[shape.requestList] = entities.filter((_e, i) => refusals[i] === null)
      request.markChanged()
      return undefined
    },
    onResponse (response: FilterResponse): undefined {
      const refused = response.request.attributes.get(REFUSED) as Array<Record<string, unknown> | null> | undefined
      if (refused === undefined) return undefined
      const shape = SHAPES.get(response.apiKey)!
      const body = response.body
      const answered: any[] = body[shape.responseList] ?? []
      const merged: unknown[] = []
      let next = 0
      for (const r of refused) merged.push(r ?? answered[next++])
      // a broker that answered more (or fewer) entries than it was asked about: keep its extras
      while (next < answered.length) merged.push(answered[next++])
      body[shape.responseList] = merged.filter(x => x !== undefined)
      response.markChanged()
      return undefined
    }
  }
  return filter
}

const NO_COUNTER: FilterCounter = { inc (): void {} }

export const topicPolicy = defineFilter<TopicPolicyConfig>({
  name: 'topicPolicy',
  parseConfig: parseTopicPolicyConfig,
  create: createTopicPolicy
})
