// "Partitions touched per request" for the quota filter's partitionsPerRequest limit: how many
// partitions a request names. A Produce request is counted by the records scanner, which walks the
// frame by its lengths and skips the record bytes (no decode, no copy); every other API that names
// partitions (Fetch, ListOffsets, OffsetCommit, OffsetFetch, DeleteRecords, OffsetForLeaderEpoch,
// TxnOffsetCommit, AddPartitionsToTxn, ...) is decoded and its partition lists are counted — found
// from Kafka's message definitions (a list field whose name says Partition), not a table per API.
// Only connections with a partitionsPerRequest limit pay for it.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { API_TABLE } from '@kproxy/core/protocol/generated/api-table'
import { inVersions } from '@kproxy/core/protocol/entity-walk'
import type { FieldSchema, MessageSchema } from '@kproxy/core/protocol/primitives/message-codec'
import { RecordsScanner } from '@kproxy/core/protocol/records-scan'
import type { RecordsVisitor } from '@kproxy/core/protocol/records-scan'
import type { FilterRequest } from '../filters/filter-api.ts'

const PARTITION_LIST = /partition/i

function listed (schema: MessageSchema, fields: readonly FieldSchema[], seen: Set<string>): boolean {
  for (const f of fields) {
    if (f.type.startsWith('[]') && PARTITION_LIST.test(f.name)) return true
    const struct = structName(f.type)
    if (struct === null || seen.has(struct)) continue
    seen.add(struct)
    const nested = schema.structs[struct]
    if (nested !== undefined && listed(schema, nested, seen)) return true
  }
  return false
}

// apiKey -> 1 when its requests can name partitions
const NAMES_PARTITIONS: Uint8Array = (() => {
  const out = new Uint8Array(API_TABLE.length)
  API_TABLE.forEach((api, k) => {
    if (api !== undefined && listed(api.request.schema, api.request.schema.fields, new Set())) out[k] = 1
  })
  return out
})()

export function namesPartitions (apiKey: number): boolean {
  return NAMES_PARTITIONS[apiKey] === 1
}

class Counter implements RecordsVisitor {
  n = 0
  onTopic (): void {}
  onPartition (): void { this.n++ }
}

const scanner = new RecordsScanner()
const counter = new Counter()

// The number of partitions `request` names (0 for an API that names none).
export function partitionsTouched (request: FilterRequest): number {
  if (!namesPartitions(request.apiKey)) return 0
  if (request.apiKey === ApiKey.Produce) {
    counter.n = 0
    if (scanner.produceRequest(request.frame, request.apiVersion, counter)) return counter.n
  }
  const api = API_TABLE[request.apiKey]!
  return count(api.request.schema, api.request.schema.fields, request.body, request.apiVersion)
}

function count (schema: MessageSchema, fields: readonly FieldSchema[], value: unknown, version: number): number {
  if (value === null || typeof value !== 'object') return 0
  const o = value as Record<string, unknown>
  let n = 0
  for (const f of fields) {
    if (!inVersions(f.versions, version)) continue
    const v = o[f.prop]
    if (v === undefined || v === null) continue
    if (Array.isArray(v) && f.type.startsWith('[]') && PARTITION_LIST.test(f.name)) {
      n += v.length
      continue
    }
    const struct = structName(f.type)
    if (struct === null) continue
    const nested = schema.structs[struct]
    if (nested === undefined) continue
    if (Array.isArray(v)) for (const item of v) n += count(schema, nested, item, version)
    else n += count(schema, nested, v, version)
  }
  return n
}

// '[]TopicProduceData' -> 'TopicProduceData'; primitives -> null
function structName (type: string): string | null {
  const t = type.startsWith('[]') ? type.slice(2) : type
  return /^[A-Z]/.test(t) ? t : null
}
