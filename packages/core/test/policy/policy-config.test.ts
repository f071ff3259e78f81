import t from 'tap'
import { validatePolicyConfig, DEFAULT_POLICY } from '../../src/policy/policy-config.ts'
import { loadAclRules } from '../../src/policy/acl-policy.ts'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

t.test('no policy section: the defaults', async t => {
  t.same(validatePolicyConfig(undefined, 'k.yaml', '/etc/kproxy'), { config: DEFAULT_POLICY, errors: [] })
})

t.test('a full section, relative paths resolved against the config directory', async t => {
  const { config, errors } = validatePolicyConfig({
    sasl: { mechanisms: ['SCRAM-SHA-512', 'PLAIN'], credentialsFile: 'users.yaml', maxReauthMs: 3_600_000, upstream: { mechanism: 'SCRAM-SHA-512', username: 'kproxy', passwordEnv: 'KPROXY_UPSTREAM_PASSWORD' } },
    acl: { defaultDecision: 'allow', rulesFile: 'acl.yaml', rules: [{ allow: ['Read'], principal: '*', topic: 'x' }] },
    quotas: { file: '/abs/quotas.yaml', maxBuckets: 1000, entities: [{ user: 'alice', produceBytesPerSecond: '5MB' }] },
    upstreamIdentity: { mode: 'certificate', caDir: 'ca', validityHours: 12, renewBeforeHours: 4 }
  }, 'k.yaml', '/etc/kproxy')
  t.same(errors, [])
  t.same(config.sasl, { mechanisms: ['SCRAM-SHA-512', 'PLAIN'], credentialsFile: '/etc/kproxy/users.yaml', maxReauthMs: 3_600_000, upstream: { mechanism: 'SCRAM-SHA-512', username: 'kproxy', passwordFile: null, passwordEnv: 'KPROXY_UPSTREAM_PASSWORD' } })
  t.equal(config.acl!.defaultDecision, 'allow')
  t.equal(config.acl!.rulesFile, '/etc/kproxy/acl.yaml')
  t.equal(config.acl!.inlineRules.rules[0]!.where, 'k.yaml: policy.acl.rules[0]')
  t.equal(config.quotas!.file, '/abs/quotas.yaml')
  t.equal(config.quotas!.inline.entities[0]!.produceBytesPerSecond, 5e6)
  t.same(config.upstreamIdentity, { mode: 'certificate', caDir: '/etc/kproxy/ca', validityHours: 12, renewBeforeHours: 4, maxCached: 10_000 })
})

t.test('every error, with its key path', async t => {
  const { errors } = validatePolicyConfig({
    sasl: { mechanisms: ['GSSAPI'], upstream: { mechanism: 'PLAIN', username: 'k', password: 'hunter2' } },
    acl: { defaultDecision: 'maybe', rules: [{ allow: ['Frob'], principal: '*', topic: 'x' }] },
    quotas: { entities: [{ user: 'a' }] },
    upstreamIdentity: { mode: 'certificate', validityHours: 2, renewBeforeHours: 5 },
    colour: 'red'
  }, 'k.yaml', '/etc')
  const text = errors.join('\n')
  for (const p of [
    /k\.yaml: policy\.colour: unknown key; allowed here: sasl, acl, quotas, upstreamIdentity/,
    /policy\.sasl\.mechanisms: got 'GSSAPI'; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/,
    /policy\.sasl\.credentialsFile: required/,
    /policy\.sasl\.upstream: give exactly one of passwordFile and passwordEnv/,
    /policy\.sasl\.upstream\.password: a password does not go in the config/,
    /policy\.acl\.defaultDecision: got 'maybe'; allowed: allow, deny/,
    /k\.yaml: policy\.acl\.rules\[0\]\.allow\[0\]: unknown operation 'Frob'/,
    /k\.yaml: policy\.quotas\.entities\[0\]: an entry sets at least one limit/,
    /policy\.upstreamIdentity\.caDir: required with mode certificate/,
    /policy\.upstreamIdentity\.renewBeforeHours: 5 is not below validityHours \(2\)/
  ]) t.match(text, p)
  t.notMatch(text, /hunter2/, 'the password is not repeated')
})

t.test('inline rules and the rules file, combined, groups shared', async t => {
  const dir = t.testdir()
  writeFileSync(join(dir, 'acl.yaml'), 'rules:\n  - deny: [Write]\n    principal: { group: team }\n    topic: x\n')
  const { config, errors } = validatePolicyConfig({ acl: { rulesFile: 'acl.yaml', groups: { team: ['User:a'] }, rules: [{ allow: ['All'], principal: { group: 'team' }, topic: '*' }] } }, 'k.yaml', dir)
  t.same(errors, [])
  const rules = loadAclRules(config.acl!)
  t.same(rules.rules.map(r => [r.id, r.permission, r.where.replace(dir, 'DIR')]), [[1, 'allow', 'k.yaml: policy.acl.rules[0]'], [2, 'deny', 'DIR/acl.yaml:2:5: rules[0]']])
})
