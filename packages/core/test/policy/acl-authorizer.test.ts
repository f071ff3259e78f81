import t from 'tap'
import { AclAuthorizer } from '../../src/policy/acl-authorizer.ts'
import { parseAclRulesFile } from '../../src/policy/acl-rules-parser.ts'
import { ACL_OPERATIONS } from '../../src/policy/acl-operations.ts'
import type { AclOperation } from '../../src/policy/acl-operations.ts'

// The acceptance scenario plus the corners of Kafka's semantics.
const RULES = parseAclRulesFile(`
superUsers: [User:admin]
groups:
  ops: [{ prefix: "User:ops-" }]
rules:
  - allow: [Write]
    principal: User:alice
    topic: orders
    partitions: [0-3]
  - allow: [Read]
    principal: User:alice
    topic: orders
  - allow: [Read]
    principal: User:bob
    topic: orders
    partitions: [4-7]
  - deny: [Read]
    principal: User:carol
    topic: orders
    partitions: [2, 10-]
  - allow: [Read]
    principal: User:carol
    topic: { prefix: ord }
  - deny: [All]
    principal: { group: ops }
    topic: { regex: "secret\\\\..*" }
  - allow: [All]
    principal: { group: ops }
    topic: "*"
  - allow: [AlterConfigs, Delete]
    principal: User:dave
    topic: cfg
  - deny: [Describe]
    principal: User:dave
    topic: cfg
  - allow: [Read]
    principal: User:alice
    group: { prefix: app- }
  - allow: [IdempotentWrite]
    principal: User:erin
    cluster: true
`, 'rules.yaml')

t.test('partitions: allowed ones pass, the others are denied, per operation', async t => {
  const acl = new AclAuthorizer(RULES, { defaultDecision: 'deny' })
  for (let p = 0; p < 8; p++) {
    t.equal(acl.authorize('User:alice', 'Write', 'topic', 'orders', p).allowed, p <= 3, `alice Write ${p}`)
    t.equal(acl.authorize('User:alice', 'Read', 'topic', 'orders', p).allowed, true, `alice Read ${p}`)
    t.equal(acl.authorize('User:bob', 'Read', 'topic', 'orders', p).allowed, p >= 4, `bob Read ${p}`)
    t.equal(acl.authorize('User:bob', 'Write', 'topic', 'orders', p).allowed, false, `bob Write ${p}`)
  }
  const denied = acl.authorize('User:alice', 'Write', 'topic', 'orders', 5)
  t.same([denied.by, denied.rule], ['default', null], 'no rule allows partition 5: the default decides')
  const allowed = acl.authorize('User:alice', 'Write', 'topic', 'orders', 1)
  t.equal(allowed.rule?.id, 1)
  t.equal(acl.authorize('User:bob', 'Describe', 'topic', 'orders').allowed, true, 'a topic-level Describe: some partitions readable, so the topic is visible')
  t.equal(acl.authorize('User:bob', 'Describe', 'topic', 'orders', 1).allowed, false, 'but not partition 1')
})

t.test('deny wins; a partition-scoped deny denies those partitions only', async t => {
  const acl = new AclAuthorizer(RULES, { defaultDecision: 'allow' })
  t.same([0, 1, 2, 3, 9, 10, 11, 5000].map(p => acl.authorize('User:carol', 'Read', 'topic', 'orders', p).allowed), [true, true, false, true, true, false, false, false])
  t.equal(acl.authorize('User:carol', 'Read', 'topic', 'orders').allowed, true, 'topic level: the scoped deny does not apply')
  t.equal(acl.authorize('User:carol', 'Read', 'topic', 'orders', 2).rule?.id, 4)
  t.equal(acl.authorize('User:ops-1', 'Read', 'topic', 'secret.keys').by, 'deny-rule')
  t.equal(acl.authorize('User:ops-1', 'Read', 'topic', 'public').by, 'allow-rule')
  t.equal(acl.authorize('User:ops-1', 'Read', 'topic', 'xsecret.keys').allowed, true, 'regexes match the whole name')
})

t.test("Kafka's implied operations: Describe from Read/Write/Delete/Alter, DescribeConfigs from AlterConfigs; a deny implies nothing", async t => {
  const acl = new AclAuthorizer(RULES, { defaultDecision: 'deny' })
  t.equal(acl.authorize('User:dave', 'DescribeConfigs', 'topic', 'cfg').allowed, true)
  t.equal(acl.authorize('User:dave', 'Describe', 'topic', 'cfg').allowed, false, 'the explicit deny of Describe wins over the implied allow')
  t.equal(acl.authorize('User:dave', 'Delete', 'topic', 'cfg').allowed, true, 'denying Describe does not deny Delete')
  t.equal(acl.authorize('User:alice', 'Describe', 'group', 'app-1').allowed, true)
  t.equal(acl.authorize('User:alice', 'Delete', 'group', 'app-1').allowed, false)
})

t.test('super users, defaults, other resource types', async t => {
  const deny = new AclAuthorizer(RULES, { defaultDecision: 'deny' })
  const allow = new AclAuthorizer(RULES, { defaultDecision: 'allow' })
  t.same(deny.authorize('User:admin', 'Alter', 'cluster', 'kafka-cluster'), { allowed: true, by: 'super-user', rule: null })
  t.same(deny.authorize('User:zed', 'Read', 'topic', 'x'), { allowed: false, by: 'default', rule: null })
  t.same(allow.authorize('User:zed', 'Read', 'topic', 'x'), { allowed: true, by: 'default', rule: null })
  t.equal(deny.authorize('User:erin', 'IdempotentWrite', 'cluster', 'kafka-cluster').allowed, true)
  t.equal(deny.forPrincipal('User:erin').anyAllowed('Write', 'topic'), false)
  t.equal(deny.forPrincipal('User:alice').anyAllowed('Write', 'topic'), true, 'authorizeByResourceType: alice may write some topic')
  t.equal(allow.forPrincipal('User:ops-2').anyAllowed('Read', 'topic'), true)
})

t.test('the compiled view answers exactly like the slow path, for every principal, topic, operation and partition', async t => {
  for (const def of ['allow', 'deny'] as const) {
    const acl = new AclAuthorizer(RULES, { defaultDecision: def })
    let checks = 0
    for (const principal of ['User:alice', 'User:bob', 'User:carol', 'User:dave', 'User:ops-9', 'User:admin', 'User:zed']) {
      const view = acl.forPrincipal(principal)
      t.equal(acl.forPrincipal(principal), view, 'cached')
      for (const topic of ['orders', 'orders-eu', 'secret.x', 'cfg', 'other']) {
        const tv = view.topic(topic)
        for (const op of ACL_OPERATIONS as readonly AclOperation[]) {
          t.equal(tv.allowsTopic(op), acl.authorize(principal, op, 'topic', topic).allowed)
          for (const p of [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 100, 65535, 65536, 70000, 2 ** 31 - 1]) {
            if (tv.allows(op, p) !== acl.authorize(principal, op, 'topic', topic, p).allowed) t.fail(`${def} ${principal} ${op} ${topic}[${p}]`)
            checks++
          }
        }
        for (const type of ['group', 'cluster', 'transactionalId'] as const) {
          for (const op of ACL_OPERATIONS as readonly AclOperation[]) {
            if (view.allows(op, type, 'app-1') !== acl.authorize(principal, op, type, 'app-1').allowed) t.fail(`${principal} ${op} ${type}`)
          }
        }
      }
    }
    t.equal(checks, 7 * 5 * ACL_OPERATIONS.length * 15, `${checks} partition checks agree (default ${def})`)
  }
  t.equal(new AclAuthorizer(RULES, { defaultDecision: 'deny' }).forPrincipal('User:alice').topic('orders').allows('Write', -1), false, 'a negative partition is never allowed')
})

t.test('caches are bounded and carry the rule-set version', async t => {
  const acl = new AclAuthorizer(RULES, { defaultDecision: 'deny', version: 7, maxPrincipals: 2, maxNames: 3 })
  const a = acl.forPrincipal('User:a')
  t.equal(a.version, 7)
  acl.forPrincipal('User:b')
  acl.forPrincipal('User:c')
  t.not(acl.forPrincipal('User:a'), a, 'the principal cache was cleared when full')
  for (let i = 0; i < 10; i++) a.topic(`t${i}`)
  t.equal(a.topic('t9').name, 't9')
})
