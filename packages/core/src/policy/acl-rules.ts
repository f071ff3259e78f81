// The ACL model: who (principal matchers, named groups, super users), which resource (type and
// name pattern, and for topics optionally partitions), which operations, allow or deny. Rules
// come from the config file and/or a rules file (acl-rules-parser.ts); the authorizer
// (acl-authorizer.ts) decides with them.
import type { AclResourceType, AclRuleOperation } from './acl-operations.ts'
import type { PartitionSet } from './partition-set.ts'

export type PrincipalMatcher =
  | { readonly kind: 'exact', readonly principal: string }
  | { readonly kind: 'prefix', readonly prefix: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'group', readonly group: string }

export type NamePattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'literal', readonly name: string }
  | { readonly kind: 'prefix', readonly prefix: string }
  // anchored: the expression must match the whole name
  | { readonly kind: 'regex', readonly source: string, readonly regex: RegExp }

export interface AclRule {
  // 1-based position in the rule set (config rules first, then the rules file)
  readonly id: number
  // where it was written: 'rules.yaml:12:5: rules[3]' or 'kproxy.yaml: policy.acl.rules[3]'
  readonly where: string
  // optional label from the rule's `name:`
  readonly name: string | null
  readonly permission: 'allow' | 'deny'
  readonly operations: readonly AclRuleOperation[]
  // the operations the rule covers (an allow's implied ones included), one bit each (OP_BIT)
  readonly mask: number
  readonly principals: readonly PrincipalMatcher[]
  readonly resourceType: AclResourceType
  readonly pattern: NamePattern
  // topics only; null: every partition
  readonly partitions: PartitionSet | null
}

export interface AclRuleSet {
  readonly rules: readonly AclRule[]
  // group name -> members (never another group)
  readonly groups: ReadonlyMap<string, readonly PrincipalMatcher[]>
  // principals every check allows, as Kafka's super.users
  readonly superUsers: readonly PrincipalMatcher[]
}

export const EMPTY_RULE_SET: AclRuleSet = { rules: [], groups: new Map(), superUsers: [] }

export function principalMatches (m: PrincipalMatcher, principal: string, groups: AclRuleSet['groups']): boolean {
  switch (m.kind) {
    case 'any': return true
    case 'exact': return m.principal === principal
    case 'prefix': return principal.startsWith(m.prefix)
    case 'group': return (groups.get(m.group) ?? []).some(member => principalMatches(member, principal, groups))
  }
}

export function patternMatches (p: NamePattern, name: string): boolean {
  switch (p.kind) {
    case 'any': return true
    case 'literal': return p.name === name
    case 'prefix': return name.startsWith(p.prefix)
    case 'regex': return p.regex.test(name)
  }
}

function principalText (m: PrincipalMatcher): string {
  switch (m.kind) {
    case 'any': return '*'
    case 'exact': return m.principal
    case 'prefix': return `${m.prefix}*`
    case 'group': return `group ${m.group}`
  }
}

function patternText (p: NamePattern): string {
  switch (p.kind) {
    case 'any': return '*'
    case 'literal': return `'${p.name}'`
    case 'prefix': return `prefix '${p.prefix}'`
    case 'regex': return `regex /${p.source}/`
  }
}

// One line for logs and `kproxy acl check`.
export function describeRule (rule: AclRule): string {
  const resource = rule.resourceType === 'cluster' ? 'the cluster' : `${rule.resourceType} ${patternText(rule.pattern)}`
  const partitions = rule.partitions === null ? '' : ` partitions ${rule.partitions.text}`
  const label = rule.name === null ? '' : ` "${rule.name}"`
  return `rule #${rule.id}${label} (${rule.where}): ${rule.permission} ${rule.operations.join(', ')} on ${resource}${partitions} for ${rule.principals.map(principalText).join(', ')}`
}
