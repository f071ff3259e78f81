// From the config's filter entries to filter factories and checked configs, and from those to a
// chain. Built-ins come from BUILTIN_FILTERS; a user filter is a module (a .ts or .js file, path
// relative to the config file) whose default export (or `filter` export) is a FilterFactory.
//
// `check-config` and `serve` call prepareFilters() on the main thread before any worker starts, so
// a missing module, a module without a filter, or a config the filter's own parseConfig refuses
// stops the start with one sentence naming the file, the key and the filter. Workers prepare again
// (each thread imports modules for itself) and create the instances.
import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Logger } from 'pino'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { FilterEntry } from '@kproxy/core/config/proxy-config'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { Filter, FilterEnvironment, FilterFactory } from './filter-api.ts'
import type { ChainMember } from './filter-chain.ts'
import { faultInjection } from './builtin/fault-injection.ts'
import { topicPolicy } from './builtin/topic-policy.ts'

// The built-in filters a config may name (`- name: faultInjection`). kproxy's always-on ones
// (API key policy, ApiVersions, address rewriting, metrics) are not listed: broker mode places them.
export const BUILTIN_FILTERS: ReadonlyMap<string, FilterFactory<any>> = new Map<string, FilterFactory<any>>([
  [faultInjection.name, faultInjection],
  [topicPolicy.name, topicPolicy]
])

// A filter entry ready to create: its factory and its parsed config.
export interface PreparedFilter {
  readonly label: string
  readonly factory: FilterFactory<any>
  readonly config: unknown
  readonly builtin: boolean
}

// `where`: what to call the entries in messages, e.g. "/etc/kproxy.yaml: brokerMode.filters".
export async function prepareFilters (entries: readonly FilterEntry[], where: string): Promise<PreparedFilter[]> {
  const out: PreparedFilter[] = []
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    const at = `${where}[${i}]`
    let factory: FilterFactory<any>
    if (entry.kind === 'builtin') {
      const builtin = BUILTIN_FILTERS.get(entry.name)
      if (builtin === undefined) {
        throw new KproxyError('KPROXY_ERR_FILTER_CONFIG', `${at}.name: there is no built-in filter ${JSON.stringify(entry.name)}; allowed: ${[...BUILTIN_FILTERS.keys()].join(', ')}, or module: PATH for a filter of your own`)
      }
      factory = builtin
    } else {
      factory = await importFactory(entry.path, at, entry.name)
    }
    const label = (entry.kind === 'module' ? entry.name : null) ?? factory.name
    let config: unknown = entry.config
    if (factory.parseConfig !== undefined) {
      try {
        config = factory.parseConfig(entry.config)
      } catch (err) {
        const problems = (err instanceof Error ? err.message : String(err)).split('\n').filter(l => l !== '')
        throw new KproxyError('KPROXY_ERR_FILTER_CONFIG', `${at}.config: filter ${label} refuses its config: ${problems.join('; ')}`)
      }
    }
    out.push({ label, factory, config, builtin: entry.kind === 'builtin' })
  }
  return out
}

// `name`: the entry's label, when it has one (the module's own name is unknown until it loads).
async function importFactory (path: string, at: string, name: string | null): Promise<FilterFactory<any>> {
  const module = name === null ? `the filter module ${path}` : `the module ${path} of filter ${name}`
  let mod: Record<string, unknown>
  try {
    mod = await import(pathToFileURL(path).href) as Record<string, unknown>
  } catch (err) {
    // a module that exists but imports something missing fails with the same error code as a
    // missing module: only the file's own absence is "does not exist"
    const why = existsSync(path) ? ((err as Error)?.message ?? String(err)).split('\n')[0] : 'the file does not exist'
    throw new KproxyError('KPROXY_ERR_FILTER_MODULE', `${at}.module: cannot load ${module}: ${why}`)
  }
  const factory = (mod.default ?? mod.filter) as Partial<FilterFactory> | undefined
  if (factory === null || typeof factory !== 'object' || typeof factory.name !== 'string' || factory.name === '' || typeof factory.create !== 'function' ||
      (factory.parseConfig !== undefined && typeof factory.parseConfig !== 'function')) {
    throw new KproxyError('KPROXY_ERR_FILTER_MODULE', `${at}.module: ${module} does not export a filter: its default export (or export \`filter\`) must be an object with a name and create(config, env), and optionally parseConfig(config)`)
  }
  return factory as FilterFactory<any>
}

// Creates the instances of one worker. A factory that throws or returns something that is not a
// filter stops the worker's start (or the reload) with a coded error naming the filter.
export function createMembers (prepared: readonly PreparedFilter[], env: { logger: Logger, workerId: number, metrics: ProxyMetrics }): ChainMember[] {
  return prepared.map(p => {
    const logger = env.logger.child({ filter: p.label })
    const filterEnv: FilterEnvironment = {
      logger,
      workerId: env.workerId,
      counter: (event: string) => env.metrics.filterCounter?.(p.label, event) ?? NOOP_COUNTER
    }
    let filter: Filter
    try {
      filter = p.factory.create(p.config, filterEnv)
    } catch (err) {
      throw new KproxyError('KPROXY_ERR_FILTER_CREATE', `filter ${p.label} could not be created: ${(err as Error)?.message ?? String(err)}`)
    }
    if (filter === null || typeof filter !== 'object' || (filter.onRequest !== undefined && typeof filter.onRequest !== 'function') ||
        (filter.onResponse !== undefined && typeof filter.onResponse !== 'function')) {
      throw new KproxyError('KPROXY_ERR_FILTER_CREATE', `filter ${p.label}: create() must return an object with interests and onRequest/onResponse functions`)
    }
    return { label: p.label, filter, builtin: p.builtin }
  })
}

const NOOP_COUNTER = { inc (): void {} }
