import t from 'tap'
import { parseQuotas, parseQuotasFile } from '../../src/policy/quota-config.ts'
import { configSource } from '../../src/policy/policy-source.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'

t.test('a complete file', async t => {
  const q = parseQuotasFile(`
window: { samples: 11, seconds: 1 }
maxThrottleMs: 20000
entities:
  - user: "*"
    produceBytesPerSecond: 10MiB
    requests:
      - { apis: [SyncGroup, JoinGroup], perMinute: 30 }
  - user: alice
    produceBytesPerSecond: 5MB
    requests:
      - { apis: Metadata, perSecond: 50 }
  - user: alice
    clientId: reporting
    fetchBytesPerSecond: 1048576
  - clientId: "*"
    connections: 20
    connectionsPerSecond: 5
    partitionsPerRequest: 1000
    requestsPerSecond: 500
`, 'quotas.yaml')
  t.equal(q.samples, 11)
  t.equal(q.windowMs, 1000)
  t.equal(q.maxThrottleMs, 20000)
  t.equal(q.entities.length, 4)
  t.match(q.entities[0], { user: '*', produceBytesPerSecond: 10 * 2 ** 20, requests: [{ apiKeys: [ApiKey.JoinGroup, ApiKey.SyncGroup], apiNames: ['JoinGroup', 'SyncGroup'], perSecond: 0.5, unit: 'minute' }] })
  t.match(q.entities[1], { user: 'alice', produceBytesPerSecond: 5e6, requests: [{ apiKeys: [ApiKey.Metadata], perSecond: 50 }] })
  t.equal(q.entities[1]!.where, 'quotas.yaml:9:5: entities[1]')
  t.match(q.entities[3], { clientId: '*', connections: 20, connectionsPerSecond: 5, partitionsPerRequest: 1000, requestsPerSecond: 500 })
  t.same(parseQuotasFile('', 'e.yaml').entities, [])
})

t.test('from the config, with the keys that belong to the config', async t => {
  const q = parseQuotas(configSource({ file: '/x.yaml', entities: [{ user: 'a', connections: 1 }] }, 'kproxy.yaml', 'policy.quotas'), ['file'])
  t.equal(q.entities[0]!.where, 'kproxy.yaml: policy.quotas.entities[0]')
})

t.test('errors: all of them, with place and what is allowed', async t => {
  const cases: Array<[string, RegExp[]]> = [
    ['entities:\n  - user: a\n    produceBytesPerSecond: 5 parsecs\n', [/3:28: entities\[0\]\.produceBytesPerSecond: got '5 parsecs'; allowed: a number above 0 of bytes, optionally with a unit/]],
    ['entities:\n  - user: a\n    requests: [{ apis: [Metadta], perSecond: 5 }]\n', [/entities\[0\]\.requests\[0\]\.apis\[0\]: unknown API 'Metadta'/]],
    ['entities:\n  - user: a\n    requests: [{ apis: [Metadata], perSecond: 5, perMinute: 3 }]\n', [/give exactly one of perSecond and perMinute/]],
    ['entities:\n  - produceBytesPerSecond: 5\n', [/an entry names a user, a clientId or both/]],
    ['entities:\n  - user: a\n', [/an entry sets at least one limit/]],
    ['entities:\n  - user: a\n    connections: 1\n  - user: a\n    connections: 2\n', [/4:5: entities\[1\]: this user\/clientId pair is already set at quotas\.yaml:2:5/]],
    ['entities:\n  - user: a\n    bandwidth: 1\n', [/3:5: entities\[0\]\.bandwidth: unknown key 'bandwidth'; allowed: user, clientId, produceBytesPerSecond/]],
    ['window: { samples: 1, seconds: 0 }\n', [/window\.samples: got 1; allowed: a whole number from 2 to 60/, /window\.seconds: got 0/]],
    ['entities: {}\n', [/entities: expected a list/]],
    ['entities:\n  - user: a\n    partitionsPerRequest: 0\n', [/partitionsPerRequest: got 0/]]
  ]
  for (const [text, patterns] of cases) {
    t.throws(() => parseQuotasFile(text, 'quotas.yaml'), { code: 'KPROXY_ERR_QUOTAS' })
    try { parseQuotasFile(text, 'quotas.yaml') } catch (err) { for (const p of patterns) t.match((err as Error).message, p, text) }
  }
})
