// Section "policy": who a client is (SASL termination, TLS principals), what it may do (ACLs down
// to the partition), how much (quotas), and the identity kproxy carries to the brokers
// (docs/policy.md). The four subsections are checked by policy/policy-config.ts, which
// `kproxy acl check` uses too, so that a rule means the same to the checker and to the proxy;
// the schema here names the subsections and hands each one over whole. A reload applies the
// section as one unit (rules and credentials files are also watched on their own).
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { DEFAULT_POLICY, validatePolicyConfig } from '../../policy/policy-config.ts'
import type { PolicyConfig } from '../../policy/policy-config.ts'
import { group, key } from './schema-kit.ts'
import type { ResolveContext } from './resolve-context.ts'

// a mapping, its keys checked by policy-config.ts (the JSON Schema says only that it is a mapping)
const SUBSECTION = Type.Unknown()

export const POLICY = group({
  sasl: key(SUBSECTION, { allowed: 'a mapping: mechanisms, credentialsFile, maxReauthMs, upstream (docs/policy.md)', doc: 'SASL termination: kproxy authenticates clients against a credentials file and logs in to the brokers with its own credentials.' }),
  acl: key(SUBSECTION, { allowed: 'a mapping: defaultDecision, rulesFile, superUsers, groups, rules (docs/policy.md)', doc: 'ACL rules by principal, resource (down to partitions) and operation; the rules file is reloaded live.' }),
  quotas: key(SUBSECTION, { allowed: 'a mapping: file, maxBuckets, window, maxThrottleMs, entities (docs/policy.md)', doc: 'Quotas per principal and client id, answered with throttle_time_ms (KIP-219); the file is reloaded live.' }),
  upstreamIdentity: key(SUBSECTION, { allowed: 'a mapping: mode (none | certificate), caDir, validityHours, renewBeforeHours, maxCached (docs/policy.md)', doc: "Carry each client's principal to the brokers as a client certificate issued by kproxy's CA." })
})

export type PolicyFile = Static<typeof POLICY>

// What ProxyConfig carries: the checked section as written and the directory its relative paths
// start from. It stays plain data, because the config is posted to the worker threads; each
// thread turns it into rules with policyOf() (rule sets hold functions and compiled patterns).
export interface PolicySection {
  readonly file: PolicyFile | null
  readonly baseDir: string
}

export const NO_POLICY: PolicySection = { file: null, baseDir: '.' }

// The section's own rules (policy-config.ts) report at the subsection they name.
export function resolvePolicy (file: PolicyFile | undefined, ctx: ResolveContext): PolicySection {
  if (file === undefined || ctx.failed(['policy'])) return NO_POLICY
  const { errors } = validatePolicyConfig(file, '', ctx.baseDir)
  for (const e of errors) {
    // ': policy.acl.rules[3].allow[0]: unknown operation ...' -> at policy.acl, the rest as the message
    const m = /^: policy\.([A-Za-z]+)([^:]*): (.*)$/s.exec(e)
    if (m === null) ctx.report(['policy'], e.replace(/^: /, ''))
    else ctx.report(['policy', m[1]], `policy.${m[1]}${m[2]}: ${m[3]}`)
  }
  return { file, baseDir: ctx.baseDir }
}

// What mesh mode cannot do with the section (docs/mesh.md), refused by the config check rather
// than ignored: kproxy's own SASL login toward the brokers (policy.sasl.upstream is one login
// for one cluster; mesh mode's upstream connections belong to each cluster) and
// upstreamIdentity certificate (mesh mode shares its upstream connections between clients, so
// no connection can carry one client's certificate).
export function checkMeshPolicy (section: PolicySection, ctx: ResolveContext): void {
  const file = section.file as Record<string, unknown> | null
  if (file === null) return
  const sasl = file.sasl as Record<string, unknown> | undefined
  if (sasl !== null && typeof sasl === 'object' && sasl.upstream !== undefined) {
    ctx.report(['policy', 'sasl', 'upstream'], 'policy.sasl.upstream: not available in mesh mode (it is one login for one cluster, and mesh mode connects to several); allowed: remove it and give each cluster its own login in mesh.clusters[].sasl (clients still authenticate at kproxy with policy.sasl)')
  }
  const identity = file.upstreamIdentity as Record<string, unknown> | undefined
  if (identity !== null && typeof identity === 'object' && identity.mode === 'certificate') {
    ctx.report(['policy', 'upstreamIdentity', 'mode'], "policy.upstreamIdentity.mode: certificate is not available in mesh mode (its upstream connections are shared by every client, so none can present one client's certificate); allowed: none")
  }
}

const resolved = new WeakMap<PolicySection, PolicyConfig>()

// The rules of a checked section (resolvePolicy already refused one with errors). Files named in
// it (rules, credentials, quotas) are read now; the policy file watchers take over from here.
export function policyOf (section: PolicySection): PolicyConfig {
  if (section.file === null) return DEFAULT_POLICY
  let config = resolved.get(section)
  if (config === undefined) {
    const result = validatePolicyConfig(section.file, 'policy', section.baseDir)
    if (result.errors.length > 0) throw new Error(result.errors.join('\n'))
    config = result.config
    resolved.set(section, config)
  }
  return config
}
