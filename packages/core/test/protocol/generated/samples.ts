// Builds sample messages from a codec's schema (the definition kept as data): every field that is
// valid in the version gets a value different from its default, arrays get two elements, tagged
// fields are set, and in the 'nulls' variant every field nullable in that version is null.
// Fields not valid in the version keep their defaults, which is what decoding gives back.
import type { FieldSchema, MessageCodec, MessageSchema } from '../../../src/protocol/primitives/message-codec.ts'

export type Variant = 'full' | 'nulls'

export interface VersionRange { lo: number, hi: number }

export function parseRange (text: string | undefined): VersionRange {
  if (text === undefined || text === 'none') return { lo: 1, hi: 0 }
  if (text.endsWith('+')) return { lo: Number(text.slice(0, -1)), hi: 0x7fff }
  const [a, b] = text.split('-')
  return { lo: Number(a), hi: Number(b ?? a) }
}

export function inRange (r: VersionRange, v: number): boolean {
  return v >= r.lo && v <= r.hi
}

// The versions of the pinned release ('supported'), or the older bridged ones ('bridged').
export function versionsOf (schema: MessageSchema, which: 'supported' | 'bridged' = 'supported'): number[] {
  const r = parseRange(which === 'supported' ? schema.validVersions : schema.bridgedVersions)
  const out: number[] = []
  for (let v = r.lo; v <= r.hi; v++) out.push(v)
  return out
}

const PRIMITIVES = new Set(['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'bool', 'string', 'bytes', 'records', 'uuid'])

export class SampleBuilder {
  private n = 0
  readonly schema: MessageSchema
  readonly version: number
  readonly variant: Variant
  readonly flexible: boolean
  // Size of `records` values: large ones exercise the writer's by-reference chunks.
  recordsSize = 24
  private codec: MessageCodec<any> | null = null

  constructor (schema: MessageSchema, version: number, variant: Variant) {
    this.schema = schema
    this.version = version
    this.variant = variant
    this.flexible = inRange(parseRange(schema.flexibleVersions), version)
  }

  build (codec: MessageCodec<any>): any {
    this.codec = codec
    return this.struct(this.schema.fields, codec.create())
  }

  private next (): number {
    return ++this.n
  }

  // Fills `target` (an object at its defaults, from create()) field by field.
  struct (fields: readonly FieldSchema[], target: any): any {
    for (const f of fields) {
      if (!inRange(parseRange(f.versions), this.version)) continue
      const nullable = inRange(parseRange(f.nullableVersions), this.version)
      if (nullable && this.variant === 'nulls') {
        target[f.prop] = null
        continue
      }
      // A tagged field in the 'nulls' variant stays at its default: it is not written at all.
      if (f.tag !== undefined && this.variant === 'nulls') continue
      target[f.prop] = this.value(f, target[f.prop])
    }
    return target
  }

  private value (f: FieldSchema, current: any): any {
    if (f.type.startsWith('[]')) {
      const elem = f.type.slice(2)
      return [this.element(elem, f), this.element(elem, f)]
    }
    return this.element(f.type, f, current)
  }

  private element (type: string, f: FieldSchema, current?: any): any {
    const k = this.next()
    switch (type) {
      case 'int8': return differ(current, (k % 100) + 1, -5)
      case 'int16': return differ(current, 1000 + k, -1000 - k)
      case 'uint16': return differ(current, 60000 + k, 7)
      case 'int32': return differ(current, 100000 + k * 7, -100000 - k)
      case 'uint32': return differ(current, 4000000000 + k, 9)
      case 'int64': return differ(current, 1234567890123n + BigInt(k), -98765432101n)
      case 'float64': return differ(current, 0.5 + k, -2.25)
      case 'bool': return current === undefined ? k % 2 === 0 : !current
      case 'string': return `${f.name}-${k}-ü€`
      case 'bytes': return Buffer.from([k & 0xff, 0, 0xff, 0x80, 3])
      case 'records': {
        const b = Buffer.alloc(this.recordsSize)
        for (let i = 0; i < b.length; i++) b[i] = (i * 31 + k) & 0xff
        return b
      }
      case 'uuid': {
        const b = Buffer.alloc(16)
        for (let i = 0; i < 16; i++) b[i] = (k * 17 + i * 29) & 0xff
        return b.toString('base64url')
      }
    }
    if (PRIMITIVES.has(type)) throw new Error(`unhandled primitive ${type}`)
    const fields = this.schema.structs[type]
    if (fields === undefined) throw new Error(`${this.schema.name}: unknown struct ${type}`)
    const create = this.codec?.structs[type]
    return this.struct(fields, create !== undefined ? create() : createStruct(this.schema, type))
  }

  // Unknown tagged fields for a struct: tags no known field of the struct uses (Kafka refuses a
  // known tag outside its taggedVersions, so those are avoided too).
  unknownTags (fields: readonly FieldSchema[], salt: number): Array<{ tag: number, data: Buffer }> {
    const used = new Set(fields.filter(f => f.tag !== undefined).map(f => f.tag as number))
    let low = 0
    while (used.has(low)) low++
    return [
      { tag: low, data: Buffer.from([salt, 1, 2]) },
      { tag: 1000 + salt, data: Buffer.alloc(0) }
    ]
  }
}

function differ<T> (current: T | undefined, value: T, other: T): T {
  return current === value ? other : value
}

// A struct with every field at its default, computed from the schema alone: an independent
// check of the generated create functions.
export function createStruct (schema: MessageSchema, name: string): any {
  const o: any = {}
  for (const f of schema.structs[name]) o[f.prop] = defaultOf(schema, f)
  return o
}

export function defaultOf (schema: MessageSchema, f: FieldSchema): any {
  const d = f.default
  if (d === 'null') return null
  if (f.type.startsWith('[]')) return []
  switch (f.type) {
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'uint32':
      return d === undefined ? 0 : Number(d.startsWith('-0x') ? -parseInt(d.slice(1), 16) : d)
    case 'int64': return d === undefined ? 0n : BigInt(d)
    case 'float64': return d === undefined ? 0 : Number(d)
    case 'bool': return d !== undefined && d.toLowerCase() === 'true'
    case 'string': return d ?? ''
    case 'uuid': return 'AAAAAAAAAAAAAAAAAAAAAA'
    case 'bytes': return Buffer.alloc(0)
    case 'records': return null
    default: return createStruct(schema, f.type)
  }
}

// Adds unknown tagged fields to the message and to the first struct element found inside it
// (depth-first), for a flexible version. Returns how many structs got them.
export function injectUnknownTags (b: SampleBuilder, message: any): number {
  if (!b.flexible) return 0
  message._unknownTaggedFields = b.unknownTags(b.schema.fields, 1)
  let injected = 1
  const visit = (fields: readonly FieldSchema[], o: any): boolean => {
    for (const f of fields) {
      if (!inRange(parseRange(f.versions), b.version)) continue
      const type = f.type.startsWith('[]') ? f.type.slice(2) : f.type
      const sub = b.schema.structs[type]
      if (sub === undefined) continue
      const value = o[f.prop]
      const first = Array.isArray(value) ? value[0] : value
      if (first === null || first === undefined) continue
      first._unknownTaggedFields = b.unknownTags(sub, 2)
      return true
    }
    return false
  }
  if (visit(b.schema.fields, message)) injected++
  return injected
}
