// Reads ACL rules from YAML, the rules file or the `policy.acl` part of the config:
//
//   superUsers: [User:admin]                     # allowed everything, as Kafka's super.users
//   groups:                                      # named groups of principals
//     writers: [User:alice, User:carol]
//     ops: [{ prefix: "User:ops-" }]
//   rules:
//     - allow: [Write]                           # or deny: [...]; Kafka's operation names
//       principal: User:alice                    # Type:name, '*', User:* , { prefix: .. }, { group: .. }, or a list
//       topic: orders                            # or group / transactionalId / cluster / user / delegationToken
//       partitions: [0-3, 7]                     # topics only; leave out for every partition
//     - deny: [All]
//       principal: { group: ops }
//       topic: { regex: "secret\\..*" }          # literal, '*', { prefix: .. }, { regex: .. } (whole name)
//
// A file with any error is refused as a whole; every error names its place and what is allowed.
import { ACL_OPERATIONS, RESOURCE_TYPES, SUPPORTED_OPERATIONS, allowMask, denyMask } from './acl-operations.ts'
import type { AclOperation, AclResourceType, AclRuleOperation } from './acl-operations.ts'
import type { AclRule, AclRuleSet, NamePattern, PrincipalMatcher } from './acl-rules.ts'
import { parsePartitionSet } from './partition-set.ts'
import type { PartitionSet } from './partition-set.ts'
import { describeValue, isPlainObject, parsePolicyYaml, PolicyFileError, Problems } from './policy-source.ts'
import type { PathSegment, PolicySource } from './policy-source.ts'

export const ACL_ERROR = 'KPROXY_ERR_ACL_RULES'

const DOC_KEYS = ['superUsers', 'groups', 'rules'] as const
const RULE_KEYS = ['allow', 'deny', 'principal', 'partitions', 'name', ...RESOURCE_TYPES] as const
const PRINCIPAL_HELP = "write a principal as Type:name (User:alice), '*' (anyone), User:* (any user), { prefix: \"User:team-\" } or { group: NAME }, or a list of these"
const RESOURCE_HELP = "a literal name, '*' (any), { prefix: \"...\" } or { regex: \"...\" } (matching the whole name)"
const OPERATIONS_HELP = `${ACL_OPERATIONS.join(', ')}, All`

// Kafka's names, also case-insensitively and in its enum spelling (ALTER_CONFIGS).
const OPERATION_BY_KEY = new Map<string, AclRuleOperation>([...ACL_OPERATIONS, 'All' as const].map(op => [op.toLowerCase(), op]))

export function parseAclRulesFile (text: string, file: string): AclRuleSet {
  return parseAclRules([parsePolicyYaml(text, file, ACL_ERROR, `ACL rules file ${file} is refused`)], `ACL rules file ${file} is refused (the running rules stay)`)
}

// `extraKeys`: keys of a source that belong to someone else (e.g. rulesFile in the config).
export function parseAclRules (sources: ReadonlyArray<PolicySource | { source: PolicySource, extraKeys: readonly string[] }>, what = 'ACL rules are refused'): AclRuleSet {
  const rules: AclRule[] = []
  const groups = new Map<string, PrincipalMatcher[]>()
  const groupWhere = new Map<string, string>()
  const superUsers: PrincipalMatcher[] = []
  const groupRefs: Array<{ name: string, problems: Problems, path: PathSegment[] }> = []
  const allProblems: string[] = []

  for (const entry of sources) {
    const source = 'source' in entry ? entry.source : entry
    const extraKeys = 'source' in entry ? entry.extraKeys : []
    const problems = new Problems(source.locate)
    const doc = source.value ?? {}
    if (!isPlainObject(doc)) {
      problems.add([], `expected a mapping with ${DOC_KEYS.join(', ')}, got ${describeValue(doc)}`)
      allProblems.push(...problems.list)
      continue
    }
    for (const key of Object.keys(doc)) {
      if (!(DOC_KEYS as readonly string[]).includes(key) && !extraKeys.includes(key)) problems.add([key], `unknown key '${key}'; allowed: ${[...DOC_KEYS, ...extraKeys].join(', ')}`, 'key')
    }
    const refs = (path: PathSegment[], name: string): void => { groupRefs.push({ name, problems, path }) }

    if (doc.superUsers !== undefined) {
      const m = principals(doc.superUsers, ['superUsers'], problems, refs)
      if (m !== null) superUsers.push(...m)
    }
    if (doc.groups !== undefined) {
      if (!isPlainObject(doc.groups)) problems.add(['groups'], `expected a mapping of group name to a list of principals, got ${describeValue(doc.groups)}`)
      else {
        for (const [name, members] of Object.entries(doc.groups)) {
          const path = ['groups', name]
          if (!/^[A-Za-z0-9._-]+$/.test(name)) problems.add(path, `group name '${name}' may hold letters, digits, '.', '_' and '-' only`, 'key')
          const where = source.locate(path, 'key')
          if (groups.has(name)) problems.add(path, `group '${name}' is defined twice (first at ${groupWhere.get(name)})`, 'key')
          const m = principals(members, path, problems, (p) => problems.add(p, 'a group cannot hold another group; list its members'))
          if (m !== null && !groups.has(name)) {
            groups.set(name, m)
            groupWhere.set(name, where)
          }
        }
      }
    }
    if (doc.rules !== undefined) {
      if (!Array.isArray(doc.rules)) problems.add(['rules'], `expected a list of rules, got ${describeValue(doc.rules)}`)
      else doc.rules.forEach((raw, i) => {
        const rule = readRule(raw, ['rules', i], problems, refs, rules.length + 1, source.locate(['rules', i]))
        if (rule !== null) rules.push(rule)
      })
    }
    allProblems.push(...problems.list)
  }
  for (const ref of groupRefs) {
    if (!groups.has(ref.name)) {
      const known = [...groups.keys()]
      ref.problems.add(ref.path, `there is no group '${ref.name}'; ${known.length === 0 ? 'define it under groups:' : `defined groups: ${known.join(', ')}`}`)
      allProblems.push(ref.problems.list[ref.problems.list.length - 1]!)
    }
  }
  if (allProblems.length > 0) throw new PolicyFileError(ACL_ERROR, what, allProblems)
  return { rules, groups, superUsers }
}

type GroupRef = (path: PathSegment[], name: string) => void

function principals (value: unknown, path: PathSegment[], problems: Problems, onGroup: GroupRef): PrincipalMatcher[] | null {
  const items = Array.isArray(value) ? value : [value]
  if (items.length === 0) {
    problems.add(path, `the list is empty; ${PRINCIPAL_HELP}`)
    return null
  }
  const out: PrincipalMatcher[] = []
  items.forEach((item, i) => {
    const at = Array.isArray(value) ? [...path, i] : path
    const m = principal(item, at, problems)
    if (m === null) return
    if (m.kind === 'group') onGroup(at, m.group)
    out.push(m)
  })
  return out.length === items.length ? out : null
}

function principal (item: unknown, path: PathSegment[], problems: Problems): PrincipalMatcher | null {
  if (typeof item === 'string') {
    if (item === '*') return { kind: 'any' }
    const m = /^([A-Za-z][A-Za-z0-9_-]*):(.+)$/s.exec(item)
    if (m !== null) return m[2] === '*' ? { kind: 'prefix', prefix: `${m[1]!}:` } : { kind: 'exact', principal: item }
  } else if (isPlainObject(item)) {
    const keys = Object.keys(item)
    if (keys.length === 1 && keys[0] === 'prefix' && typeof item.prefix === 'string' && item.prefix !== '') return { kind: 'prefix', prefix: item.prefix }
    if (keys.length === 1 && keys[0] === 'group' && typeof item.group === 'string' && item.group !== '') return { kind: 'group', group: item.group }
  }
  problems.add(path, `got ${describeValue(item)}; ${PRINCIPAL_HELP}`)
  return null
}

function readRule (raw: unknown, path: PathSegment[], problems: Problems, onGroup: GroupRef, id: number, where: string): AclRule | null {
  if (!isPlainObject(raw)) {
    problems.add(path, `expected a rule (a mapping with allow or deny, principal and a resource), got ${describeValue(raw)}`)
    return null
  }
  const before = problems.list.length
  for (const key of Object.keys(raw)) {
    if (!(RULE_KEYS as readonly string[]).includes(key)) problems.add([...path, key], `unknown key '${key}'; allowed: ${RULE_KEYS.join(', ')}`, 'key')
  }
  let permission: 'allow' | 'deny' | null = null
  if ('allow' in raw && 'deny' in raw) problems.add(path, 'a rule has either allow or deny, not both; split it in two')
  else if ('allow' in raw) permission = 'allow'
  else if ('deny' in raw) permission = 'deny'
  else problems.add(path, `a rule needs allow: [operations] or deny: [operations]; operations: ${OPERATIONS_HELP}`)

  const types = RESOURCE_TYPES.filter(t => t in raw)
  if (types.length !== 1) problems.add(path, `a rule names exactly one resource (${RESOURCE_TYPES.join(', ')}); this one names ${types.length === 0 ? 'none' : types.join(' and ')}`)
  const resourceType: AclResourceType | null = types.length === 1 ? types[0]! : null

  const ops = permission === null ? null : operations(raw[permission], [...path, permission], resourceType, problems)
  const who = 'principal' in raw ? principals(raw.principal, [...path, 'principal'], problems, onGroup) : (problems.add(path, `a rule needs principal:; ${PRINCIPAL_HELP}`), null)
  const pattern = resourceType === null ? null : namePattern(raw[resourceType], [...path, resourceType], resourceType, problems)

  let partitions: PartitionSet | null = null
  if (raw.partitions !== undefined) {
    if (resourceType !== null && resourceType !== 'topic') problems.add([...path, 'partitions'], `partitions apply to topic rules only, not ${resourceType}`, 'key')
    const p = parsePartitionSet(raw.partitions)
    if (typeof p === 'string') problems.add([...path, 'partitions'], p)
    else partitions = p
  }
  let name: string | null = null
  if (raw.name !== undefined) {
    if (typeof raw.name !== 'string') problems.add([...path, 'name'], `got ${describeValue(raw.name)}; allowed: a label (a string)`)
    else name = raw.name
  }
  if (problems.list.length > before || permission === null || ops === null || who === null || resourceType === null || pattern === null) return null
  const mask = ops.reduce((m, op) => m | (permission === 'allow' ? allowMask(op) : denyMask(op)), 0)
  return { id, where, name, permission, operations: ops, mask, principals: who, resourceType, pattern, partitions }
}

function operations (value: unknown, path: PathSegment[], type: AclResourceType | null, problems: Problems): AclRuleOperation[] | null {
  const items = Array.isArray(value) ? value : [value]
  if (items.length === 0) {
    problems.add(path, `the list is empty; allowed: ${OPERATIONS_HELP}`)
    return null
  }
  const out: AclRuleOperation[] = []
  let ok = true
  items.forEach((item, i) => {
    const at = Array.isArray(value) ? [...path, i] : path
    const op = typeof item === 'string' ? OPERATION_BY_KEY.get(item.replace(/_/g, '').toLowerCase()) : undefined
    if (op === undefined) {
      problems.add(at, `unknown operation ${describeValue(item)}; allowed: ${OPERATIONS_HELP}`)
      ok = false
      return
    }
    if (type !== null && op !== 'All' && !SUPPORTED_OPERATIONS[type].includes(op as AclOperation)) {
      problems.add(at, `${op} does not apply to ${type}; ${type} supports ${SUPPORTED_OPERATIONS[type].join(', ')}, All`)
      ok = false
      return
    }
    if (!out.includes(op)) out.push(op)
  })
  return ok ? out : null
}

function namePattern (value: unknown, path: PathSegment[], type: AclResourceType, problems: Problems): NamePattern | null {
  if (type === 'cluster') {
    if (value === true || value === '*' || value === 'kafka-cluster') return { kind: 'any' }
    problems.add(path, `got ${describeValue(value)}; write cluster: true`)
    return null
  }
  if (typeof value === 'string' && value !== '') return value === '*' ? { kind: 'any' } : { kind: 'literal', name: value }
  if (isPlainObject(value) && Object.keys(value).length === 1) {
    const [kind] = Object.keys(value)
    const text = value[kind!]
    if (typeof text === 'string' && text !== '') {
      if (kind === 'literal') return { kind: 'literal', name: text }
      if (kind === 'prefix') return { kind: 'prefix', prefix: text }
      if (kind === 'regex') {
        try {
          return { kind: 'regex', source: text, regex: new RegExp(`^(?:${text})$`, 'u') }
        } catch (err) {
          problems.add(path, `the regular expression does not compile: ${(err as Error).message}`)
          return null
        }
      }
    }
  }
  problems.add(path, `got ${describeValue(value)}; a ${type} is ${RESOURCE_HELP}`)
  return null
}
