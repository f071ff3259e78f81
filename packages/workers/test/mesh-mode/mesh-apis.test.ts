import t from 'tap'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { handlerFor, meshVersions } from '../../src/mesh-mode/mesh-apis.ts'

const range = (v: ReturnType<typeof meshVersions>, k: number): [number, number] | null => {
  const r = v.find(x => x.apiKey === k)
  return r === undefined ? null : [r.minVersion, r.maxVersion]
}

t.test('with no cluster known: kproxy\'s handlers and caps', async t => {
  const v = meshVersions([], [], [])
  t.same(range(v, ApiKey.Produce), [0, 12], 'Produce from 0 (as brokers list it), capped at 12: topics by name')
  t.same(range(v, ApiKey.Fetch)?.[1], 12)
  t.same(range(v, ApiKey.OffsetFetch)?.[1], 7)
  t.same(range(v, ApiKey.AddPartitionsToTxn)?.[1], 3)
  t.equal(range(v, ApiKey.ConsumerGroupHeartbeat), null, 'no KIP-848 protocol: clients use the classic one')
  t.equal(range(v, ApiKey.SaslHandshake), null)
  for (const r of v) t.not(handlerFor(r.apiKey), null, `a handler for key ${r.apiKey}`)
})

t.test('intersection with every cluster; kproxy\'s own answers stay', async t => {
  const a = [{ apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 13 }, { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 17 }, { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 13 }]
  const b = [{ apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 9 }, { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 11 }, { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 }]
  const v = meshVersions([a, null, b], [], [])
  t.same(range(v, ApiKey.Produce), [3, 9])
  t.same(range(v, ApiKey.Fetch), [4, 11])
  t.same(range(v, ApiKey.Metadata)?.[1], 12)
  t.equal(range(v, ApiKey.ListOffsets), null, 'an API a cluster does not list is not offered')
  t.not(range(v, ApiKey.ApiVersions), null, 'ApiVersions: kproxy answers it')
  t.not(range(v, ApiKey.FindCoordinator), null)
  t.not(range(v, ApiKey.DescribeCluster), null)
})

t.test('apiKeysAllowed / apiKeysDenied narrow the offer', async t => {
  t.equal(range(meshVersions([], [], [ApiKey.DeleteTopics]), ApiKey.DeleteTopics), null)
  const only = meshVersions([], [ApiKey.Metadata, ApiKey.Produce], [])
  t.same(only.map(r => r.apiKey).sort((x, y) => x - y), [ApiKey.Produce, ApiKey.Metadata, ApiKey.ApiVersions].sort((x, y) => x - y))
})

t.test('SASL termination: SaslHandshake and SaslAuthenticate offered (the session answers them, no handler routes them), whatever the clusters and API key lists say', async t => {
  const cluster = [{ apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 13 }]
  const v = meshVersions([cluster], [ApiKey.Produce], [], true)
  t.same(range(v, ApiKey.SaslHandshake), [0, 1])
  t.same(range(v, ApiKey.SaslAuthenticate)?.[0], 0)
  t.ok((range(v, ApiKey.SaslAuthenticate)?.[1] ?? -1) >= 1)
  t.equal(handlerFor(ApiKey.SaslHandshake), null, 'never routed')
  t.same(v.map(r => r.apiKey), [...v.map(r => r.apiKey)].sort((a, b) => a - b), 'in key order')
  t.equal(range(meshVersions([cluster], [], []), ApiKey.SaslAuthenticate), null, 'not without termination')
})
