import t from 'tap'
import { parseAclRules, parseAclRulesFile } from '../../src/policy/acl-rules-parser.ts'
import { configSource } from '../../src/policy/policy-source.ts'
import { describeRule } from '../../src/policy/acl-rules.ts'
import { OP_BIT } from '../../src/policy/acl-operations.ts'

const FILE = `superUsers: [User:admin]
groups:
  writers: [User:alice, User:carol]
  ops: [{ prefix: "User:ops-" }]
rules:
  - name: alice writes the first half
    allow: [Write]
    principal: { group: writers }
    topic: orders
    partitions: [0-3]
  - allow: [Read, Describe]
    principal: "*"
    topic: { prefix: orders }
  - deny: [All]
    principal: [{ group: ops }, User:mallory]
    topic: { regex: "secret\\\\..*" }
  - allow: ALTER_CONFIGS
    principal: User:*
    cluster: true
  - allow: [read]
    principal: User:bob
    group: { literal: "*" }
`

t.test('a complete file', async t => {
  const set = parseAclRulesFile(FILE, 'rules.yaml')
  t.equal(set.rules.length, 5)
  t.same(set.superUsers, [{ kind: 'exact', principal: 'User:admin' }])
  t.same(set.groups.get('ops'), [{ kind: 'prefix', prefix: 'User:ops-' }])
  const [a, b, c, d, e] = set.rules
  t.match(a, { id: 1, name: 'alice writes the first half', permission: 'allow', operations: ['Write'], resourceType: 'topic', pattern: { kind: 'literal', name: 'orders' } })
  t.equal(a!.where, 'rules.yaml:6:5: rules[0]')
  t.equal(a!.mask, OP_BIT.Write | OP_BIT.Describe, 'an allow of Write also allows Describe')
  t.same(a!.partitions!.ranges, [[0, 3]])
  t.match(b, { principals: [{ kind: 'any' }], pattern: { kind: 'prefix', prefix: 'orders' }, partitions: null })
  t.match(c, { permission: 'deny', operations: ['All'], principals: [{ kind: 'group', group: 'ops' }, { kind: 'exact', principal: 'User:mallory' }] })
  t.ok(c!.pattern.kind === 'regex' && c!.pattern.regex.test('secret.x') && !c!.pattern.regex.test('xsecret.x'), 'the regex matches whole names')
  t.match(d, { operations: ['AlterConfigs'], mask: OP_BIT.AlterConfigs | OP_BIT.DescribeConfigs, principals: [{ kind: 'prefix', prefix: 'User:' }], pattern: { kind: 'any' } })
  t.match(e, { operations: ['Read'], resourceType: 'group', pattern: { kind: 'literal', name: '*' } })
  t.equal(describeRule(a!), 'rule #1 "alice writes the first half" (rules.yaml:6:5: rules[0]): allow Write on topic \'orders\' partitions 0-3 for group writers')
})

t.test('config rules and file rules combine: config first, groups shared, one id sequence', async t => {
  const config = configSource({ rules: [{ allow: ['Read'], principal: { group: 'writers' }, topic: 'x' }], rulesFile: '/etc/rules.yaml', defaultDecision: 'deny' }, 'kproxy.yaml', 'policy.acl')
  const file = { value: { groups: { writers: ['User:w'] }, rules: [{ deny: 'Write', principal: 'User:w', topic: 'x' }] }, locate: (p: readonly (string | number)[]) => `r.yaml: ${p.join('.')}` }
  const set = parseAclRules([{ source: config, extraKeys: ['rulesFile', 'defaultDecision'] }, file])
  t.same(set.rules.map(r => [r.id, r.permission, r.where]), [[1, 'allow', 'kproxy.yaml: policy.acl.rules[0]'], [2, 'deny', 'r.yaml: rules.0']])
})

t.test('any error refuses the whole file, each with line, column and what is allowed', async t => {
  const cases: Array<[string, RegExp[]]> = [
    ['rules:\n  - allow: [Wirte]\n    principal: User:a\n    topic: t\n', [/rules\.yaml:2:13: rules\[0\]\.allow\[0\]: unknown operation 'Wirte'; allowed: Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens, TwoPhaseCommit, All/]],
    ['rules:\n  - allow: [IdempotentWrite]\n    principal: User:a\n    topic: t\n', [/2:13: rules\[0\]\.allow\[0\]: IdempotentWrite does not apply to topic; topic supports Read, Write, Create, Describe, Delete, Alter, DescribeConfigs, AlterConfigs, All/]],
    ['rules:\n  - allow: [Read]\n    principal: alice\n    topic: t\n', [/3:16: rules\[0\]\.principal: got 'alice'; write a principal as Type:name/]],
    ['rules:\n  - allow: [Read]\n    principal: User:a\n', [/2:5: rules\[0\]: a rule names exactly one resource .* this one names none/]],
    ['rules:\n  - allow: [Read]\n    deny: [Read]\n    principal: User:a\n    topic: t\n    group: g\n', [/allow or deny, not both/, /this one names topic and group/]],
    ['rules:\n  - allow: [Read]\n    principal: User:a\n    group: g\n    partitions: [1]\n', [/5:5: rules\[0\]\.partitions: partitions apply to topic rules only/]],
    ['rules:\n  - allow: [Read]\n    principal: User:a\n    topic: t\n    partitions: [3-1]\n', [/5:17: rules\[0\]\.partitions: '3-1' is an empty range/]],
    ['rules:\n  - allow: [Read]\n    principal: User:a\n    topic: { regex: "(" }\n', [/4:12: rules\[0\]\.topic: the regular expression does not compile/]],
    ['rules:\n  - allow: [Read]\n    principal: { group: nope }\n    topic: t\n', [/rules\[0\]\.principal: there is no group 'nope'; define it under groups:/]],
    ['groups:\n  a: [{ group: b }]\n  b: [User:x]\n', [/groups\.a\[0\]: a group cannot hold another group/]],
    ['rules:\n  - allow: [Read]\n    principal: User:a\n    topic: t\n    colour: red\n', [/5:5: rules\[0\]\.colour: unknown key 'colour'; allowed: allow, deny, principal, partitions, name, topic, group, transactionalId, cluster, user, delegationToken/]],
    ['rule:\n  - {}\n', [/1:1: rule: unknown key 'rule'; allowed: superUsers, groups, rules/]],
    ['rules:\n  - allow: [Read]\n    principal: User:a\n    cluster: yes\n', [/rules\[0\]\.cluster: got 'yes'; write cluster: true/]],
    ['rules: [\n', [/rules\.yaml:\d+:\d+: /]],
    ['rules:\n  - allow: [Read]\n    principal: User:a\n    topic: t\n  - allow: [Frob]\n    principal: User:b\n    topic: t\n  - deny: []\n    principal: User:c\n    topic: t\n', [/5:13: rules\[1\]\.allow\[0\]: unknown operation 'Frob'/, /8:11: rules\[2\]\.deny: the list is empty/]]
  ]
  for (const [text, patterns] of cases) {
    t.throws(() => parseAclRulesFile(text, 'rules.yaml'), { code: 'KPROXY_ERR_ACL_RULES' }, text)
    try {
      parseAclRulesFile(text, 'rules.yaml')
    } catch (err) {
      for (const p of patterns) t.match((err as Error).message, p, text)
    }
  }
  t.equal(parseAclRulesFile('', 'empty.yaml').rules.length, 0, 'an empty file: no rules')
})
