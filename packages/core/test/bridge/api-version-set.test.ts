import t from 'tap'
import { ApiVersionSet, unpackApiVersion } from '../../src/bridge/api-version-set.ts'
import { MAX_API_KEYS, MAX_VERSIONS } from '../../src/metrics/metrics-registry.ts'

t.test('a bitset of (API key, version) pairs: set, read, packed across threads, united', async t => {
  const s = new ApiVersionSet()
  t.equal(s.empty, true)
  t.same(s.toPacked(), [])
  s.add(0, 2)
  s.add(1, 3)
  s.add(0, 2)
  s.add(MAX_API_KEYS - 1, MAX_VERSIONS - 1)
  s.add(MAX_API_KEYS, 0) // outside the table: ignored
  s.add(5, -1)
  t.equal(s.empty, false)
  t.ok(s.has(0, 2) && s.has(1, 3) && !s.has(0, 3))
  const packed = s.toPacked()
  t.same(packed, [2, MAX_VERSIONS + 3, MAX_API_KEYS * MAX_VERSIONS - 1])
  t.same(unpackApiVersion(packed[1]!), { apiKey: 1, apiVersion: 3 })
  const other = ApiVersionSet.fromPacked([MAX_VERSIONS * 18 + 3])
  other.addAll(s)
  t.same(other.toPacked(), [2, MAX_VERSIONS + 3, MAX_VERSIONS * 18 + 3, MAX_API_KEYS * MAX_VERSIONS - 1])
})
