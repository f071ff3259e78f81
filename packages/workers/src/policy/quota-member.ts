// The quota filter's place in a listener's chain: present while the worker's quotas are on
// (policy.quotas set), right after the API key policy (see quota-filter.ts for why).
import type { ChainMember } from '../filters/filter-chain.ts'
import type { ProxyContext } from '../broker-mode/proxy-context.ts'
import { createQuotaFilter, QUOTA_FILTER_LABEL } from './quota-filter.ts'

export function quotaMember (ctx: ProxyContext): ChainMember | null {
  const service = ctx.quotas
  if (service === undefined || service.enforcer === null) return null
  return { label: QUOTA_FILTER_LABEL, filter: createQuotaFilter({ service, metrics: ctx.metrics, logger: ctx.logger.child({ filter: QUOTA_FILTER_LABEL }) }), builtin: true }
}
