// Section "filters": the listener's filter chain, under brokerMode.filters. Each entry is a
// built-in filter by name (its config validated here, by its schema in BUILTIN_FILTERS) or a user
// filter module by path (only the envelope is checked here; the module validates its own config
// when the filter engine loads it).
import { isAbsolute, resolve } from 'node:path'
import { Type } from 'typebox'
import type { Static, TSchema } from 'typebox'
import { BUILTIN_FILTERS } from './builtin-filters/builtin-filters.ts'
import type { BuiltinFilterConfig, BuiltinFilterName } from './builtin-filters/builtin-filters.ts'
import { annotate, group, key, requiredKey } from './schema-kit.ts'
import { int } from './value-kinds.ts'
import { withDefaults } from './defaults.ts'

const BUILTIN_NAMES = Object.keys(BUILTIN_FILTERS) as BuiltinFilterName[]

function builtinEntry (name: BuiltinFilterName): TSchema {
  const config = BUILTIN_FILTERS[name].config
  const configMeta = { doc: `Config of the built-in filter ${name}.` }
  return group({
    name: requiredKey(Type.Literal(name), { doc: BUILTIN_FILTERS[name].doc }),
    // a built-in filter whose config has required keys cannot run without one
    config: (config.required ?? []).length > 0 ? requiredKey(config, configMeta) : key(config, configMeta)
  })
}

const BUILTIN_ENTRIES = new Map<string, TSchema>(BUILTIN_NAMES.map(n => [n, builtinEntry(n)]))

const MODULE_ENTRY = group({
  module: requiredKey(Type.String({ pattern: '\\.(ts|mts|js|mjs)$' }), {
    allowed: 'a path to a .ts, .mts, .js or .mjs file, relative to the config file',
    doc: 'Your filter module; it exports the filter and validates its own config.'
  }),
  name: key(Type.String({ minLength: 1 }), { doc: 'Label of this filter in logs and metrics.' }),
  config: key(Type.Unknown(), { allowed: 'anything the filter module accepts', doc: "The module's own config, checked by the module when it is loaded." })
})

type BuiltinEntryFile = { [N in BuiltinFilterName]: { name: N, config?: BuiltinFilterConfig<N>, module?: undefined } }[BuiltinFilterName]
export type FilterEntryFile = BuiltinEntryFile | Static<typeof MODULE_ENTRY>

const ENTRY_ALLOWED = `name: one of ${BUILTIN_NAMES.join(', ')} (a built-in filter), or module: PATH (your own filter)`

// One entry: the variant is chosen by `module` or `name`, so that an error points into the entry.
const FILTER_ENTRY = annotate(Type.Unsafe<FilterEntryFile>(Type.Union([...BUILTIN_ENTRIES.values(), MODULE_ENTRY])), {
  allowed: ENTRY_ALLOWED,
  doc: 'One filter: a built-in filter by name, or your own by module path.',
  select: v => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return `a filter entry is a mapping: ${ENTRY_ALLOWED}`
    const entry = v as Record<string, unknown>
    if ('module' in entry) return MODULE_ENTRY
    if (typeof entry.name !== 'string') return `a filter entry needs ${ENTRY_ALLOWED}`
    return BUILTIN_ENTRIES.get(entry.name) ?? `'${entry.name}' is not a built-in filter; allowed: ${ENTRY_ALLOWED}`
  }
})

export const FILTER_KEYS = {
  filters: key(Type.Array(FILTER_ENTRY, { default: [] }), {
    allowed: 'a list of filter entries',
    live: true,
    doc: 'Filter chain of every client connection, in order: built-in filters by name, your own by module path.'
  }),
  filterHoldTimeoutMs: key(int(1, 600_000, 30_000), { live: true, doc: 'How long a filter may hold a request before it gets an error response.' })
}

export type ResolvedFilter =
  | { [N in BuiltinFilterName]: { kind: 'builtin', name: N, config: BuiltinFilterConfig<N> } }[BuiltinFilterName]
  | { kind: 'module', path: string, name: string | null, config: unknown }

// Validated entries as the filter engine loads them: defaults filled in, module paths absolute
// (relative to the config file's directory, or to the working directory without a file).
export function resolveFilters (entries: readonly FilterEntryFile[], baseDir: string): ResolvedFilter[] {
  return entries.map((entry): ResolvedFilter => {
    if (entry.module !== undefined) {
      return { kind: 'module', path: isAbsolute(entry.module) ? entry.module : resolve(baseDir, entry.module), name: entry.name ?? null, config: entry.config ?? null }
    }
    return { kind: 'builtin', name: entry.name, config: withDefaults(BUILTIN_FILTERS[entry.name].config, entry.config ?? {}) } as ResolvedFilter
  })
}
