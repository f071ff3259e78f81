// What the emitters know about values: the TypeScript type of a field, its default (parsed from
// the definition), the test for "still at its default" that decides whether Kafka writes a tagged
// field, and the definition kept as data (MessageSchema) in every generated module.
import { formatRange, isEmpty, specError } from './spec.ts'
import type { FieldSpec, MessageSpec, StructSpec } from './spec.ts'
import { schemaName, tsString } from './emit-names.ts'

const NUMBER_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535], int32: [-2147483648, 2147483647], uint32: [0, 4294967295]
}

function parseInteger (text: string, where: string): bigint {
  const m = /^(-?)(0x[0-9a-f]+|\d+)$/i.exec(text.trim())
  if (!m) specError(where, `default "${text}" is not an integer`)
  const v = BigInt(m[2])
  return m[1] === '-' ? -v : v
}

export const PRIMITIVE_TS: Record<string, string> = {
  int8: 'number', int16: 'number', uint16: 'number', int32: 'number', uint32: 'number', int64: 'bigint', float64: 'number',
  bool: 'boolean', string: 'string', bytes: 'Buffer', records: 'Buffer', uuid: 'string'
}

// The state of one module being emitted: its imports, the names it declares, its lines.
export interface Ctx {
  spec: MessageSpec
  structs: Map<string, StructSpec>
  imports: { reader: Set<string>, readerTypes: Set<string>, writer: Set<string> }
  names: Set<string>
  out: string[]
  defaultChecks: Set<string> // structs whose isDefault function is needed
}

export function declare (ctx: Ctx, name: string): string {
  if (ctx.names.has(name)) specError(ctx.spec.file, `generated name ${name} is used twice`)
  ctx.names.add(name)
  return name
}

// Whether a field's value may be null in the TypeScript type.
export function nullableType (f: FieldSpec): boolean {
  return !isEmpty(f.nullableVersions) || f.defaultText === 'null' || f.elem === 'records'
}

export function fieldType (f: FieldSpec): string {
  const base = f.elem === 'struct' ? f.structName as string : PRIMITIVE_TS[f.elem]
  const t = f.isArray ? `${base}[]` : base
  return nullableType(f) ? `${t} | null` : t
}

export function defaultValue (ctx: Ctx, f: FieldSpec): string {
  const d = f.defaultText
  const where = `${ctx.spec.file} ${f.name}`
  if (d === 'null') {
    if (isEmpty(f.nullableVersions) && f.elem !== 'records') specError(where, 'default null on a field that is never nullable')
    return 'null'
  }
  if (f.isArray) {
    if (d !== null && d !== '') specError(where, `array default "${d}"`)
    return '[]'
  }
  switch (f.elem) {
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'uint32': {
      const v = d === null ? 0n : parseInteger(d, where)
      const [lo, hi] = NUMBER_RANGES[f.elem]
      if (v < BigInt(lo) || v > BigInt(hi)) specError(where, `default ${d} does not fit ${f.elem}`)
      return String(v)
    }
    case 'int64': {
      const v = d === null ? 0n : parseInteger(d, where)
      if (v < -(1n << 63n) || v >= (1n << 63n)) specError(where, `default ${d} does not fit int64`)
      return `${v}n`
    }
    case 'float64': {
      const v = d === null ? 0 : Number(d)
      if (Number.isNaN(v)) specError(where, `default "${d}" is not a number`)
      return String(v)
    }
    case 'bool':
      if (d !== null && !/^(true|false)$/i.test(d)) specError(where, `default "${d}" is not a bool`)
      return d !== null && d.toLowerCase() === 'true' ? 'true' : 'false'
    case 'string':
      return tsString(d ?? '')
    case 'uuid':
      if (d !== null && d !== '' && d !== 'AAAAAAAAAAAAAAAAAAAAAA') specError(where, `uuid default "${d}"`)
      ctx.imports.reader.add('ZERO_UUID')
      return 'ZERO_UUID'
    case 'bytes':
      if (d !== null && d !== '') specError(where, `bytes default "${d}"`)
      ctx.imports.reader.add('EMPTY_BUFFER')
      return 'EMPTY_BUFFER'
    case 'records':
      return 'null'
    default:
      if (d !== null && d !== '') specError(where, `struct default "${d}"`)
      return `create${f.structName as string}()`
  }
}

export function nonNullType (f: FieldSpec): string {
  const base = f.elem === 'struct' ? f.structName as string : PRIMITIVE_TS[f.elem]
  return f.isArray ? `${base}[]` : base
}

// Expression true when a field holds its default — Kafka omits a tagged field then, and compares
// structs with equals(), which includes their unknown tagged fields.
export function isDefaultExpr (ctx: Ctx, f: FieldSpec, v: string): string {
  const d = defaultValue(ctx, f)
  if (d === 'null') return `${v} === null`
  if (f.isArray || f.elem === 'bytes') return nullableType(f) ? `(${v} !== null && ${v}.length === 0)` : `${v}.length === 0`
  switch (f.elem) {
    case 'float64': return `Object.is(${v}, ${d})`
    case 'struct':
      ctx.defaultChecks.add(f.structName as string)
      return nullableType(f) ? `(${v} !== null && isDefault${f.structName as string}(${v}))` : `isDefault${f.structName as string}(${v})`
    default: return `${v} === ${d}`
  }
}

export function nonDefault (ctx: Ctx, f: FieldSpec, v: string): string {
  const e = isDefaultExpr(ctx, f, v)
  return e.startsWith('(') || !e.includes(' ') ? `!${e}` : `!(${e})`
}

export function emitDefaultChecks (ctx: Ctx, flexibleStructs: Set<string>): void {
  const done = new Set<string>()
  for (let pending = [...ctx.defaultChecks]; pending.length > 0; pending = [...ctx.defaultChecks].filter(n => !done.has(n))) {
    for (const name of pending.sort()) {
      done.add(name)
      const s = ctx.structs.get(name) as StructSpec
      const terms = s.fields.map(f => isDefaultExpr(ctx, f, `o.${f.prop}`))
      if (flexibleStructs.has(name)) terms.push('(o._unknownTaggedFields === undefined || o._unknownTaggedFields.length === 0)')
      declare(ctx, `isDefault${name}`)
      ctx.out.push('')
      ctx.out.push(`function isDefault${name} (o: ${name}): boolean {`)
      ctx.out.push(`  return ${terms.length === 0 ? 'true' : terms.join(' &&\n    ')}`)
      ctx.out.push('}')
    }
  }
}

function fieldSchema (f: FieldSpec): string {
  const parts = [`name: ${tsString(f.name)}`, `prop: ${tsString(f.prop)}`, `type: ${tsString(f.type)}`, `versions: '${formatRange(f.versions)}'`]
  if (!isEmpty(f.nullableVersions)) parts.push(`nullableVersions: '${formatRange(f.nullableVersions)}'`)
  if (f.tag !== null) parts.push(`tag: ${f.tag}`)
  if (f.flexibleVersions !== null) parts.push(`flexibleVersions: '${formatRange(f.flexibleVersions)}'`)
  if (f.defaultText !== null) parts.push(`default: ${tsString(f.defaultText)}`)
  if (f.entityType !== null) parts.push(`entityType: ${tsString(f.entityType)}`)
  return `{ ${parts.join(', ')} }`
}

// The definition as data (see MessageSchema), one line per field.
export function emitSchema (ctx: Ctx, spec: MessageSpec): void {
  const out = ctx.out
  const list = (fields: FieldSpec[], indent: string): void => {
    fields.forEach((f, i) => out.push(`${indent}${fieldSchema(f)}${i < fields.length - 1 ? ',' : ''}`))
  }
  out.push('')
  out.push(`export const ${declare(ctx, schemaName(spec))}: MessageSchema = {`)
  out.push(`  name: ${tsString(spec.name)},`)
  out.push(`  type: '${spec.type}',`)
  out.push(`  apiKey: ${spec.apiKey ?? -1},`)
  out.push(`  validVersions: '${formatRange(spec.validVersions)}',`)
  if (!isEmpty(spec.bridgedVersions)) out.push(`  bridgedVersions: '${formatRange(spec.bridgedVersions)}',`)
  out.push(`  flexibleVersions: '${formatRange(spec.flexibleVersions)}',`)
  out.push(spec.fields.length === 0 ? '  fields: [],' : '  fields: [')
  if (spec.fields.length > 0) {
    list(spec.fields, '    ')
    out.push('  ],')
  }
  out.push(spec.structs.length === 0 ? '  structs: {}' : '  structs: {')
  spec.structs.forEach((s, i) => {
    out.push(s.fields.length === 0 ? `    ${s.name}: []` : `    ${s.name}: [`)
    if (s.fields.length > 0) {
      list(s.fields, '      ')
      out.push(`    ]${i < spec.structs.length - 1 ? ',' : ''}`)
    } else if (i < spec.structs.length - 1) {
      out[out.length - 1] += ','
    }
  })
  if (spec.structs.length > 0) out.push('  }')
  out.push('}')
}
