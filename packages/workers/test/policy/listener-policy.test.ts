// The policy shared by broker mode and mesh mode: SASL termination, ACL rules with the topic id
// directory, the quota and ACL chain members; start (throws on a bad file) and reload (never
// throws, the running part stays).
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { formatCredentialsFile } from '@kproxy/core/policy/credentials-file'
import { parseQuotas } from '@kproxy/core/policy/quota-config'
import { configSource } from '@kproxy/core/policy/policy-source'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import { ListenerPolicy } from '../../src/policy/listener-policy.ts'
import type { ListenerPolicyDeps } from '../../src/policy/listener-policy.ts'
import { QuotaService } from '../../src/policy/quota-service.ts'
import { ACL_FILTER } from '../../src/policy/acl-filter.ts'
import { QUOTA_FILTER_LABEL } from '../../src/policy/quota-filter.ts'

function setup (t: { teardown (fn: () => void): void }, quotas?: QuotaService): { deps: ListenerPolicyDeps, lines: Array<Record<string, any>>, dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-listener-policy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'users.yaml'), formatCredentialsFile(new Map()))
  const lines: Array<Record<string, any>> = []
  const logger = pino({ level: 'debug' }, { write (s: string) { lines.push(JSON.parse(s)) } })
  return { deps: { logger, metrics: new MetricsRegistry({ latency: false }), quotas, topicLookup: null }, lines, dir }
}

function section (file: Record<string, unknown>, baseDir: string): PolicySection {
  return { file: file as any, baseDir }
}

const ACL = { defaultDecision: 'deny', rules: [{ allow: ['Write'], principal: 'User:alice', topic: 'apples' }] }
const SASL = { mechanisms: ['PLAIN'], credentialsFile: 'users.yaml' }

t.test('no policy: no SASL termination, no ACL or quota member', async t => {
  const { deps } = setup(t)
  const p = new ListenerPolicy(deps, undefined)
  t.teardown(() => p.close())
  t.equal(p.sasl, null)
  t.equal(p.aclMember(), null)
  t.equal(p.quotaMember(), null, 'no quota service')
  t.equal(p.acl.enabled, false)
})

t.test('policy.sasl and policy.acl: a termination with the configured mechanisms, the ACL member with the rules in force', async t => {
  const { deps, dir } = setup(t)
  const p = new ListenerPolicy(deps, section({ sasl: SASL, acl: ACL }, dir))
  t.teardown(() => p.close())
  t.same(p.sasl?.mechanisms, ['PLAIN'])
  t.equal(p.sasl!.credentials().plain('nobody'), undefined, 'the (empty) credentials file is read')
  const m = p.aclMember()
  t.equal(m?.label, ACL_FILTER)
  t.equal(m?.builtin, true)
  t.equal(p.acl.authorizer!.authorize('User:alice', 'Write', 'topic', 'apples', 0).allowed, true)
  t.equal(p.acl.authorizer!.authorize('User:alice', 'Write', 'topic', 'berries', 0).allowed, false)
})

t.test('a missing credentials file or a bad rules file at start throws (the worker does not start)', async t => {
  const { deps, dir } = setup(t)
  t.throws(() => new ListenerPolicy(deps, section({ sasl: { ...SASL, credentialsFile: 'missing.yaml' } }, dir)), { code: 'KPROXY_ERR_POLICY_FILE_READ' })
  writeFileSync(join(dir, 'acl.yaml'), 'rules: [ {')
  t.throws(() => new ListenerPolicy(deps, section({ acl: { rulesFile: 'acl.yaml' } }, dir)), { code: 'KPROXY_ERR_ACL_RULES' })
})

t.test('reload: a changed policy.sasl gets a new termination, the same one keeps it; a bad one leaves the running termination (logged); ACL rules replaced or removed', async t => {
  const { deps, dir, lines } = setup(t)
  const p = new ListenerPolicy(deps, section({ sasl: SASL, acl: ACL }, dir))
  t.teardown(() => p.close())
  const first = p.sasl
  p.reload(section({ sasl: SASL, acl: ACL }, dir))
  t.equal(p.sasl, first, 'the same section: the same termination')
  p.reload(section({ sasl: { ...SASL, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] }, acl: ACL }, dir))
  const second = p.sasl
  t.not(second, first, 'a new termination')
  t.same(second?.mechanisms, ['PLAIN', 'SCRAM-SHA-512'])
  p.reload(section({ sasl: { ...SASL, credentialsFile: 'missing.yaml' }, acl: ACL }, dir))
  t.equal(p.sasl, second, 'a credentials file that cannot be read: the running termination stays')
  t.ok(lines.some(l => l.code === 'KPROXY_ERR_POLICY_FILE_READ' && /running SASL termination stays/.test(l.msg)), 'logged with its code')
  const v = p.acl.authorizer!.version
  p.reload(section({ acl: { ...ACL, rules: [{ allow: ['Write'], principal: 'User:alice', topic: 'berries' }] } }, dir))
  t.equal(p.sasl, null, 'policy.sasl removed: no termination')
  t.ok(p.acl.authorizer!.version > v, 'new rules')
  t.equal(p.acl.authorizer!.authorize('User:alice', 'Write', 'topic', 'berries', 0).allowed, true)
  p.reload(undefined)
  t.equal(p.aclMember(), null, 'policy removed: no ACL member')
})

t.test('the quota member follows the worker\'s quota service', async t => {
  const logger = pino({ level: 'silent' })
  const service = new QuotaService({ logger: () => logger })
  const { deps } = setup(t, service)
  const p = new ListenerPolicy(deps, undefined)
  t.teardown(() => p.close())
  t.equal(p.quotaMember(), null, 'quotas not configured')
  service.configure({ file: null, maxBuckets: 64, inline: parseQuotas(configSource({ entities: [{ user: 'alice', requestsPerSecond: 1 }] }, 'test.yaml', 'policy.quotas'), ['file', 'maxBuckets']) }, null, true)
  t.teardown(() => service.configure(null, null, false))
  t.equal(p.quotaMember()?.label, QUOTA_FILTER_LABEL)
})
