import t from 'tap'
import { parseQuotasFile } from '../../src/policy/quota-config.ts'
import { resolveQuotas } from '../../src/policy/quota-resolver.ts'

// One limit (connections) at each of Kafka's eight levels, with a distinct value per level.
const ALL_LEVELS = parseQuotasFile(`
entities:
  - { clientId: "*", connections: 8 }
  - { clientId: app, connections: 7 }
  - { user: "*", connections: 6 }
  - { user: "*", clientId: "*", connections: 5 }
  - { user: "*", clientId: app, connections: 4 }
  - { user: alice, connections: 3 }
  - { user: alice, clientId: "*", connections: 2 }
  - { user: alice, clientId: app, connections: 1 }
`, 'q.yaml')

t.test("Kafka's precedence, most specific first", async t => {
  const limit = (user: string, client: string): number | undefined => resolveQuotas(ALL_LEVELS, user, client).connections?.limit
  t.equal(limit('alice', 'app'), 1)
  t.equal(limit('alice', 'other'), 2)
  t.equal(limit('bob', 'app'), 4)
  t.equal(limit('bob', 'other'), 5)
  const dropLevel = (n: number): number | undefined => {
    const rules = { ...ALL_LEVELS, entities: ALL_LEVELS.entities.filter(e => e.connections! > n) }
    return resolveQuotas(rules, 'alice', 'app').connections?.limit
  }
  t.same([1, 2, 3, 4, 5, 6, 7].map(dropLevel), [2, 3, 4, 5, 6, 7, 8], 'each level falls back to the next')
})

t.test('buckets follow the winning entry: per user, per client, per pair', async t => {
  const q = parseQuotasFile(`
entities:
  - { user: "*", produceBytesPerSecond: 100, requests: [{ apis: [Metadata], perSecond: 9 }, { apis: [JoinGroup, SyncGroup], perMinute: 30 }] }
  - { user: alice, fetchBytesPerSecond: 50 }
  - { clientId: "*", requestsPerSecond: 10 }
  - { user: alice, clientId: app, requests: [{ apis: [Metadata], perSecond: 5 }] }
`, 'q.yaml')
  const a1 = resolveQuotas(q, 'alice', 'app')
  const a2 = resolveQuotas(q, 'alice', 'other')
  const b1 = resolveQuotas(q, 'bob', 'app')
  t.equal(a1.produce!.perSecond, 100)
  t.same([a1.produce!.user, a1.produce!.clientId], ['alice', null])
  t.equal(a1.produce!.bucket, a2.produce!.bucket, 'alice shares one produce bucket across client ids')
  t.not(a1.produce!.bucket, b1.produce!.bucket, 'bob has his own')
  t.equal(a1.requests!.bucket, b1.requests!.bucket, 'a client-id-level limit is shared by users of that client id')
  t.same([a1.requests!.user, a1.requests!.clientId], [null, 'app'])
  t.equal(b1.fetch, null, 'bob has no fetch limit')
  t.same(a1.requestGroups.map(g => [g.kind, g.perSecond, g.where.replace(/^q\.yaml:(\d+):\d+.*/, '$1')]), [
    ['requests:Metadata/second', 5, '6'], ['requests:JoinGroup+SyncGroup/minute', 0.5, '3']
  ], 'each request group resolves on its own')
  t.same(a2.requestGroups.map(g => g.perSecond), [9, 0.5])
  t.equal(a1.requestGroups[1]!.windowMs, 6000, 'a per-minute limit: 11 samples over about a minute')
  t.match(a1.requestGroups[0]!.bucket, /^requests:Metadata\/second\|1000\|u="alice"\|c="app"$/)
})
