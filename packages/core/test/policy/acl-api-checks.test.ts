// The table is data about generated messages: every API key has an entry, and every path names
// fields that exist, with the right types, in every version the check applies to.
import t from 'tap'
import { API_TABLE } from '../../src/protocol/api-keys.ts'
import type { FieldSchema, MessageSchema } from '../../src/protocol/primitives/message-codec.ts'
import { API_ACL_TABLE, aclChecksFor, hasAclEntry } from '../../src/policy/acl-api-checks.ts'
import type { AclCheck } from '../../src/policy/acl-api-checks.ts'
import { SUPPORTED_OPERATIONS } from '../../src/policy/acl-operations.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'
import { ErrorCode } from '../../src/protocol/codec.ts'

function inVersions (spec: string, v: number): boolean {
  if (spec === 'none' || spec === '') return false
  if (spec.endsWith('+')) return v >= Number(spec.slice(0, -1))
  const [lo, hi] = spec.split('-').map(Number)
  return hi === undefined ? v === lo : v >= lo! && v <= hi
}

// The type of the last field of `path` at version v, or why it cannot be walked.
function walk (schema: MessageSchema, path: string, v: number): string | { error: string } {
  let fields: readonly FieldSchema[] = schema.fields
  let type = ''
  const parts = path.split('.')
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    const list = part.endsWith('[]')
    const prop = list ? part.slice(0, -2) : part
    const f = fields.find(x => x.prop === prop)
    if (f === undefined) return { error: `no field '${prop}'` }
    if (!inVersions(f.versions, v)) return { error: `'${prop}' not in version ${v}` }
    type = f.type
    if (list) {
      if (!type.startsWith('[]')) return { error: `'${prop}' is not a list` }
      type = type.slice(2)
    }
    if (i < parts.length - 1) {
      const struct = schema.structs[type]
      if (struct === undefined) return { error: `'${prop}' (${type}) is not a struct` }
      fields = struct
    }
  }
  return type
}

function paths (c: AclCheck): Array<[string, string[]]> {
  const s = c.scope
  switch (s.kind) {
    case 'cluster': return []
    case 'field': case 'each': return [[s.path, ['string']]]
    case 'topics': {
      const out: Array<[string, string[]]> = []
      if (s.name !== undefined) out.push([s.name, ['string']])
      if (s.id !== undefined) out.push([s.id, ['uuid']])
      if (s.partitions !== undefined) out.push([s.partitions, ['int32']])
      return out
    }
    case 'config-resources': return [[`${s.path.replace(/\[\]$/, '[]')}.resourceType`, ['int8']], [`${s.path}.resourceName`, ['string']]]
    case 'principal': return [[s.type, ['string']], [s.name, ['string']]]
  }
}

t.test('every API key of the pinned release is in the table, once', async t => {
  const keys = API_ACL_TABLE.map(([k]) => k)
  t.equal(new Set(keys).size, keys.length, 'no key twice')
  for (const api of API_TABLE) {
    if (api === undefined) continue
    t.ok(hasAclEntry(api.apiKey), `${api.name} (${api.apiKey}) is classified`)
  }
  t.equal(aclChecksFor(9999, 0), null, 'an unknown key: null, for the filter to refuse')
})

t.test('every path exists with its type in every version it applies to', async t => {
  for (const [key, checks] of API_ACL_TABLE) {
    const api = API_TABLE[key]!
    if (api.minVersion < 0) continue
    for (const c of checks) {
      t.ok(SUPPORTED_OPERATIONS[c.resource].includes(c.operation), `${api.name}: ${c.operation} applies to ${c.resource}`)
      const schema = c.side === 'response' ? api.response.schema : api.request.schema
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        if (c.versions !== undefined && (v < c.versions[0] || v > c.versions[1])) continue
        const results = paths(c).map(([path, types]) => ({ path, types, got: walk(schema, path, v) }))
        if (c.scope.kind === 'topics') {
          // name and id are alternatives (Produce v13 and Fetch v13 carry only ids)
          const named = results.filter(r => r.types[0] !== 'int32')
          t.ok(named.some(r => typeof r.got === 'string'), `${api.name} v${v}: a topic name or id path resolves (${named.map(r => r.path).join(', ')})`)
          for (const r of results) if (typeof r.got === 'string') t.ok(r.types.includes(r.got), `${api.name} v${v} ${r.path}: ${r.got}`)
          const parts = results.find(r => r.types[0] === 'int32')
          if (parts !== undefined) t.equal(parts.got, 'int32', `${api.name} v${v} ${parts.path}`)
        } else {
          for (const r of results) t.ok(typeof r.got === 'string' && r.types.includes(r.got), `${api.name} v${v} ${r.path}: ${JSON.stringify(r.got)}`)
        }
      }
    }
  }
})

t.test('what the filter loops over, per key and version', async t => {
  const produce = aclChecksFor(ApiKey.Produce, 9)!
  t.same(produce.map(c => [c.operation, c.resource, c.onDeny]), [['Write', 'transactionalId', 'fail-request'], ['Write', 'topic', 'fail-entry']])
  t.equal(produce[1]!.error, ErrorCode.TOPIC_AUTHORIZATION_FAILED)
  t.equal(aclChecksFor(ApiKey.Produce, 9), produce, 'the same array again: nothing allocated per request')
  t.same(aclChecksFor(ApiKey.OffsetFetch, 7)!.map(c => c.resource), ['group', 'topic'])
  t.same(aclChecksFor(ApiKey.OffsetFetch, 8)!.map(c => c.scope.kind), ['each', 'topics'])
  t.same(aclChecksFor(ApiKey.JoinGroup, 9)!.map(c => [c.operation, c.error]), [['Read', ErrorCode.GROUP_AUTHORIZATION_FAILED]])
  t.same(aclChecksFor(ApiKey.ApiVersions, 3), [])
  t.same(aclChecksFor(ApiKey.LeaderAndIsr, 7)!.map(c => c.operation), ['ClusterAction'])
  t.same(aclChecksFor(ApiKey.InitProducerId, 6)!.map(c => [c.operation, c.when, c.unlessAnyTopic]), [
    ['Write', 'has-transactional-id', undefined], ['TwoPhaseCommit', 'two-phase-commit', undefined], ['IdempotentWrite', 'no-transactional-id', 'Write']
  ])
})
