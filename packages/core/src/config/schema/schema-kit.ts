// The building blocks of kproxy's config schema. A key is a TypeBox schema (so it is plain JSON
// Schema and has a TypeScript type) plus what JSON Schema cannot say: the command-line flag, whether
// a reload applies it, the default in words when it is computed, the allowed values in words, and a
// check beyond JSON Schema that gives a reason. That extra part lives under a symbol, so
// JSON.stringify of the schema is the published JSON Schema and carries none of it.
import { Type } from 'typebox'
import type { TObject, TObjectOptions, TOptional, TProperties, TSchema } from 'typebox'

const META = Symbol('kproxy.config.key')

export interface KeyMeta {
  // One sentence: the docs table, the JSON Schema description and editors show it.
  readonly doc: string
  // What is allowed, in words; derived from the JSON Schema when absent (allowedText).
  readonly allowed?: string
  // The default in words when it is computed from other keys; otherwise the JSON Schema `default`.
  readonly defaultText?: string
  // Command-line flag of `kproxy serve` that overlays this key ('--workers').
  readonly flag?: string
  // On a leaf, or on a group or list that a reload compares as one unit: true when a reload
  // (SIGHUP, POST /reload) applies a new value without a restart. Keys under it inherit it.
  readonly live?: boolean
  // A check beyond the JSON Schema; returns why the value is not allowed (any value can come in).
  readonly check?: (value: unknown) => string | undefined
  // On a union of mappings: the variant a value is checked against, or why no variant fits, so
  // that an error points inside the chosen variant instead of saying "matches none".
  readonly select?: (value: unknown) => TSchema | string
}

export type PathPart = string | number

// Attaches a key's metadata to a schema (also a list item or a union that is no key itself).
export function annotate<T extends TSchema> (schema: T, meta: KeyMeta): T {
  const s = schema as Record<PropertyKey, unknown>
  s.description = meta.doc
  s[META] = meta
  return schema
}

// An optional key of a mapping (nearly every key: the default applies when it is absent).
export function key<T extends TSchema> (schema: T, meta: KeyMeta): TOptional<T> {
  return annotate(Type.Optional(schema) as TOptional<T>, meta)
}

// A key that must be present.
export function requiredKey<T extends TSchema> (schema: T, meta: KeyMeta): T {
  return annotate(schema, meta)
}

// A mapping with known keys only: an unknown key is an error (a typo must not be ignored).
export function group<P extends TProperties> (properties: P, options: TObjectOptions = {}): TObject<P> {
  return Type.Object(properties, { ...options, additionalProperties: false })
}

export function metaOf (schema: TSchema): KeyMeta | undefined {
  return (schema as Record<PropertyKey, unknown>)[META] as KeyMeta | undefined
}

type Json = Record<string, unknown>

export function isGroup (schema: TSchema): schema is TObject {
  const s = schema as Json
  return s.type === 'object' && s.properties !== undefined
}

// A list whose items are mappings (or a union of them): walked item by item for precise errors.
export function isListOfMappings (schema: TSchema): boolean {
  const s = schema as Json
  if (s.type !== 'array' || s.items === undefined) return false
  const items = s.items as TSchema
  return isGroup(items) || metaOf(items)?.select !== undefined
}

export function defaultOf (schema: TSchema): unknown {
  return (schema as Json).default
}

// The default as the docs say it.
export function defaultText (schema: TSchema): string {
  const meta = metaOf(schema)
  if (meta?.defaultText !== undefined) return meta.defaultText
  const d = defaultOf(schema)
  if (d === undefined) return '(none)'
  return typeof d === 'string' ? d : JSON.stringify(d)
}

// What is allowed, in words, from the key's text or its JSON Schema.
export function allowedText (schema: TSchema): string {
  const meta = metaOf(schema)
  if (meta?.allowed !== undefined) return meta.allowed
  const s = schema as Json
  if (Array.isArray(s.enum)) return s.enum.map(String).join(', ')
  if (Array.isArray(s.anyOf)) {
    const options = s.anyOf as Json[]
    if (options.every(o => o.const !== undefined)) return options.map(o => String(o.const)).join(', ')
    return options.map(o => allowedText(o as TSchema)).join(' or ')
  }
  if (s.const !== undefined) return String(s.const)
  switch (s.type) {
    case 'integer':
    case 'number': {
      const what = s.type === 'integer' ? 'an integer' : 'a number'
      if (s.minimum !== undefined && s.maximum !== undefined) return `${what} from ${String(s.minimum)} to ${String(s.maximum)}`
      if (s.minimum !== undefined) return `${what} from ${String(s.minimum)}`
      return what
    }
    case 'boolean': return 'true or false'
    case 'null': return 'null'
    case 'string': return s.minLength !== undefined ? 'a non-empty string' : 'a string'
    case 'array': {
      const items = s.items as Json
      if (items.type === 'string' && Object.keys(items).length === 1) return 'a list of strings'
      if (isGroup(items as TSchema)) return 'a list of mappings'
      return `a list of ${allowedText(items as TSchema)}`
    }
    case 'object': return isGroup(schema) ? `a mapping with the keys ${Object.keys(s.properties as Json).join(', ')}` : 'a mapping'
  }
  return 'any value'
}

// brokerMode.filters[0].config, as messages and the docs write a key path.
export function formatPath (path: readonly PathPart[]): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`
  return out
}
