// `kproxy acl check`: one decision and the rule behind it, from the same rules and authorizer
// the proxy runs (core/policy/acl-policy.ts).
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { aclAuthorizer, loadAclRules } from '@kproxy/core/policy/acl-policy'
import { parseAclRulesFile } from '@kproxy/core/policy/acl-rules-parser'
import { describeRule } from '@kproxy/core/policy/acl-rules'
import type { AclRuleSet } from '@kproxy/core/policy/acl-rules'
import type { AclDecision, DefaultDecision } from '@kproxy/core/policy/acl-authorizer'
import type { AclOperation, AclResourceType } from '@kproxy/core/policy/acl-operations'
import { validatePolicyConfig } from '@kproxy/core/policy/policy-config'
import { isPlainObject, parsePolicyYaml, PolicyFileError } from '@kproxy/core/policy/policy-source'
import { loadPolicyFile } from '@kproxy/core/policy/policy-file-watcher'

export interface AclCheckRequest {
  principal: string
  operation: AclOperation
  resource: AclResourceType
  name: string
  partition?: number
  rulesFile?: string
  configFile?: string
  // overrides the config's policy.acl.defaultDecision (default deny)
  defaultDecision?: DefaultDecision
}

export interface AclCheckResult {
  decision: AclDecision
  lines: string[]
}

function fromConfig (file: string): { rules: AclRuleSet, defaultDecision: DefaultDecision } {
  const path = resolve(file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_CONFIG', `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const doc = parsePolicyYaml(text, path, 'KPROXY_ERR_CONFIG', `Config file ${path} is invalid`).value
  const policy = isPlainObject(doc) ? doc.policy : undefined
  const { config, errors } = validatePolicyConfig(policy, path, dirname(path))
  if (errors.length > 0) throw new PolicyFileError('KPROXY_ERR_CONFIG', `Config file ${path} is invalid`, errors)
  if (config.acl === null) throw new KproxyError('KPROXY_ERR_ACL_CHECK', `${path} has no policy.acl section; give the rules with --rules FILE or add policy.acl (docs/policy.md).`)
  return { rules: loadAclRules(config.acl), defaultDecision: config.acl.defaultDecision }
}

export function aclCheck (req: AclCheckRequest): AclCheckResult {
  const source = req.configFile !== undefined ? fromConfig(req.configFile) : { rules: loadPolicyFile(req.rulesFile!, parseAclRulesFile), defaultDecision: 'deny' as DefaultDecision }
  const defaultDecision = req.defaultDecision ?? source.defaultDecision
  const acl = aclAuthorizer(source.rules, defaultDecision)
  const decision = acl.authorize(req.principal, req.operation, req.resource, req.name, req.partition)
  const what = req.resource === 'cluster' ? 'the cluster' : `${req.resource} '${req.name}'${req.partition === undefined ? '' : ` partition ${req.partition}`}`
  const lines = [`${decision.allowed ? 'ALLOW' : 'DENY'} ${req.principal} ${req.operation} on ${what}`]
  switch (decision.by) {
    case 'super-user': lines.push(`  ${req.principal} is a super user`); break
    case 'default': lines.push(`  no rule matches; the default decision (${defaultDecision}) applies`); break
    default: lines.push(`  ${describeRule(decision.rule!)}`)
  }
  return { decision, lines }
}
