// `kproxy acl check` as a user runs it: the real binary.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { kproxy } from '../helpers/run-kproxy.ts'

const dir = t.testdir()
const rules = join(dir, 'acl.yaml')
writeFileSync(rules, `rules:
  - allow: [Write]
    principal: User:alice
    topic: orders
    partitions: [0-3]
  - allow: [Read]
    principal: User:bob
    topic: orders
    partitions: [4-7]
`)
const config = join(dir, 'kproxy.yaml')
writeFileSync(config, `brokerMode:
  listen: 127.0.0.1:9092
policy:
  acl:
    defaultDecision: allow
    rulesFile: acl.yaml
    superUsers: [User:admin]
    rules:
      - deny: [Write]
        principal: User:alice
        topic: orders
        partitions: [3]
`)

t.test('decisions and the rule behind each, exit 0 for ALLOW and 3 for DENY', async t => {
  const allow = await kproxy('acl', 'check', '--principal', 'alice', '--topic', 'orders', '--partition', '2', '--op', 'Write', '--rules', rules)
  t.equal(allow.code, 0, allow.stderr)
  t.equal(allow.stdout, `ALLOW User:alice Write on topic 'orders' partition 2\n  rule #1 (${rules}:2:5: rules[0]): allow Write on topic 'orders' partitions 0-3 for User:alice\n`)
  const deny = await kproxy('acl', 'check', '--principal', 'User:alice', '--topic', 'orders', '--partition', '5', '--op', 'write', '--rules', rules)
  t.equal(deny.code, 3)
  t.equal(deny.stdout, "DENY User:alice Write on topic 'orders' partition 5\n  no rule matches; the default decision (deny) applies\n")
  const bob = await kproxy('acl', 'check', '--principal', 'bob', '--topic', 'orders', '--op', 'Describe', '--rules', rules)
  t.equal(bob.code, 0, 'Describe is implied by Read')

  const viaConfig = await kproxy('acl', 'check', '--principal', 'alice', '--topic', 'orders', '--partition', '3', '--op', 'Write', '--config', config)
  t.equal(viaConfig.code, 3)
  t.match(viaConfig.stdout, /^DENY .*\n  rule #1 \(.*kproxy\.yaml: policy\.acl\.rules\[0\]\): deny Write on topic 'orders' partitions 3 for User:alice\n$/)
  const other = await kproxy('acl', 'check', '--principal', 'carol', '--group', 'g', '--op', 'Read', '--config', config)
  t.equal(other.code, 0)
  t.match(other.stdout, /the default decision \(allow\) applies/)
  const admin = await kproxy('acl', 'check', '--principal', 'admin', '--cluster', '--op', 'Alter', '--config', config, '--default', 'deny')
  t.equal(admin.code, 0)
  t.match(admin.stdout, /ALLOW User:admin Alter on the cluster\n  User:admin is a super user/)
})

t.test('usage errors exit 2; a bad rules file exits 1 with file:line:column and what is allowed', async t => {
  for (const args of [
    ['acl'], ['acl', 'nope'], ['acl', 'check', '--topic', 't', '--op', 'Read', '--rules', rules],
    ['acl', 'check', '--principal', 'a', '--topic', 't', '--op', 'Reed', '--rules', rules],
    ['acl', 'check', '--principal', 'a', '--op', 'Read', '--rules', rules],
    ['acl', 'check', '--principal', 'a', '--topic', 't', '--group', 'g', '--op', 'Read', '--rules', rules],
    ['acl', 'check', '--principal', 'a', '--group', 'g', '--partition', '1', '--op', 'Read', '--rules', rules],
    ['acl', 'check', '--principal', 'a', '--topic', 't', '--op', 'Read'],
    ['acl', 'check', '--principal', 'a', '--topic', 't', '--op', 'Read', '--rules', rules, '--default', 'maybe']
  ]) {
    const r = await kproxy(...args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /^kproxy acl: .+\n\nUsage: kproxy acl check/)
  }
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'rules:\n  - allow: [Wirte]\n    principal: User:a\n    topic: t\n')
  const r = await kproxy('acl', 'check', '--principal', 'a', '--topic', 't', '--op', 'Read', '--rules', bad)
  t.equal(r.code, 1)
  t.match(r.stderr, /bad\.yaml:2:13: rules\[0\]\.allow\[0\]: unknown operation 'Wirte'; allowed: Read, Write, .* All \[KPROXY_ERR_ACL_RULES\]/)
})
