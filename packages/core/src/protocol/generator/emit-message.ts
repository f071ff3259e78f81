// Emits one TypeScript module per message definition: an interface per struct (every version's
// fields in one interface; a field absent in a version holds its default), create/read/write
// functions that branch on the version the way Kafka's own generated Java does, and a
// MessageCodec for the message. The wire grammar of each struct is written beside its reader.
import { banner } from './banner.ts'
import {
  contains, formatRange, intersect, isEmpty, specError
} from './spec.ts'
import type { FieldSpec, MessageSpec, Range, StructSpec } from './spec.ts'

export function kebabCase (name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2').toLowerCase()
}

export function moduleName (spec: MessageSpec): string {
  return `${kebabCase(spec.name)}.ts`
}

export function dataTypeName (spec: MessageSpec): string {
  return `${spec.name}Data`
}

export function codecName (spec: MessageSpec): string {
  return `${spec.name.charAt(0).toLowerCase()}${spec.name.slice(1)}Codec`
}

// A version condition as a TypeScript expression, simplified for the versions `context` in which
// the code can run: 'true', 'false', or e.g. 'version >= 3'.
export function versionCondition (field: Range, context: Range): string {
  const f = intersect(field, context)
  if (isEmpty(f) || isEmpty(context)) return 'false'
  if (contains(f, context)) return 'true'
  const parts: string[] = []
  if (f.lo > context.lo) parts.push(`version >= ${f.lo}`)
  if (f.hi < context.hi) parts.push(`version <= ${f.hi}`)
  return parts.join(' && ')
}

export function tsString (s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`
}

const NUMBER_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535], int32: [-2147483648, 2147483647], uint32: [0, 4294967295]
}

function parseInteger (text: string, where: string): bigint {
  const m = /^(-?)(0x[0-9a-f]+|\d+)$/i.exec(text.trim())
  if (!m) specError(where, `default "${text}" is not an integer`)
  const v = BigInt(m[2])
  return m[1] === '-' ? -v : v
}

const PRIMITIVE_TS: Record<string, string> = {
  int8: 'number', int16: 'number', uint16: 'number', int32: 'number', uint32: 'number', int64: 'bigint', float64: 'number',
  bool: 'boolean', string: 'string', bytes: 'Buffer', records: 'Buffer', uuid: 'string'
}

interface Ctx {
  spec: MessageSpec
  structs: Map<string, StructSpec>
  imports: { reader: Set<string>, readerTypes: Set<string>, writer: Set<string> }
  names: Set<string>
  out: string[]
  defaultChecks: Set<string> // structs whose isDefault function is needed
}

function declare (ctx: Ctx, name: string): string {
  if (ctx.names.has(name)) specError(ctx.spec.file, `generated name ${name} is used twice`)
  ctx.names.add(name)
  return name
}

// Whether a field's value may be null in the TypeScript type.
function nullableType (f: FieldSpec): boolean {
  return !isEmpty(f.nullableVersions) || f.defaultText === 'null' || f.elem === 'records'
}

function fieldType (f: FieldSpec): string {
  const base = f.elem === 'struct' ? f.structName as string : PRIMITIVE_TS[f.elem]
  const t = f.isArray ? `${base}[]` : base
  return nullableType(f) ? `${t} | null` : t
}

function defaultValue (ctx: Ctx, f: FieldSpec): string {
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

// Per-field wire facts in a given struct context.
interface FieldPlan {
  f: FieldSpec
  present: string // when the field is on the wire (outside the tagged section)
  nullable: string // when null is allowed on the wire
  compact: string // whether lengths use the compact (flexible) forms: 'true', 'false' or 'flexible'
}

function plan (ctx: Ctx, f: FieldSpec, context: Range): FieldPlan {
  const fieldContext = intersect(context, f.versions)
  let compact: string
  if (f.flexibleVersions !== null) compact = versionCondition(f.flexibleVersions, fieldContext)
  else if (f.tag !== null) compact = 'true'
  else compact = versionCondition(ctx.spec.flexibleVersions, fieldContext)
  // the struct's `flexible` constant is the same test, already evaluated
  if (compact !== 'true' && compact !== 'false' && f.flexibleVersions === null) compact = 'flexible'
  return {
    f,
    present: versionCondition(f.versions, context),
    nullable: versionCondition(f.nullableVersions, fieldContext),
    compact
  }
}

const ELEMENT_NAMES: Record<string, string> = {
  int8: 'Int8', int16: 'Int16', uint16: 'Uint16', int32: 'Int32', uint32: 'Uint32', int64: 'Int64', float64: 'Float64', bool: 'Bool', uuid: 'Uuid', string: 'String', bytes: 'Bytes'
}

// The element reader/writer of an array field: a struct's read/write function or a primitive adapter.
function elementFn (ctx: Ctx, p: FieldPlan, verb: 'read' | 'write'): string {
  const f = p.f
  if (f.elem === 'struct') return `${verb}${f.structName as string}`
  const imports = verb === 'read' ? ctx.imports.reader : ctx.imports.writer
  const name = ELEMENT_NAMES[f.elem]
  if (f.elem === 'string' || f.elem === 'bytes') {
    const plain = `${verb}${name}Element`
    const compact = `${verb}Compact${name}Element`
    if (p.compact !== 'false') imports.add(compact)
    if (p.compact !== 'true') imports.add(plain)
    if (p.compact === 'true') return compact
    if (p.compact === 'false') return plain
    return `(${p.compact} ? ${compact} : ${plain})`
  }
  imports.add(`${verb}${name}Element`)
  return `${verb}${name}Element`
}

function nonNullType (f: FieldSpec): string {
  const base = f.elem === 'struct' ? f.structName as string : PRIMITIVE_TS[f.elem]
  return f.isArray ? `${base}[]` : base
}

// Expression that reads the field's value (the field is known to be on the wire).
function readExpr (ctx: Ctx, p: FieldPlan): string {
  const f = p.f
  const nullable = p.nullable !== 'false'
  if (f.isArray) {
    const elem = elementFn(ctx, p, 'read')
    return nullable ? `r.nullableArray(${p.compact}, ${p.nullable}, ${elem}, version)` : `r.array(${p.compact}, ${elem}, version)`
  }
  switch (f.elem) {
    case 'string': case 'bytes':
      return nullable ? `r.nullable${f.elem === 'string' ? 'String' : 'Bytes'}(${p.compact}, ${p.nullable})` : `r.${f.elem}(${p.compact})`
    case 'records':
      return `r.nullableBytes(${p.compact}, ${p.nullable})`
    case 'struct':
      return nullable ? `r.present(${p.nullable}) ? read${f.structName as string}(r, version) : null` : `read${f.structName as string}(r, version)`
    default:
      return `r.${f.elem}()`
  }
}

// Statement that writes the field's value `v`.
function writeStmt (ctx: Ctx, p: FieldPlan, v: string): string {
  const f = p.f
  const nullable = p.nullable !== 'false'
  if (f.isArray) {
    const elem = elementFn(ctx, p, 'write')
    return nullable ? `w.nullableArray(${p.compact}, ${p.nullable}, ${v}, ${elem}, version)` : `w.array(${p.compact}, ${v}${nullableType(f) ? ` as ${nonNullType(f)}` : ''}, ${elem}, version)`
  }
  switch (f.elem) {
    case 'string': case 'bytes': {
      const T = f.elem === 'string' ? 'String' : 'Bytes'
      return nullable ? `w.nullable${T}(${p.compact}, ${p.nullable}, ${v})` : `w.${f.elem}(${p.compact}, ${v}${nullableType(f) ? ` as ${PRIMITIVE_TS[f.elem]}` : ''})`
    }
    case 'records':
      return `w.nullableBytes(${p.compact}, ${p.nullable}, ${v})`
    case 'struct':
      return nullable || nullableType(f)
        ? `if (w.present(${p.nullable}, ${v})) write${f.structName as string}(w, ${v} as ${f.structName as string}, version)`
        : `write${f.structName as string}(w, ${v}, version)`
    default:
      return `w.${f.elem}(${v})`
  }
}

// Expression true when a field holds its default — Kafka omits a tagged field then, and compares
// structs with equals(), which includes their unknown tagged fields.
function isDefaultExpr (ctx: Ctx, f: FieldSpec, v: string): string {
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

function nonDefault (ctx: Ctx, f: FieldSpec, v: string): string {
  const e = isDefaultExpr(ctx, f, v)
  return e.startsWith('(') || !e.includes(' ') ? `!${e}` : `!(${e})`
}

function emitDefaultChecks (ctx: Ctx, flexibleStructs: Set<string>): void {
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

function grammarLine (f: FieldSpec, context: Range): string {
  const parts = [`versions ${formatRange(intersect(f.versions, context))}`]
  if (!isEmpty(f.nullableVersions)) parts.push(`nullable ${formatRange(intersect(f.nullableVersions, context))}`)
  if (f.flexibleVersions !== null) parts.push(`flexible ${formatRange(f.flexibleVersions)}`)
  if (f.defaultText !== null) parts.push(`default ${f.defaultText}`)
  if (f.entityType !== null) parts.push(f.entityType)
  const tag = f.tag === null ? '' : `tag ${f.tag}: `
  return `//   ${`${tag}${f.name}`.padEnd(34)} ${f.type.padEnd(30)} ${parts.join(', ')}`.trimEnd()
}

function emitStruct (ctx: Ctx, s: StructSpec, name: string, context: Range, top: boolean): void {
  const out = ctx.out
  const spec = ctx.spec
  const flexRange = intersect(spec.flexibleVersions, context)
  const anyFlexible = !isEmpty(flexRange)
  const flexible = versionCondition(spec.flexibleVersions, context)
  const regular = s.fields.filter(f => f.tag === null)
  const tagged = s.fields.filter(f => f.tag !== null).sort((a, b) => (a.tag as number) - (b.tag as number))
  const readFn = declare(ctx, top ? `decode${spec.name}` : `read${name}`)
  const writeFn = declare(ctx, top ? `encode${spec.name}` : `write${name}`)
  const createFn = declare(ctx, top ? `create${spec.name}` : `create${name}`)
  declare(ctx, name)

  // interface
  out.push('')
  out.push(`export interface ${name} {`)
  for (const f of s.fields) {
    const about = f.about.replace(/\*\//g, '*\\/')
    out.push(`  /** ${about}${about.endsWith('.') || about === '' ? '' : '.'} ${f.type}, versions ${formatRange(f.versions)}${isEmpty(f.nullableVersions) ? '' : `, nullable ${formatRange(f.nullableVersions)}`}${f.tag === null ? '' : `, tag ${f.tag}`} */`)
    out.push(`  ${f.prop}: ${fieldType(f)}`)
  }
  if (anyFlexible) {
    ctx.imports.readerTypes.add('TaggedField')
    out.push('  /** Tagged fields this release does not know, kept so that re-encoding gives the same bytes. */')
    out.push('  _unknownTaggedFields?: TaggedField[]')
  }
  out.push('}')

  // create
  out.push('')
  out.push(`export function ${createFn} (): ${name} {`)
  out.push('  return {')
  s.fields.forEach((f, i) => out.push(`    ${f.prop}: ${defaultValue(ctx, f)}${i < s.fields.length - 1 ? ',' : ''}`))
  out.push('  }')
  out.push('}')

  // grammar
  out.push('')
  out.push(`// ${s.name}: versions ${formatRange(context)}${anyFlexible ? `, flexible ${formatRange(flexRange)}` : ''}`)
  for (const f of regular) out.push(grammarLine(f, context))
  if (anyFlexible) {
    out.push('//   tagged fields')
    for (const f of tagged) out.push(grammarLine(f, context))
  }

  // read
  const plans = regular.map(f => plan(ctx, f, context))
  const tagPlans = tagged.map(f => plan(ctx, f, flexRange))
  const needsFlexibleVar = (anyFlexible && flexible !== 'true') || plans.some(p => p.compact.includes('flexible'))
  const tagReader = tagged.length > 0 && anyFlexible ? declare(ctx, `read${name}TaggedFields`) : null
  ctx.imports.reader.add('Reader')
  out.push(`export function ${readFn} (r: Reader, version: number): ${name} {`)
  if (needsFlexibleVar) out.push(`  const flexible = ${flexible}`)
  const literal = s.fields.map(f => {
    if (f.tag !== null) return `${f.prop}: ${defaultValue(ctx, f)}`
    const p = plans[regular.indexOf(f)]
    if (p.present === 'false') return `${f.prop}: ${defaultValue(ctx, f)}`
    if (p.present === 'true') return `${f.prop}: ${readExpr(ctx, p)}`
    const e = readExpr(ctx, p)
    return `${f.prop}: ${p.present} ? ${e.includes('?') ? `(${e})` : e} : ${defaultValue(ctx, f)}`
  })
  if (literal.length === 0) {
    out.push(`  const o: ${name} = {}`)
  } else {
    out.push(`  const o: ${name} = {`)
    literal.forEach((l, i) => out.push(`    ${l}${i < literal.length - 1 ? ',' : ''}`))
    out.push('  }')
  }
  if (anyFlexible) {
    const call = `r.taggedFields(o, ${tagReader ?? 'null'}, version)`
    out.push(flexible === 'true' ? `  ${call}` : `  if (flexible) ${call}`)
  }
  out.push('  return o')
  out.push('}')

  // tagged-field reader
  if (tagReader !== null) {
    out.push('')
    out.push(`function ${tagReader} (r: Reader, o: ${name}, tag: number, version: number): boolean {`)
    out.push('  switch (tag) {')
    tagged.forEach((f, i) => {
      const p = tagPlans[i]
      const when = versionCondition(f.versions, flexRange)
      out.push(`    case ${f.tag as number}:`)
      if (when === 'false') {
        out.push('      return false')
        return
      }
      if (when !== 'true') out.push(`      if (!(${when})) return false`)
      out.push(`      o.${f.prop} = ${readExpr(ctx, p)}`)
      out.push('      return true')
    })
    out.push('    default:')
    out.push('      return false')
    out.push('  }')
    out.push('}')
  }

  // write
  ctx.imports.writer.add('Writer')
  out.push('')
  out.push(`export function ${writeFn} (w: Writer, o: ${name}, version: number): void {`)
  if (needsFlexibleVar) out.push(`  const flexible = ${flexible}`)
  for (const p of plans) {
    if (p.present === 'false') continue
    const stmt = writeStmt(ctx, p, `o.${p.f.prop}`)
    out.push(p.present === 'true' ? `  ${stmt}` : `  if (${p.present}) ${stmt.startsWith('if ') ? `{ ${stmt} }` : stmt}`)
  }
  if (anyFlexible) {
    const ind = flexible === 'true' ? '  ' : '    '
    ctx.imports.writer.add('sortedTags')
    if (tagged.length === 0) {
      out.push(`  ${flexible === 'true' ? '' : 'if (flexible) '}w.taggedFields(sortedTags(o._unknownTaggedFields))`)
    } else {
      if (flexible !== 'true') out.push('  if (flexible) {')
      out.push(`${ind}const unknown = sortedTags(o._unknownTaggedFields)`)
      const flags: string[] = []
      tagged.forEach((f, i) => {
        const when = versionCondition(f.versions, flexRange)
        const flag = `t${i}`
        flags.push(flag)
        const nd = nonDefault(ctx, f, `o.${f.prop}`)
        out.push(`${ind}const ${flag} = ${when === 'true' ? nd : when === 'false' ? 'false' : `${when} && ${nd}`}`)
      })
      out.push(`${ind}w.taggedHeader(${flags.map(t => `(${t} ? 1 : 0)`).join(' + ')}, unknown)`)
      out.push(`${ind}let u = 0`)
      tagged.forEach((f, i) => {
        const fn = declare(ctx, `write${name}${f.name}Tag`)
        out.push(`${ind}if (t${i}) {`)
        out.push(`${ind}  u = w.unknownTagsBelow(unknown, u, ${f.tag as number})`)
        out.push(`${ind}  w.taggedField(${f.tag as number}, o.${f.prop}, ${fn}, version)`)
        out.push(`${ind}}`)
      })
      out.push(`${ind}w.unknownTagsBelow(unknown, u, Infinity)`)
      if (flexible !== 'true') out.push('  }')
    }
  }
  out.push('}')

  // writers of the tagged fields' values (their size must be known before they are written)
  tagged.forEach((f, i) => {
    if (!anyFlexible) return
    const fn = `write${name}${f.name}Tag`
    out.push('')
    out.push(`function ${fn} (w: Writer, v: ${fieldType(f)}, version: number): void {`)
    const stmt = writeStmt(ctx, tagPlans[i], 'v')
    out.push(`  ${stmt}`)
    out.push('}')
  })
}

function schemaName (spec: MessageSpec): string {
  return `${spec.name.charAt(0).toLowerCase()}${spec.name.slice(1)}Schema`
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
function emitSchema (ctx: Ctx, spec: MessageSpec): void {
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

export function emitMessage (spec: MessageSpec, kafkaVersion: string): string {
  const ctx: Ctx = {
    spec,
    structs: new Map(spec.structs.map(s => [s.name, s])),
    imports: { reader: new Set(), readerTypes: new Set(), writer: new Set() },
    names: new Set(),
    out: [],
    defaultChecks: new Set()
  }
  // Headers are read before their version is known to be valid (request header v0 is no longer
  // in the definition's validVersions), so their code works for every version up to the last.
  const topContext = spec.type === 'header' ? { lo: 0, hi: spec.validVersions.hi } : spec.validVersions
  const top: StructSpec = { name: dataTypeName(spec), fields: spec.fields, common: false, context: topContext }
  const title = spec.apiKey === null ? spec.type : `apiKey ${spec.apiKey} ${spec.type}`
  ctx.out.push('')
  ctx.out.push(`// ${spec.name} (${title}): validVersions ${formatRange(spec.validVersions)}, flexibleVersions ${formatRange(spec.flexibleVersions)}` +
    `${spec.listeners.length > 0 ? `, listeners ${spec.listeners.join(', ')}` : ''}${spec.latestVersionUnstable ? ', latest version unstable' : ''}`)
  emitStruct(ctx, top, top.name, topContext, true)
  const flexibleStructs = new Set<string>()
  for (const s of spec.structs) {
    const context = s.context
    if (!isEmpty(intersect(spec.flexibleVersions, context))) flexibleStructs.add(s.name)
    emitStruct(ctx, s, s.name, context, false)
  }
  emitDefaultChecks(ctx, flexibleStructs)
  ctx.imports.readerTypes.delete('Reader')
  emitSchema(ctx, spec)
  const codec = codecName(spec)
  ctx.out.push('')
  ctx.out.push(`export const ${codec}: MessageCodec<${top.name}> = {`)
  ctx.out.push(`  name: ${tsString(spec.name)},`)
  ctx.out.push(`  decode: decode${spec.name},`)
  ctx.out.push(`  encode: encode${spec.name},`)
  ctx.out.push(`  create: create${spec.name},`)
  ctx.out.push(spec.structs.length === 0 ? '  structs: {},' : '  structs: {')
  spec.structs.forEach((s, i) => ctx.out.push(`    ${s.name}: create${s.name}${i < spec.structs.length - 1 ? ',' : ''}`))
  if (spec.structs.length > 0) ctx.out.push('  },')
  ctx.out.push(`  schema: ${schemaName(spec)}`)
  ctx.out.push('}')

  const head: string[] = [banner(kafkaVersion, `common/message/${spec.file}`)]
  const sorted = (set: Set<string>): string => [...set].sort((a, b) => a.localeCompare(b, 'en')).join(', ')
  head.push(`import { ${sorted(ctx.imports.reader)} } from '../primitives/reader.ts'`)
  if (ctx.imports.readerTypes.size > 0) head.push(`import type { ${sorted(ctx.imports.readerTypes)} } from '../primitives/reader.ts'`)
  head.push(`import { ${sorted(ctx.imports.writer)} } from '../primitives/writer.ts'`)
  head.push('import type { MessageCodec, MessageSchema } from \'../primitives/message-codec.ts\'')
  head.push('')
  return head.join('\n') + ctx.out.join('\n') + '\n'
}

