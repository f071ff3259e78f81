// The policy of one worker's client-facing listener(s), shared by broker mode and mesh mode: SASL
// termination toward clients (policy.sasl), the ACL rules in force with the topic id directory
// (policy.acl), and the chain members they put in front of the route (the quota filter, the ACL
// filter). Each mode builds its own chain around them (broker mode: the quota filter after the
// API key policy, the ACL filter after the version bridge; mesh mode: the same without a bridge)
// and keeps what is its own: kproxy's login and identity toward the brokers, listeners, TLS.
//
// At start (starting = true) a section that cannot be used throws: the worker does not start.
// On a reload nothing throws: a part that cannot be used leaves the running one in place, logged.
import type { Logger } from 'pino'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { NO_POLICY, policyOf } from '@kproxy/core/config/schema/policy-schema'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import type { SaslPolicyConfig } from '@kproxy/core/policy/policy-config'
import type { ChainMember } from '../filters/filter-chain.ts'
import { ACL_FILTER, createAclFilter } from './acl-filter.ts'
import { AclState } from './acl-state.ts'
import { TopicIdDirectory } from './acl-topic-ids.ts'
import type { TopicLookup } from './acl-topic-ids.ts'
import { quotaMember } from './quota-member.ts'
import type { QuotaService } from './quota-service.ts'
import { SaslTermination } from './sasl-termination.ts'

// how long a replaced SASL termination keeps watching its credentials file (exchanges that
// started with it finish with it)
const RETIRE_MS = 60_000

export interface ListenerPolicyDeps {
  readonly logger: Logger
  readonly metrics: ProxyMetrics
  // policy.quotas of this worker (absent or without an enforcer: no quota filter)
  readonly quotas?: QuotaService | undefined
  // how an id no answer has named yet is turned into a topic name (null: never looked up)
  readonly topicLookup: TopicLookup | null
}

export class ListenerPolicy {
  readonly #deps: ListenerPolicyDeps
  readonly acl: AclState
  readonly topicIds: TopicIdDirectory
  #sasl: SaslTermination | null = null

  // Reads the credentials and rules files now: a bad one throws (the start stops here).
  constructor (deps: ListenerPolicyDeps, section: PolicySection | undefined) {
    this.#deps = deps
    const s = section ?? NO_POLICY
    this.applySasl(policyOf(s).sasl)
    this.acl = new AclState(deps.logger)
    this.acl.apply(s, true)
    this.topicIds = new TopicIdDirectory(deps.topicLookup)
  }

  // policy.sasl's termination; null: SASL is not terminated (broker mode: it goes to the broker)
  get sasl (): SaslTermination | null { return this.#sasl }

  // A new termination when policy.sasl changed; true when it did. A credentials file that cannot
  // be read throws (the caller decides: stop the start, or log and keep the running one).
  applySasl (sasl: SaslPolicyConfig | null): boolean {
    const running = this.#sasl
    if (JSON.stringify(running?.config ?? null) === JSON.stringify(sasl)) return false
    this.#sasl = sasl === null ? null : new SaslTermination({ config: sasl, logger: this.#deps.logger, metrics: this.#deps.metrics })
    // connections already authenticated keep their stage; its credentials stop being watched
    if (running !== null) setTimeout(() => running.close(), RETIRE_MS).unref()
    return true
  }

  // A reloaded policy section: SASL termination and ACL rules (the quotas are the worker's,
  // configured by the runtime). Never throws.
  reload (section: PolicySection | undefined): void {
    const s = section ?? NO_POLICY
    try {
      this.applySasl(policyOf(s).sasl)
    } catch (err) {
      this.#deps.logger.error({ code: (err as { code?: string }).code ?? 'KPROXY_ERR_CREDENTIALS_FILE', err: (err as Error).message }, 'the reloaded policy.sasl cannot be used; the running SASL termination stays')
    }
    // a policy.acl that cannot be used leaves the running rules (logged)
    this.acl.apply(s)
  }

  // the quota filter while the worker's quotas are on; right after the API key policy
  quotaMember (): ChainMember | null {
    return quotaMember(this.#deps)
  }

  // the ACL filter while policy.acl is set
  aclMember (): ChainMember | null {
    if (!this.acl.enabled) return null
    const { metrics, logger } = this.#deps
    return { label: ACL_FILTER, filter: createAclFilter({ state: this.acl, topicIds: this.topicIds, metrics, logger: logger.child({ filter: ACL_FILTER }) }), builtin: true }
  }

  close (): void {
    this.#sasl?.close()
    this.acl.close()
  }
}
