// Finds the values of a decoded message that Kafka's definitions mark with an entityType
// ("topicName", "groupId", "transactionalId", "brokerId", ...), by walking the message's schema:
// one generic answer to "which topics does this request touch?" for every API and version,
// instead of a hand-written case per API. Slow path: for filters that decoded a body anyway.
import type { FieldSchema, MessageSchema } from './primitives/message-codec.ts'

// Collects every non-null string value with that entity type in the fields that exist at
// `version` (in message order, duplicates kept).
export function collectEntities (schema: MessageSchema, body: unknown, entityType: string, version: number): string[] {
  const out: string[] = []
  walk(schema, schema.fields, body, entityType, version, out)
  return out
}

// "0+", "2-7", "3", "none" / "" as in Kafka's definitions.
export function inVersions (spec: string | undefined, v: number): boolean {
  if (spec === undefined || spec === '' || spec === 'none') return false
  if (spec.endsWith('+')) return v >= Number(spec.slice(0, -1))
  const dash = spec.indexOf('-')
  if (dash > 0) return v >= Number(spec.slice(0, dash)) && v <= Number(spec.slice(dash + 1))
  return v === Number(spec)
}

function walk (schema: MessageSchema, fields: readonly FieldSchema[], value: unknown, entityType: string, version: number, out: string[]): void {
  if (value === null || typeof value !== 'object') return
  const o = value as Record<string, unknown>
  for (const f of fields) {
    if (!inVersions(f.versions, version)) continue
    const v = o[f.prop]
    if (v === undefined || v === null) continue
    if (f.entityType === entityType) {
      if (typeof v === 'string') out.push(v)
      else if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') out.push(s)
      continue
    }
    const struct = structName(f.type)
    if (struct === null) continue
    const nested = schema.structs[struct]
    if (nested === undefined) continue
    if (Array.isArray(v)) for (const item of v) walk(schema, nested, item, entityType, version, out)
    else walk(schema, nested, v, entityType, version, out)
  }
}

// '[]TopicProduceData' -> 'TopicProduceData'; 'SomeStruct' -> 'SomeStruct'; primitives -> null
function structName (type: string): string | null {
  const t = type.startsWith('[]') ? type.slice(2) : type
  return /^[A-Z]/.test(t) ? t : null
}
