// The quota filter's place in a listener's chain: present while the worker's quotas are on
// (policy.quotas set), right after the API key policy (see quota-filter.ts for why). Used by
// broker mode and mesh mode alike (listener-policy.ts).
import type { Logger } from 'pino'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { ChainMember } from '../filters/filter-chain.ts'
import { createQuotaFilter, QUOTA_FILTER_LABEL } from './quota-filter.ts'
import type { QuotaService } from './quota-service.ts'

export interface QuotaMemberDeps {
  readonly quotas?: QuotaService | undefined
  readonly metrics: ProxyMetrics
  readonly logger: Logger
}

export function quotaMember (deps: QuotaMemberDeps): ChainMember | null {
  const service = deps.quotas
  if (service === undefined || service.enforcer === null) return null
  return { label: QUOTA_FILTER_LABEL, filter: createQuotaFilter({ service, metrics: deps.metrics, logger: deps.logger.child({ filter: QUOTA_FILTER_LABEL }) }), builtin: true }
}
