// One worker's ACL rules in force: built from the config's `policy.acl` (inline rules and/or a
// rules file), replaced when the rules file changes (policy-file-watcher: polled, also on
// SIGHUP / POST /reload through apply()) and when a reloaded config changes `policy.acl`.
// A rules file (or a reloaded config) with any error is refused whole: the running rules stay and
// the error is logged with file:line (KPROXY_ERR_ACL_RULES). Every accepted rule set gets a new
// authorizer with a higher version, which is what the filter's per-connection caches key on.
import type { Logger } from 'pino'
import { AclAuthorizer } from '@kproxy/core/policy/acl-authorizer'
import type { AclRuleSet } from '@kproxy/core/policy/acl-rules'
import { loadAclRules, watchAclRules } from '@kproxy/core/policy/acl-policy'
import type { AclPolicyConfig } from '@kproxy/core/policy/policy-config'
import type { WatchedPolicyFile } from '@kproxy/core/policy/policy-file-watcher'
import { policyOf } from '@kproxy/core/config/schema/policy-schema'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import { isKproxyError } from '@kproxy/core/kproxy-error'

export class AclState {
  readonly #logger: Logger
  #authorizer: AclAuthorizer | null = null
  #config: AclPolicyConfig | null = null
  // what the config said, to tell a reload that changed policy.acl from one that did not
  #configKey = ''
  #watch: WatchedPolicyFile<AclRuleSet> | null = null
  #version = 0

  constructor (logger: Logger) {
    this.#logger = logger
  }

  // null: no policy.acl, no ACL filter
  get authorizer (): AclAuthorizer | null { return this.#authorizer }
  get enabled (): boolean { return this.#authorizer !== null }

  // At start (throws on a bad section or rules file: the worker does not start) and on every
  // config reload (never throws: a bad new section leaves the running rules, logged).
  apply (section: PolicySection, starting = false): void {
    let config: AclPolicyConfig | null
    try {
      config = policyOf(section).acl
    } catch (err) {
      if (starting) throw err
      this.#refused(err)
      return
    }
    const key = config === null ? '' : JSON.stringify({ acl: (section.file as Record<string, unknown> | null)?.acl ?? null, baseDir: section.baseDir })
    if (key === this.#configKey && this.#config !== null && config !== null) {
      // the same section: a SIGHUP / POST /reload re-reads the rules file now
      this.#watch?.reload().catch(() => {})
      return
    }
    if (config === null) {
      this.#close()
      this.#configKey = key
      this.#config = null
      this.#authorizer = null
      return
    }
    let watch: WatchedPolicyFile<AclRuleSet> | null = null
    let rules: AclRuleSet
    try {
      watch = watchAclRules(config, {
        onChange: next => this.#install(config, next, 'the rules file changed'),
        onError: err => this.#refused(err)
      })
      rules = watch !== null ? watch.current : loadAclRules(config)
    } catch (err) {
      watch?.close()
      if (starting) throw err
      this.#refused(err)
      return
    }
    this.#close()
    this.#watch = watch
    this.#configKey = key
    this.#install(config, rules, starting ? null : 'the configuration changed')
  }

  #install (config: AclPolicyConfig, rules: AclRuleSet, why: string | null): void {
    this.#config = config
    this.#authorizer = new AclAuthorizer(rules, { defaultDecision: config.defaultDecision, version: ++this.#version })
    if (why !== null) this.#logger.info({ aclVersion: this.#version, rules: rules.rules.length, rulesFile: config.rulesFile }, `ACL rules replaced: ${why}`)
  }

  #refused (err: unknown): void {
    const code = isKproxyError(err) ? err.code : 'KPROXY_ERR_ACL_RULES'
    this.#logger.error({ code, err: (err as Error).message }, 'ACL rules refused; the running rules stay')
  }

  #close (): void {
    this.#watch?.close()
    this.#watch = null
  }

  close (): void {
    this.#close()
  }
}
