// The entry point to kproxy's configuration schema: one schema (schema/kproxy-schema.ts, split by
// section) from which the file's types, the defaults, the flags, the live-reload classification,
// the docs table and the published JSON Schema are all derived.
export { ConfigError } from './config-error.ts'
export { resolveConfig } from './resolve-config.ts'
export type { ConfigSources } from './resolve-config.ts'
export { CONFIG_FLAGS, LIVE_KEYS, RESTART_KEYS, configKeys } from './schema/config-keys.ts'
export { configKeyTable, configJsonSchema, configJsonSchemaText } from './config-docs.ts'
export { KPROXY_SCHEMA } from './schema/kproxy-schema.ts'
export type { KproxyFile } from './schema/kproxy-schema.ts'
export { BUILTIN_FILTERS, isBuiltinFilterName } from './schema/builtin-filters/builtin-filters.ts'
export type { BuiltinFilterConfig, BuiltinFilterName, BuiltinFilterSpec } from './schema/builtin-filters/builtin-filters.ts'
export type { FilterEntryFile, ResolvedFilter } from './schema/filters-schema.ts'
