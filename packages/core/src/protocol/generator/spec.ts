// The model of Kafka's JSON message definitions that the emitters work from, and the rules that
// Kafka's own generator applies to them:
//   - version ranges: "3", "1-4", "2+", "none"; a nested field's versions are intersected with
//     those of the fields that contain it and with the message's validVersions
//   - a type is a primitive, a struct (inline `fields` or a `commonStructs` entry), or `[]` of one
//   - tagged fields (`tag`, `taggedVersions`) live only in the tagged-field section of flexible
//     versions; their `versions` must equal their `taggedVersions`
//   - `default`: for numbers decimal or 0x-hex; bool true/false; strings and arrays may be "null"
import { KproxyError } from '../../kproxy-error.ts'

export const MAX_VERSION = 0x7fff

export interface Range {
  lo: number
  hi: number // lo > hi: empty
}

export const NO_VERSIONS: Range = { lo: 1, hi: 0 }
export const ALL_VERSIONS: Range = { lo: 0, hi: MAX_VERSION }

export type Primitive = 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'float64' | 'bool' | 'string' | 'bytes' | 'records' | 'uuid'
const PRIMITIVES = new Set<string>(['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'bool', 'string', 'bytes', 'records', 'uuid'])

export interface FieldSpec {
  name: string
  prop: string // camelCase property name, as Kafka's JSON converters name it
  type: string // as written in the definition, e.g. "[]int32"
  isArray: boolean
  elem: Primitive | 'struct'
  structName: string | null
  versions: Range
  nullableVersions: Range
  tag: number | null
  flexibleVersions: Range | null // a field-level override (RequestHeader.ClientId: "none")
  defaultText: string | null
  about: string
  entityType: string | null
}

export interface StructSpec {
  name: string
  fields: FieldSpec[]
  common: boolean
  // hull of the versions in which the struct can occur (from its uses); lets the emitter drop
  // version tests that are always true there
  context: Range
}

export interface MessageSpec {
  file: string
  name: string
  type: 'request' | 'response' | 'header' | 'data'
  apiKey: number | null
  validVersions: Range // what the pinned release supports (the API table's range)
  // The versions the codec reads and writes: validVersions plus the bridged ones (the older
  // versions the last 3.x release had and the pinned release dropped, merged in by
  // merge-old-versions.ts). Equal to validVersions for a message with nothing bridged.
  codecVersions: Range
  bridgedVersions: Range
  // The definition the bridged versions come from, e.g. "kafka-clients-3.9.2.jar common/message/X.json".
  bridgedFrom: string | null
  flexibleVersions: Range
  listeners: string[]
  latestVersionUnstable: boolean
  fields: FieldSpec[]
  structs: StructSpec[] // every struct the message uses, in definition order
}

export function specError (where: string, what: string): never {
  throw new KproxyError('KPROXY_ERR_GENERATOR', `${where}: ${what}; the message definitions are not what this generator understands.`)
}

export function parseVersions (text: unknown, where: string): Range {
  if (text === undefined || text === 'none') return NO_VERSIONS
  if (typeof text !== 'string') specError(where, `versions ${JSON.stringify(text)} is not a string`)
  let m = /^(\d+)\+$/.exec(text)
  if (m) return { lo: Number(m[1]), hi: MAX_VERSION }
  m = /^(\d+)-(\d+)$/.exec(text)
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) }
  m = /^(\d+)$/.exec(text)
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) }
  return specError(where, `cannot parse versions "${text}"`)
}

export function isEmpty (r: Range): boolean {
  return r.lo > r.hi
}

export function intersect (a: Range, b: Range): Range {
  const r = { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) }
  return isEmpty(r) ? NO_VERSIONS : r
}

export function hull (a: Range, b: Range): Range {
  if (isEmpty(a)) return b
  if (isEmpty(b)) return a
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) }
}

export function contains (outer: Range, inner: Range): boolean {
  return isEmpty(inner) || (outer.lo <= inner.lo && inner.hi <= outer.hi)
}

export function formatRange (r: Range): string {
  if (isEmpty(r)) return 'none'
  if (r.hi === MAX_VERSION) return `${r.lo}+`
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`
}

export function lowerFirst (s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

interface RawField {
  name?: unknown, type?: unknown, versions?: unknown, nullableVersions?: unknown, taggedVersions?: unknown, tag?: unknown
  flexibleVersions?: unknown, default?: unknown, about?: unknown, entityType?: unknown, fields?: unknown
}

interface RawMessage {
  name?: unknown, type?: unknown, apiKey?: unknown, validVersions?: unknown, flexibleVersions?: unknown, listeners?: unknown
  latestVersionUnstable?: unknown, fields?: unknown, commonStructs?: unknown
}

export function parseMessage (raw: unknown, file: string): MessageSpec {
  const m = raw as RawMessage
  if (typeof m !== 'object' || m === null || typeof m.name !== 'string') specError(file, 'no message name')
  const type = m.type
  if (type !== 'request' && type !== 'response' && type !== 'header' && type !== 'data') specError(file, `unknown message type ${String(type)}`)
  const validVersions = parseVersions(m.validVersions, `${file} validVersions`)
  const spec: MessageSpec = {
    file,
    name: m.name,
    type,
    apiKey: typeof m.apiKey === 'number' ? m.apiKey : null,
    validVersions,
    codecVersions: validVersions,
    bridgedVersions: NO_VERSIONS,
    bridgedFrom: null,
    flexibleVersions: parseVersions(m.flexibleVersions, `${file} flexibleVersions`),
    listeners: Array.isArray(m.listeners) ? m.listeners.map(String) : [],
    latestVersionUnstable: m.latestVersionUnstable === true,
    fields: [],
    structs: []
  }
  if ((type === 'request' || type === 'response') && spec.apiKey === null) specError(file, 'a request or response without apiKey')

  // Common structs first, so that fields can refer to them; their contexts grow with each use.
  const byName = new Map<string, StructSpec>()
  const commonRaw = Array.isArray(m.commonStructs) ? m.commonStructs as Array<{ name?: unknown, fields?: unknown }> : []
  for (const cs of commonRaw) {
    if (typeof cs.name !== 'string' || !Array.isArray(cs.fields)) specError(file, 'a common struct without name or fields')
    const s: StructSpec = { name: cs.name, fields: [], common: true, context: NO_VERSIONS }
    byName.set(s.name, s)
  }
  const ordered: StructSpec[] = []

  const parseFields = (list: unknown, where: string): FieldSpec[] => {
    if (!Array.isArray(list)) specError(where, 'fields is not an array')
    const out: FieldSpec[] = []
    const tags = new Set<number>()
    for (const rf of list as RawField[]) {
      if (typeof rf.name !== 'string' || typeof rf.type !== 'string') specError(where, 'a field without name or type')
      const at = `${where}.${rf.name}`
      const isArray = rf.type.startsWith('[]')
      const base = isArray ? rf.type.slice(2) : rf.type
      const versions = parseVersions(rf.versions, `${at} versions`)
      const f: FieldSpec = {
        name: rf.name,
        prop: lowerFirst(rf.name),
        type: rf.type,
        isArray,
        elem: PRIMITIVES.has(base) ? base as Primitive : 'struct',
        structName: PRIMITIVES.has(base) ? null : base,
        versions,
        nullableVersions: intersect(parseVersions(rf.nullableVersions, `${at} nullableVersions`), versions),
        tag: null,
        flexibleVersions: rf.flexibleVersions === undefined ? null : parseVersions(rf.flexibleVersions, `${at} flexibleVersions`),
        defaultText: rf.default === undefined ? null : String(rf.default),
        about: typeof rf.about === 'string' ? rf.about : '',
        entityType: typeof rf.entityType === 'string' ? rf.entityType : null
      }
      if (rf.tag !== undefined) {
        // Kafka's generator reads definitions with Jackson, which also takes a quoted number
        // (3.9's BrokerHeartbeatRequest has "tag": "0").
        const tag = typeof rf.tag === 'string' && /^\d+$/.test(rf.tag) ? Number(rf.tag) : rf.tag
        if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0) specError(at, 'tag is not a non-negative integer')
        const tagged = parseVersions(rf.taggedVersions, `${at} taggedVersions`)
        if (tagged.lo !== versions.lo || tagged.hi !== versions.hi) specError(at, 'taggedVersions differ from versions')
        if (!contains(spec.flexibleVersions, tagged)) specError(at, 'tagged outside the flexible versions')
        if (tags.has(tag)) specError(at, `tag ${tag} used twice`)
        tags.add(tag)
        f.tag = tag
      } else if (rf.taggedVersions !== undefined) {
        specError(at, 'taggedVersions without tag')
      }
      if (f.elem === 'records' && isArray) specError(at, 'arrays of records are not supported')
      if (f.structName !== null && rf.fields !== undefined) {
        if (byName.has(f.structName)) specError(at, `struct ${f.structName} is defined twice`)
        const s: StructSpec = { name: f.structName, fields: [], common: false, context: NO_VERSIONS }
        byName.set(s.name, s)
        ordered.push(s)
        s.fields = parseFields(rf.fields, `${file} ${f.structName}`)
      }
      out.push(f)
    }
    return out
  }

  spec.fields = parseFields(m.fields ?? [], file)
  for (const cs of commonRaw) (byName.get(cs.name as string) as StructSpec).fields = parseFields(cs.fields, `${file} ${cs.name as string}`)

  spec.structs = [...ordered, ...commonRaw.map(cs => byName.get(cs.name as string) as StructSpec)]
  computeContexts(spec)
  for (const s of spec.structs) if (s.name === spec.name + 'Data') specError(file, `struct ${s.name} collides with the message type`)
  return spec
}

// Where each struct can occur: the hull of (codec versions ∩ versions of every enclosing field).
export function computeContexts (spec: MessageSpec): void {
  const byName = new Map(spec.structs.map(s => [s.name, s]))
  for (const s of spec.structs) s.context = NO_VERSIONS
  const widen = (fields: FieldSpec[], context: Range, depth: number): void => {
    if (depth > 32) specError(spec.file, 'structs nest more than 32 deep (a struct contains itself?)')
    for (const f of fields) {
      if (f.structName === null) continue
      const s = byName.get(f.structName)
      if (s === undefined) specError(`${spec.file} ${f.name}`, `unknown struct type ${f.structName}`)
      const inner = intersect(context, f.versions)
      s.context = hull(s.context, inner)
      widen(s.fields, inner, depth + 1)
    }
  }
  widen(spec.fields, spec.codecVersions, 0)
}
