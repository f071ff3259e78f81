// Fills in the JSON Schema defaults of a validated value (each default is written once, in the
// schema). A group that is absent stays absent: its presence can mean something (tls, sni).
import Value from 'typebox/value'
import type { Static, TSchema } from 'typebox'

export function withDefaults<T extends TSchema> (schema: T, value: unknown): Static<T> {
  return Value.Default(schema, structuredClone(value)) as Static<T>
}
