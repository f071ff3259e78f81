// The `policy` section of kproxy's config, checked here until the config schema takes it over
// (the keys and their meaning are the same either way; docs/policy.md):
//
//   policy:
//     sasl:
//       mechanisms: [SCRAM-SHA-512, SCRAM-SHA-256, PLAIN]     # offered to clients (default: all)
//       credentialsFile: users.yaml                           # kproxy users ...; reloaded live
//       maxReauthMs: 3600000                                  # KIP-368 session lifetime (default none)
//       upstream: { mechanism: SCRAM-SHA-512, username: kproxy, passwordFile: kproxy.pw }
//     acl:
//       defaultDecision: deny                                 # when no rule matches (default deny)
//       rulesFile: acl.yaml                                   # reloaded live
//       superUsers: [...]; groups: {...}; rules: [...]       # inline, before the file's
//     quotas:
//       file: quotas.yaml                                     # reloaded live
//       maxBuckets: 16384                                     # shared table size (restart to change)
//       window: ...; maxThrottleMs: ...; entities: [...]      # inline, replaced by the file's if both
//     upstreamIdentity:
//       mode: certificate                                     # none (default) | certificate
//       caDir: ca                                             # from `kproxy certs init`
//       validityHours: 24
//       renewBeforeHours: 8
//       maxCached: 10000
//
// Relative paths are relative to the config file's directory. Every problem is collected with
// its key path; nothing secret is kept (the upstream password is read from a file or an
// environment variable named here).
import { resolve } from 'node:path'
import { SASL_MECHANISMS, isSaslMechanism } from '../sasl/sasl-mechanism.ts'
import type { SaslMechanismName } from '../sasl/sasl-mechanism.ts'
import { parseAclRules } from './acl-rules-parser.ts'
import type { AclRuleSet } from './acl-rules.ts'
import { EMPTY_RULE_SET } from './acl-rules.ts'
import type { DefaultDecision } from './acl-authorizer.ts'
import { EMPTY_QUOTAS, parseQuotas } from './quota-config.ts'
import type { QuotaRules } from './quota-config.ts'
import { configSource, describeValue, isPlainObject, PolicyFileError } from './policy-source.ts'
import type { PolicySource } from './policy-source.ts'

export interface UpstreamSaslConfig {
  readonly mechanism: SaslMechanismName
  readonly username: string
  // exactly one of the two
  readonly passwordFile: string | null
  readonly passwordEnv: string | null
}

export interface SaslPolicyConfig {
  readonly mechanisms: readonly SaslMechanismName[]
  readonly credentialsFile: string
  readonly maxReauthMs: number | null
  readonly upstream: UpstreamSaslConfig | null
}

export interface AclPolicyConfig {
  readonly defaultDecision: DefaultDecision
  readonly rulesFile: string | null
  // the inline rules, already checked; combined with the file's by acl-policy.ts
  readonly inline: PolicySource | null
  readonly inlineRules: AclRuleSet
}

export interface QuotaPolicyConfig {
  readonly file: string | null
  readonly maxBuckets: number
  readonly inline: QuotaRules
}

export interface UpstreamIdentityConfig {
  readonly mode: 'none' | 'certificate'
  readonly caDir: string | null
  readonly validityHours: number
  readonly renewBeforeHours: number
  readonly maxCached: number
}

export interface PolicyConfig {
  readonly sasl: SaslPolicyConfig | null
  readonly acl: AclPolicyConfig | null
  readonly quotas: QuotaPolicyConfig | null
  readonly upstreamIdentity: UpstreamIdentityConfig
}

export const DEFAULT_UPSTREAM_IDENTITY: UpstreamIdentityConfig = { mode: 'none', caDir: null, validityHours: 24, renewBeforeHours: 8, maxCached: 10_000 }
export const DEFAULT_POLICY: PolicyConfig = { sasl: null, acl: null, quotas: null, upstreamIdentity: DEFAULT_UPSTREAM_IDENTITY }
export const DEFAULT_QUOTA_BUCKETS = 16_384

const ROOT = 'policy'
const SECTIONS = ['sasl', 'acl', 'quotas', 'upstreamIdentity']

export interface PolicyConfigResult {
  readonly config: PolicyConfig
  // 'kproxy.yaml: policy.acl.rules[3].allow[0]: unknown operation ...'
  readonly errors: readonly string[]
}

// `value` is the parsed `policy` section (or undefined); `source` names the config file in
// errors; `baseDir` resolves relative paths.
export function validatePolicyConfig (value: unknown, source: string, baseDir: string): PolicyConfigResult {
  const errors: string[] = []
  const at = (path: string): string => `${source}: ${ROOT}.${path}`
  if (value === undefined || value === null) return { config: DEFAULT_POLICY, errors }
  if (!isPlainObject(value)) return { config: DEFAULT_POLICY, errors: [`${source}: ${ROOT}: expected a mapping with ${SECTIONS.join(', ')}, got ${describeValue(value)}`] }
  for (const k of Object.keys(value)) if (!SECTIONS.includes(k)) errors.push(`${at(k)}: unknown key; allowed here: ${SECTIONS.join(', ')}`)
  const path = (p: unknown, key: string): string | null => {
    if (p === undefined || p === null) return null
    if (typeof p !== 'string' || p === '') {
      errors.push(`${at(key)}: got ${describeValue(p)}; allowed: a file path`)
      return null
    }
    return resolve(baseDir, p)
  }
  const known = (obj: Record<string, unknown>, section: string, keys: readonly string[]): void => {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) errors.push(`${at(`${section}.${k}`)}: unknown key; allowed here: ${keys.join(', ')}`)
  }
  const int = (v: unknown, key: string, min: number, max: number, fallback: number): number => {
    if (v === undefined) return fallback
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v
    errors.push(`${at(key)}: got ${describeValue(v)}; allowed: a whole number from ${min} to ${max}`)
    return fallback
  }

  let sasl: SaslPolicyConfig | null = null
  if (value.sasl !== undefined) {
    const s = value.sasl
    if (!isPlainObject(s)) errors.push(`${at('sasl')}: expected a mapping, got ${describeValue(s)}`)
    else {
      known(s, 'sasl', ['mechanisms', 'credentialsFile', 'maxReauthMs', 'upstream'])
      let mechanisms: SaslMechanismName[] = [...SASL_MECHANISMS]
      if (s.mechanisms !== undefined) {
        const list = Array.isArray(s.mechanisms) ? s.mechanisms : [s.mechanisms]
        const bad = list.filter(m => typeof m !== 'string' || !isSaslMechanism(m))
        if (bad.length > 0 || list.length === 0) errors.push(`${at('sasl.mechanisms')}: got ${list.length === 0 ? 'an empty list' : bad.map(describeValue).join(', ')}; allowed: ${SASL_MECHANISMS.join(', ')}`)
        else mechanisms = [...new Set(list as SaslMechanismName[])]
      }
      const credentialsFile = path(s.credentialsFile, 'sasl.credentialsFile')
      if (s.credentialsFile === undefined) errors.push(`${at('sasl.credentialsFile')}: required: the file \`kproxy users add\` writes`)
      const maxReauthMs = s.maxReauthMs === undefined || s.maxReauthMs === null ? null : int(s.maxReauthMs, 'sasl.maxReauthMs', 1000, 2 ** 31 - 1, 0)
      let upstream: UpstreamSaslConfig | null = null
      if (s.upstream !== undefined) {
        const u = s.upstream
        if (!isPlainObject(u)) errors.push(`${at('sasl.upstream')}: expected { mechanism, username, passwordFile or passwordEnv }, got ${describeValue(u)}`)
        else {
          known(u, 'sasl.upstream', ['mechanism', 'username', 'passwordFile', 'passwordEnv'])
          if (typeof u.mechanism !== 'string' || !isSaslMechanism(u.mechanism)) errors.push(`${at('sasl.upstream.mechanism')}: got ${describeValue(u.mechanism)}; allowed: ${SASL_MECHANISMS.join(', ')}`)
          if (typeof u.username !== 'string' || u.username === '') errors.push(`${at('sasl.upstream.username')}: got ${describeValue(u.username)}; allowed: the user kproxy logs in to the brokers as`)
          const passwordFile = path(u.passwordFile, 'sasl.upstream.passwordFile')
          const passwordEnv = typeof u.passwordEnv === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(u.passwordEnv) ? u.passwordEnv : null
          if (u.passwordEnv !== undefined && passwordEnv === null) errors.push(`${at('sasl.upstream.passwordEnv')}: got ${describeValue(u.passwordEnv)}; allowed: an environment variable name`)
          if ((u.passwordFile === undefined) === (u.passwordEnv === undefined)) errors.push(`${at('sasl.upstream')}: give exactly one of passwordFile and passwordEnv (the password itself never goes in the config)`)
          if (u.password !== undefined) errors.push(`${at('sasl.upstream.password')}: a password does not go in the config; put it in a file (passwordFile) or an environment variable (passwordEnv)`)
          if (typeof u.mechanism === 'string' && isSaslMechanism(u.mechanism) && typeof u.username === 'string') {
            upstream = { mechanism: u.mechanism, username: u.username, passwordFile, passwordEnv }
          }
        }
      }
      if (credentialsFile !== null) sasl = { mechanisms, credentialsFile, maxReauthMs, upstream }
    }
  }

  let acl: AclPolicyConfig | null = null
  if (value.acl !== undefined) {
    const a = value.acl
    if (!isPlainObject(a)) errors.push(`${at('acl')}: expected a mapping, got ${describeValue(a)}`)
    else {
      const defaultDecision = a.defaultDecision === undefined ? 'deny' : a.defaultDecision
      if (defaultDecision !== 'allow' && defaultDecision !== 'deny') errors.push(`${at('acl.defaultDecision')}: got ${describeValue(a.defaultDecision)}; allowed: allow, deny`)
      const rulesFile = path(a.rulesFile, 'acl.rulesFile')
      const hasInline = a.rules !== undefined || a.groups !== undefined || a.superUsers !== undefined
      const inline = hasInline ? configSource(a, source, `${ROOT}.acl`) : null
      let inlineRules = EMPTY_RULE_SET
      if (inline !== null) {
        try {
          inlineRules = parseAclRules([{ source: inline, extraKeys: ['defaultDecision', 'rulesFile'] }])
        } catch (err) {
          errors.push(...(err instanceof PolicyFileError ? err.errors : [(err as Error).message]))
        }
      } else {
        known(a, 'acl', ['defaultDecision', 'rulesFile', 'superUsers', 'groups', 'rules'])
      }
      acl = { defaultDecision: defaultDecision === 'allow' ? 'allow' : 'deny', rulesFile, inline, inlineRules }
    }
  }

  let quotas: QuotaPolicyConfig | null = null
  if (value.quotas !== undefined) {
    const q = value.quotas
    if (!isPlainObject(q)) errors.push(`${at('quotas')}: expected a mapping, got ${describeValue(q)}`)
    else {
      const file = path(q.file, 'quotas.file')
      const maxBuckets = int(q.maxBuckets, 'quotas.maxBuckets', 16, 10_000_000, DEFAULT_QUOTA_BUCKETS)
      let inline = EMPTY_QUOTAS
      try {
        inline = parseQuotas(configSource(q, source, `${ROOT}.quotas`), ['file', 'maxBuckets'])
      } catch (err) {
        errors.push(...(err instanceof PolicyFileError ? err.errors : [(err as Error).message]))
      }
      quotas = { file, maxBuckets, inline }
    }
  }

  let upstreamIdentity = DEFAULT_UPSTREAM_IDENTITY
  if (value.upstreamIdentity !== undefined) {
    const u = value.upstreamIdentity
    if (!isPlainObject(u)) errors.push(`${at('upstreamIdentity')}: expected a mapping, got ${describeValue(u)}`)
    else {
      known(u, 'upstreamIdentity', ['mode', 'caDir', 'validityHours', 'renewBeforeHours', 'maxCached'])
      const mode = u.mode ?? 'none'
      if (mode !== 'none' && mode !== 'certificate') errors.push(`${at('upstreamIdentity.mode')}: got ${describeValue(u.mode)}; allowed: none, certificate`)
      const caDir = path(u.caDir, 'upstreamIdentity.caDir')
      if (mode === 'certificate' && u.caDir === undefined) errors.push(`${at('upstreamIdentity.caDir')}: required with mode certificate: a directory made by \`kproxy certs init\` whose CA the brokers trust`)
      const validityHours = int(u.validityHours, 'upstreamIdentity.validityHours', 1, 24 * 825, DEFAULT_UPSTREAM_IDENTITY.validityHours)
      const renewBeforeHours = int(u.renewBeforeHours, 'upstreamIdentity.renewBeforeHours', 0, 24 * 825, Math.min(DEFAULT_UPSTREAM_IDENTITY.renewBeforeHours, Math.floor(validityHours / 3)))
      if (renewBeforeHours >= validityHours) errors.push(`${at('upstreamIdentity.renewBeforeHours')}: ${renewBeforeHours} is not below validityHours (${validityHours}); allowed: less than the validity`)
      const maxCached = int(u.maxCached, 'upstreamIdentity.maxCached', 1, 10_000_000, DEFAULT_UPSTREAM_IDENTITY.maxCached)
      upstreamIdentity = { mode: mode === 'certificate' ? 'certificate' : 'none', caDir, validityHours, renewBeforeHours, maxCached }
    }
  }
  return { config: { sasl, acl, quotas, upstreamIdentity }, errors }
}
