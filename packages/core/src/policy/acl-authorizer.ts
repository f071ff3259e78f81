// Decides ACL checks the way Kafka's authorizer does: super users are allowed everything; else
// a matching DENY wins over any ALLOW; else a matching ALLOW (its implied operations included)
// allows; else the listener's default decides. Partition-scoped rules (kproxy's extension):
//  - a check on one partition counts a rule if the rule names no partitions or names that one;
//  - a topic-level check (Metadata's Describe, CreateTopics, ...) counts every ALLOW rule for
//    the topic (a principal allowed some partitions may see the topic) but only the DENY rules
//    that name no partitions (a deny of some partitions is not a deny of the topic).
//
// Two paths from the same rules:
//  - authorize(): the decision and the rule that made it, for logs and `kproxy acl check`;
//  - forPrincipal(): a view compiled for one principal, cached per rule-set version, whose
//    checks allocate nothing once a name has been seen (for a topic, a bitset of allowed
//    partitions per operation), for the request path.
import { ACL_OPERATIONS, OP_BIT } from './acl-operations.ts'
import type { AclOperation, AclResourceType } from './acl-operations.ts'
import { patternMatches, principalMatches } from './acl-rules.ts'
import type { AclRule, AclRuleSet } from './acl-rules.ts'
import { partitionSetHas } from './partition-set.ts'

export type DefaultDecision = 'allow' | 'deny'

export interface AclDecision {
  readonly allowed: boolean
  readonly by: 'deny-rule' | 'allow-rule' | 'default' | 'super-user'
  // the deciding rule; null for 'default' and 'super-user'
  readonly rule: AclRule | null
}

export interface AclAuthorizerOptions {
  // what a check no rule matches gets (per listener)
  readonly defaultDecision: DefaultDecision
  // the rule set's version (the policy file watcher's); compiled views carry it
  readonly version?: number
  // bounds of the caches: principals per authorizer, names per principal and resource type
  readonly maxPrincipals?: number
  readonly maxNames?: number
}

const OP_INDEX: Readonly<Record<AclOperation, number>> = Object.fromEntries(ACL_OPERATIONS.map((op, i) => [op, i])) as Record<AclOperation, number>
// Partitions below this get a bit each; above it a check walks the rules' ranges (still
// allocation-free, just slower). Real topics stay far below it.
const BITSET_LIMIT = 65_536

function appliesTo (rule: AclRule, partition: number | undefined): boolean {
  if (rule.partitions === null) return true
  if (partition === undefined) return rule.permission === 'allow'
  return partitionSetHas(rule.partitions, partition)
}

// The slow path over an already principal-filtered rule list.
function decide (rules: readonly AclRule[], op: AclOperation, type: AclResourceType, name: string, partition: number | undefined, defaultDecision: DefaultDecision): AclDecision {
  const bit = OP_BIT[op]
  let allow: AclRule | null = null
  for (const r of rules) {
    if (r.resourceType !== type || (r.mask & bit) === 0 || !patternMatches(r.pattern, name) || !appliesTo(r, type === 'topic' ? partition : undefined)) continue
    if (r.permission === 'deny') return { allowed: false, by: 'deny-rule', rule: r }
    allow ??= r
  }
  if (allow !== null) return { allowed: true, by: 'allow-rule', rule: allow }
  return { allowed: defaultDecision === 'allow', by: 'default', rule: null }
}

const SUPER_USER: AclDecision = { allowed: true, by: 'super-user', rule: null }

export class AclAuthorizer {
  readonly rules: AclRuleSet
  readonly defaultDecision: DefaultDecision
  readonly version: number
  readonly #maxPrincipals: number
  readonly #maxNames: number
  readonly #views = new Map<string, PrincipalAcl>()

  constructor (rules: AclRuleSet, options: AclAuthorizerOptions) {
    this.rules = rules
    this.defaultDecision = options.defaultDecision
    this.version = options.version ?? 1
    this.#maxPrincipals = options.maxPrincipals ?? 10_000
    this.#maxNames = options.maxNames ?? 10_000
  }

  isSuperUser (principal: string): boolean {
    return this.rules.superUsers.some(m => principalMatches(m, principal, this.rules.groups))
  }

  // The rules that name this principal, in order.
  rulesFor (principal: string): AclRule[] {
    return this.rules.rules.filter(r => r.principals.some(m => principalMatches(m, principal, this.rules.groups)))
  }

  authorize (principal: string, op: AclOperation, type: AclResourceType, name: string, partition?: number): AclDecision {
    if (this.isSuperUser(principal)) return SUPER_USER
    return decide(this.rulesFor(principal), op, type, name, partition, this.defaultDecision)
  }

  forPrincipal (principal: string): PrincipalAcl {
    let view = this.#views.get(principal)
    if (view === undefined) {
      if (this.#views.size >= this.#maxPrincipals) this.#views.clear()
      view = new PrincipalAcl(principal, this.version, this.isSuperUser(principal), this.rulesFor(principal), this.defaultDecision, this.#maxNames)
      this.#views.set(principal, view)
    }
    return view
  }
}

// One principal's rules, compiled lazily per resource name.
export class PrincipalAcl {
  readonly principal: string
  readonly version: number
  readonly superUser: boolean
  readonly #rules: readonly AclRule[]
  readonly #default: DefaultDecision
  readonly #maxNames: number
  readonly #topics = new Map<string, TopicAcl>()
  readonly #others = new Map<AclResourceType, Map<string, number>>()

  constructor (principal: string, version: number, superUser: boolean, rules: readonly AclRule[], defaultDecision: DefaultDecision, maxNames: number) {
    this.principal = principal
    this.version = version
    this.superUser = superUser
    this.#rules = rules
    this.#default = defaultDecision
    this.#maxNames = maxNames
  }

  // The operations allowed on a resource (topic-level for topics), one bit each (OP_BIT).
  allowedOps (type: AclResourceType, name: string): number {
    if (type === 'topic') return this.topic(name).topicMask
    let names = this.#others.get(type)
    if (names === undefined) {
      names = new Map()
      this.#others.set(type, names)
    }
    let mask = names.get(name)
    if (mask === undefined) {
      mask = 0
      for (const op of ACL_OPERATIONS) if (this.superUser || decide(this.#rules, op, type, name, undefined, this.#default).allowed) mask |= OP_BIT[op]
      if (names.size >= this.#maxNames) names.clear()
      names.set(name, mask)
    }
    return mask
  }

  allows (op: AclOperation, type: AclResourceType, name: string): boolean {
    return (this.allowedOps(type, name) & OP_BIT[op]) !== 0
  }

  topic (name: string): TopicAcl {
    let t = this.#topics.get(name)
    if (t === undefined) {
      if (this.#topics.size >= this.#maxNames) this.#topics.clear()
      t = new TopicAcl(name, this.superUser ? [] : this.#rules.filter(r => r.resourceType === 'topic' && patternMatches(r.pattern, name)), this.superUser, this.#default)
      this.#topics.set(name, t)
    }
    return t
  }

  // Whether some resource of `type` may get `op`: Kafka's authorizeByResourceType, which lets
  // an idempotent producer without IdempotentWrite on the cluster in when it may Write some
  // topic. True when an allow rule (or an allowing default) covers op on that type and no deny
  // of op covers every name of it.
  anyAllowed (op: AclOperation, type: AclResourceType): boolean {
    if (this.superUser) return true
    const bit = OP_BIT[op]
    let allowed = this.#default === 'allow'
    for (const r of this.#rules) {
      if (r.resourceType !== type || (r.mask & bit) === 0) continue
      if (r.permission === 'deny' && r.pattern.kind === 'any' && r.partitions === null) return false
      if (r.permission === 'allow') allowed = true
    }
    return allowed
  }

  // The slow path for one check (logging a denial).
  explain (op: AclOperation, type: AclResourceType, name: string, partition?: number): AclDecision {
    return this.superUser ? SUPER_USER : decide(this.#rules, op, type, name, partition, this.#default)
  }
}

// One topic for one principal: topic-level mask plus, per operation, a constant or a bitset.
export class TopicAcl {
  readonly name: string
  // operations allowed at topic level (see the file comment)
  readonly topicMask: number
  // per operation index: 1 = every partition allowed, 0 = none, 2 = look at the bitset
  readonly #mode: Uint8Array
  readonly #bits: Array<Uint32Array | null>
  // per operation: the answer at and above the bitset's end
  readonly #beyond: Uint8Array
  readonly #limit: Uint32Array
  readonly #rules: readonly AclRule[]
  readonly #default: DefaultDecision

  constructor (name: string, rules: readonly AclRule[], superUser: boolean, defaultDecision: DefaultDecision) {
    this.name = name
    this.#rules = rules
    this.#default = defaultDecision
    const n = ACL_OPERATIONS.length
    this.#mode = new Uint8Array(n)
    this.#bits = new Array<Uint32Array | null>(n).fill(null)
    this.#beyond = new Uint8Array(n)
    this.#limit = new Uint32Array(n)
    let topicMask = 0
    for (let i = 0; i < n; i++) {
      const op = ACL_OPERATIONS[i]!
      if (superUser) {
        this.#mode[i] = 1
        topicMask |= 1 << i
        continue
      }
      if (decide(rules, op, 'topic', name, undefined, defaultDecision).allowed) topicMask |= 1 << i
      const bit = 1 << i
      const scoped = rules.filter(r => (r.mask & bit) !== 0 && r.partitions !== null)
      const unscopedDeny = rules.some(r => (r.mask & bit) !== 0 && r.partitions === null && r.permission === 'deny')
      if (unscopedDeny || scoped.length === 0) {
        this.#mode[i] = decide(rules, op, 'topic', name, 0, defaultDecision).allowed ? 1 : 0
        continue
      }
      // Every partition at or above `limit` gets the same answer: no range starts or ends there.
      let limit = 0
      for (const r of scoped) for (const [lo, hi] of r.partitions!.ranges) limit = Math.max(limit, hi === Infinity ? lo + 1 : hi + 1)
      limit = Math.min(limit, BITSET_LIMIT)
      const bits = new Uint32Array(Math.ceil(limit / 32))
      for (let p = 0; p < limit; p++) if (decide(rules, op, 'topic', name, p, defaultDecision).allowed) bits[p >>> 5]! |= 1 << (p & 31)
      this.#mode[i] = 2
      this.#bits[i] = bits
      this.#limit[i] = limit
      this.#beyond[i] = decide(rules, op, 'topic', name, BITSET_LIMIT + 1, defaultDecision).allowed ? 1 : 0
    }
    this.topicMask = topicMask
  }

  // The request path: no allocation.
  allows (op: AclOperation, partition: number): boolean {
    const i = OP_INDEX[op]
    const mode = this.#mode[i]!
    if (mode !== 2) return mode === 1
    if (partition < 0) return false
    if (partition < this.#limit[i]!) return ((this.#bits[i]![partition >>> 5]! >>> (partition & 31)) & 1) === 1
    // Between the bitset's end and BITSET_LIMIT only open ranges can apply, and they reach past
    // it: the answer there is #beyond. Past BITSET_LIMIT (a bitset cut short), walk the rules.
    if (this.#limit[i]! < BITSET_LIMIT) return this.#beyond[i] === 1
    return decide(this.#rules, op, 'topic', this.name, partition, this.#default).allowed
  }

  allowsTopic (op: AclOperation): boolean {
    return (this.topicMask & OP_BIT[op]) !== 0
  }
}
