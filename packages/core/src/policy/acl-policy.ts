// The ACL rules in effect: the config's inline rules followed by the rules file's, parsed
// together (groups defined in one can be used in the other), with the listener's default.
// `kproxy acl check` and the running proxy both come through here.
import { AclAuthorizer } from './acl-authorizer.ts'
import type { DefaultDecision } from './acl-authorizer.ts'
import { ACL_ERROR, parseAclRules } from './acl-rules-parser.ts'
import type { AclRuleSet } from './acl-rules.ts'
import type { AclPolicyConfig } from './policy-config.ts'
import { loadPolicyFile, watchPolicyFile } from './policy-file-watcher.ts'
import type { WatchedPolicyFile } from './policy-file-watcher.ts'
import { parsePolicyYaml } from './policy-source.ts'
import type { KproxyError } from '../kproxy-error.ts'

// The parse function of the rules file, with the inline rules in front.
export function aclRulesParser (config: AclPolicyConfig): (text: string, file: string) => AclRuleSet {
  return (text, file) => {
    const fileSource = parsePolicyYaml(text, file, ACL_ERROR, `ACL rules file ${file} is refused`)
    const sources = config.inline === null ? [fileSource] : [{ source: config.inline, extraKeys: ['defaultDecision', 'rulesFile'] }, fileSource]
    return parseAclRules(sources, `ACL rules file ${file} is refused (the running rules stay)`)
  }
}

export function loadAclRules (config: AclPolicyConfig): AclRuleSet {
  return config.rulesFile === null ? config.inlineRules : loadPolicyFile(config.rulesFile, aclRulesParser(config))
}

export function aclAuthorizer (rules: AclRuleSet, defaultDecision: DefaultDecision, version = 1): AclAuthorizer {
  return new AclAuthorizer(rules, { defaultDecision, version })
}

// For the worker runtime: the rules file watched, a new authorizer per accepted version. Without
// a rules file there is nothing to watch (config reloads go through the config path).
export function watchAclRules (config: AclPolicyConfig, handlers: { onChange?: (rules: AclRuleSet, version: number) => void, onError?: (err: KproxyError) => void } = {}): WatchedPolicyFile<AclRuleSet> | null {
  if (config.rulesFile === null) return null
  return watchPolicyFile({ path: config.rulesFile, parse: aclRulesParser(config), onChange: handlers.onChange, onError: handlers.onError })
}
