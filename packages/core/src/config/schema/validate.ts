// Checks a value against a config schema and collects every problem (not only the first), each
// with its key path and what is allowed. Mappings are walked key by key (unknown keys are named,
// with the keys allowed there), lists of mappings item by item, unions of mappings through the
// variant their `select` picks; any other key is checked whole by TypeBox plus the key's own
// check. Returns the value with every invalid or unknown part left out, so that resolving can go
// on and report the cross-key problems too.
import Value from 'typebox/value'
import type { TSchema } from 'typebox'
import { allowedText, formatPath, isGroup, isListOfMappings, metaOf } from './schema-kit.ts'
import type { PathPart } from './schema-kit.ts'

export interface Problem {
  readonly path: readonly PathPart[]
  // Point at the key rather than at its value (an unknown key).
  readonly atKey: boolean
  readonly message: string
}

export const INVALID: unique symbol = Symbol('invalid')

export function describeValue (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return `a list [${v.map(x => JSON.stringify(x)).join(', ')}]`
  if (typeof v === 'object') return 'a mapping'
  return `${typeof v} ${JSON.stringify(v)}`
}

// One key's value, checked whole: undefined when allowed, else the reason (possibly empty).
export function checkLeaf (schema: TSchema, value: unknown): { reason: string | undefined } | undefined {
  const reason = metaOf(schema)?.check?.(value)
  if (reason === undefined && Value.Check(schema, value)) return undefined
  return { reason }
}

function isMapping (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

// Keys a mapping lets through unchecked (patternProperties), such as the x- keys at the top level
// that hold YAML anchors.
function ignored (schema: TSchema, name: string): boolean {
  const patterns = (schema as { patternProperties?: Record<string, unknown> }).patternProperties
  return patterns !== undefined && Object.keys(patterns).some(p => new RegExp(p).test(name))
}

export function validate (schema: TSchema, value: unknown, path: readonly PathPart[], problems: Problem[]): unknown {
  const at = formatPath(path)
  const meta = metaOf(schema)
  if (meta?.select !== undefined) {
    const variant = meta.select(value)
    if (typeof variant === 'string') {
      problems.push({ path, atKey: false, message: `${at}: ${variant}` })
      return INVALID
    }
    return validate(variant, value, path, problems)
  }
  if (isGroup(schema)) {
    if (!isMapping(value)) {
      const message = path.length === 0
        ? 'the document must be a mapping'
        : value === null
          // `tls:` with every line below it commented out
          ? `${at}: is empty; allowed: ${allowedText(schema)}, or leave the key out`
          : `${at}: got ${describeValue(value)}, allowed: a mapping`
      problems.push({ path, atKey: false, message })
      return INVALID
    }
    const properties = schema.properties as Record<string, TSchema>
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const keyPath = [...path, k]
      const spec = properties[k]
      if (spec === undefined && ignored(schema, k)) continue
      if (spec === undefined) {
        problems.push({ path: keyPath, atKey: true, message: `${formatPath(keyPath)}: unknown key; allowed keys here: ${Object.keys(properties).join(', ')}` })
        continue
      }
      const checked = validate(spec, v, keyPath, problems)
      if (checked !== INVALID) out[k] = checked
    }
    // a mapping whose required key is missing or invalid is left out whole (half a filter entry
    // means nothing)
    let complete = true
    for (const k of schema.required ?? []) {
      if (Object.hasOwn(out, k)) continue
      complete = false
      if (Object.hasOwn(value, k)) continue
      problems.push({ path, atKey: false, message: `${formatPath([...path, k])} is required; allowed: ${allowedText(properties[k]!)}` })
    }
    if (!complete) return INVALID
    const reason = meta?.check?.(out)
    if (reason !== undefined) {
      problems.push({ path, atKey: false, message: `${at}: ${reason}` })
      return INVALID
    }
    return out
  }
  if (isListOfMappings(schema) && Array.isArray(value)) {
    const items = (schema as unknown as { items: TSchema }).items
    const out: unknown[] = []
    value.forEach((item, i) => {
      const checked = validate(items, item, [...path, i], problems)
      if (checked !== INVALID) out.push(checked)
    })
    return out
  }
  const failure = checkLeaf(schema, value)
  if (failure === undefined) return value
  problems.push({ path, atKey: false, message: `${at}: ${failure.reason !== undefined ? failure.reason + '; ' : ''}got ${describeValue(value)}, allowed: ${allowedText(schema)}` })
  return INVALID
}
