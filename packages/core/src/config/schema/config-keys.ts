// Every key of a schema with its path, in schema order, and what is derived from them: the
// command-line flags and the live-reload classification (the docs table and the JSON Schema are in
// config-docs.ts).
import type { TSchema } from 'typebox'
import { KPROXY_SCHEMA } from './kproxy-schema.ts'
import { isGroup, metaOf } from './schema-kit.ts'
import type { KeyMeta } from './schema-kit.ts'

export interface KeyInfo {
  // brokerMode.tls.cert; items of a list of mappings as rules[].percent
  readonly path: string
  readonly schema: TSchema
  readonly meta: KeyMeta | undefined
  // 'group': a mapping whose keys are listed after it
  readonly kind: 'key' | 'group'
  // The mapping it is in must have it.
  readonly required: boolean
  // The live-reload unit the key belongs to (itself, or the group or list it is part of).
  readonly unit: { readonly path: string, readonly live: boolean } | undefined
}

function itemsGroup (schema: TSchema): TSchema | undefined {
  const s = schema as { type?: unknown, items?: TSchema }
  return s.type === 'array' && s.items !== undefined && isGroup(s.items) && metaOf(s.items)?.select === undefined ? s.items : undefined
}

export function configKeys (root: TSchema = KPROXY_SCHEMA): KeyInfo[] {
  const out: KeyInfo[] = []
  const walk = (group: TSchema, prefix: string, unit: KeyInfo['unit']): void => {
    const { properties, required: requiredKeys = [] } = group as { properties: Record<string, TSchema>, required?: string[] }
    for (const [name, schema] of Object.entries(properties)) {
      const required = requiredKeys.includes(name)
      const path = prefix === '' ? name : `${prefix}.${name}`
      const meta = metaOf(schema)
      const own = unit ?? (meta?.live !== undefined ? { path, live: meta.live } : undefined)
      if (isGroup(schema) && meta?.select === undefined) {
        out.push({ path, schema, meta, kind: 'group', required, unit: own })
        walk(schema, path, own)
        continue
      }
      out.push({ path, schema, meta, kind: 'key', required, unit: own })
      const items = itemsGroup(schema)
      if (items !== undefined) walk(items, `${path}[]`, own)
    }
  }
  walk(root, '', undefined)
  return out
}

const KEYS = configKeys()

// Flag name (without --) -> key path.
export const CONFIG_FLAGS: ReadonlyMap<string, string> = new Map(KEYS
  .filter(k => k.meta?.flag !== undefined).map(k => [k.meta!.flag!.slice(2), k.path]))

function units (live: boolean): string[] {
  return [...new Set(KEYS.filter(k => k.unit?.live === live).map(k => k.unit!.path))]
}

// The key paths (of the resolved ProxyConfig) a reload applies without a restart, and those it
// cannot apply.
export const LIVE_KEYS: readonly string[] = units(true)
export const RESTART_KEYS: readonly string[] = units(false)

export function schemaAt (path: string, root: TSchema = KPROXY_SCHEMA): TSchema | undefined {
  let node: TSchema | undefined = root
  for (const part of path.split('.')) node = isGroup(node!) ? (node as { properties: Record<string, TSchema> }).properties[part] : undefined
  return node
}
