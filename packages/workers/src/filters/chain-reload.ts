// A listener's filter chain rebuilt from a reloaded config, in broker mode and mesh mode alike.
// A chain that cannot be built (a filter module or config its validation refuses) leaves the
// running one in place, logged. Requests already in the old chain finish with it; its filters'
// resources are released after RETIRE_MS.
import type { Logger } from 'pino'
import type { FilterChain } from './filter-chain.ts'
import { prepareFilters } from './filter-loader.ts'
import type { PreparedFilter } from './filter-loader.ts'
import type { FilterEntry } from '@kproxy/core/config/proxy-config'

const RETIRE_MS = 60_000

// The chain to use from now on: the new one, or `running` when the new one cannot be built.
export async function rebuildChain (running: FilterChain, entries: readonly FilterEntry[], where: string, build: (prepared: readonly PreparedFilter[]) => FilterChain, logger: Logger): Promise<FilterChain> {
  let next: FilterChain
  try {
    next = build(await prepareFilters(entries, where))
  } catch (err) {
    logger.error({ code: (err as { code?: string }).code ?? 'KPROXY_ERR_FILTER_CONFIG', err: (err as Error).message }, 'the reloaded filter chain cannot be used; the running one stays')
    return running
  }
  setTimeout(() => running.close(), RETIRE_MS).unref()
  return next
}
