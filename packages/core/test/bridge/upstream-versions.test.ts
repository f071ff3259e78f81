// What the upstream accepts, from its brokers' ApiVersions answers: the bridge's targets.
import t from 'tap'
import { ANSWER_TTL_MS, UpstreamVersions } from '../../src/bridge/upstream-versions.ts'
import { ApiKey, supportedVersions } from '../../src/protocol/api-keys.ts'
import type { VersionRange } from '../../src/protocol/api-keys.ts'

// Kafka 4.3.1's answer as a broker sends it: Produce advertised from v0 (KAFKA-18659)
const kafka4 = (): VersionRange[] => supportedVersions().map(r => r.apiKey === ApiKey.Produce ? { ...r, minVersion: 0 } : r)
// a Kafka 3.9-like answer: every old version still there, a lower Fetch maximum
const kafka39 = (): VersionRange[] => supportedVersions().map(r =>
  r.apiKey === ApiKey.Produce ? { ...r, minVersion: 0, maxVersion: 11 }
    : r.apiKey === ApiKey.Fetch ? { ...r, minVersion: 0, maxVersion: 17 }
      : r.apiKey === ApiKey.ListOffsets ? { ...r, minVersion: 0 } : r)

t.test('before any answer the pinned release stands in for the upstream', async t => {
  const u = new UpstreamVersions()
  t.equal(u.known, false)
  t.equal(u.ranges(), null)
  t.equal(u.accepts(ApiKey.Fetch, 3), false)
  t.equal(u.accepts(ApiKey.Fetch, 4), true)
  t.equal(u.target(ApiKey.Fetch, 3), 4)
  t.equal(u.target(ApiKey.Produce, 0), 3)
  t.equal(u.target(ApiKey.Fetch, 12), -1, 'a version it accepts needs no target')
})

t.test('a Kafka 4 broker: Produce v0-2 refused although advertised (KAFKA-18659), Fetch v0-3 and ListOffsets v0 dropped', async t => {
  const u = new UpstreamVersions()
  u.learn(kafka4())
  t.equal(u.accepts(ApiKey.Produce, 2), false)
  t.equal(u.target(ApiKey.Produce, 2), 3)
  t.equal(u.target(ApiKey.Fetch, 0), 4)
  t.equal(u.target(ApiKey.ListOffsets, 0), 1)
  t.equal(u.target(ApiKey.OffsetCommit, 1), 2)
  t.equal(u.target(ApiKey.Metadata, 0), -1, 'Kafka 4 kept Metadata v0')
  t.same(u.ranges()!.find(r => r.apiKey === ApiKey.Produce), { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 13 })
})

t.test('a Kafka 3.9 broker accepts the old versions: nothing to bridge', async t => {
  const u = new UpstreamVersions()
  u.learn(kafka39())
  t.equal(u.accepts(ApiKey.Produce, 0), true, 'its Fetch still starts at v0, so its Produce v0 is real')
  t.equal(u.target(ApiKey.Fetch, 3), -1)
  t.equal(u.target(ApiKey.ListOffsets, 0), -1)
})

t.test('a rolling upgrade: what every broker accepts; the old release stops counting once unseen for the TTL', async t => {
  let now = 1_000_000
  const u = new UpstreamVersions(() => now)
  u.learn(kafka39())
  u.learn(kafka4())
  t.equal(u.target(ApiKey.Fetch, 3), 4, 'one broker dropped Fetch v3: bridged for all')
  t.same(u.ranges()!.find(r => r.apiKey === ApiKey.Fetch), { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 17 }, 'the lowest maximum counts too')
  u.learn(kafka39())
  t.equal(u.target(ApiKey.Fetch, 3), 4, 'the latest answer alone does not decide')
  now += ANSWER_TTL_MS + 61_000
  u.learn(kafka4())
  t.same(u.ranges()!.find(r => r.apiKey === ApiKey.Fetch), { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 18 }, 'only Kafka 4 brokers answer now')
  // a key one broker lacks is not accepted cluster-wide
  const v = new UpstreamVersions(() => now)
  v.learn(kafka4())
  v.learn(kafka4().filter(r => r.apiKey !== ApiKey.DescribeCluster))
  t.equal(v.accepts(ApiKey.DescribeCluster, 0), false)
})

t.test('a target kproxy cannot write is no target', async t => {
  const u = new UpstreamVersions()
  u.learn(kafka4().map(r => r.apiKey === ApiKey.Fetch ? { ...r, minVersion: 30, maxVersion: 31 } : r))
  t.equal(u.target(ApiKey.Fetch, 3), -1)
})
