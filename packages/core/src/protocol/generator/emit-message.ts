// Emits one TypeScript module per message definition: an interface per struct (every version's
// fields in one interface; a field absent in a version holds its default), create/read/write
// functions that branch on the version the way Kafka's own generated Java does, and a
// MessageCodec for the message. The wire grammar of each struct is written beside its reader.
import { banner } from './banner.ts'
import { codecName, dataTypeName, schemaName, tsString, versionCondition } from './emit-names.ts'
import {
  declare, defaultValue, emitDefaultChecks, emitSchema, fieldType, nonDefault, nonNullType, nullableType, PRIMITIVE_TS
} from './emit-values.ts'
import type { Ctx } from './emit-values.ts'
import { formatRange, intersect, isEmpty } from './spec.ts'
import type { FieldSpec, MessageSpec, Range, StructSpec } from './spec.ts'

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
  // A message with bridged versions reads and writes those too (codecVersions).
  const topContext = spec.type === 'header' ? { lo: 0, hi: spec.validVersions.hi } : spec.codecVersions
  const top: StructSpec = { name: dataTypeName(spec), fields: spec.fields, common: false, context: topContext }
  const title = spec.apiKey === null ? spec.type : `apiKey ${spec.apiKey} ${spec.type}`
  ctx.out.push('')
  const bridged = isEmpty(spec.bridgedVersions) ? '' : `, bridged versions ${formatRange(spec.bridgedVersions)}`
  ctx.out.push(`// ${spec.name} (${title}): validVersions ${formatRange(spec.validVersions)}${bridged}, flexibleVersions ${formatRange(spec.flexibleVersions)}` +
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

  const also = spec.bridgedFrom === null
    ? null
    : `bridged versions ${formatRange(spec.bridgedVersions)} (which ${kafkaVersion} dropped) from ${spec.bridgedFrom}`
  const head: string[] = [banner(kafkaVersion, `common/message/${spec.file}`, undefined, also)]
  const sorted = (set: Set<string>): string => [...set].sort((a, b) => a.localeCompare(b, 'en')).join(', ')
  head.push(`import { ${sorted(ctx.imports.reader)} } from '../primitives/reader.ts'`)
  if (ctx.imports.readerTypes.size > 0) head.push(`import type { ${sorted(ctx.imports.readerTypes)} } from '../primitives/reader.ts'`)
  head.push(`import { ${sorted(ctx.imports.writer)} } from '../primitives/writer.ts'`)
  head.push('import type { MessageCodec, MessageSchema } from \'../primitives/message-codec.ts\'')
  head.push('')
  return head.join('\n') + ctx.out.join('\n') + '\n'
}
