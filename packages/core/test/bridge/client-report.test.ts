// The readiness report: records merged across connections and workers, each client judged
// against the upstream's ranges and against the pinned Kafka 4 release.
import t from 'tap'
import { assessClients, mergeClientSnapshots } from '../../src/bridge/client-report.ts'
import type { ClientRecord } from '../../src/bridge/client-report.ts'
import { widenWithBridge } from '../../src/bridge/bridged-ranges.ts'
import { ApiKey, supportedVersions } from '../../src/protocol/api-keys.ts'
import { MAX_VERSIONS } from '../../src/metrics/metrics-registry.ts'

const pack = (apiKey: number, v: number): number => apiKey * MAX_VERSIONS + v

function rec (clientId: string, used: number[], extra: Partial<ClientRecord> = {}): ClientRecord {
  return { clientId, softwareName: null, softwareVersion: null, principal: 'ANONYMOUS', peer: '127.0.0.1', connectionsActive: 1, connectionsTotal: 1, firstSeen: 1000, lastSeen: 2000, used, ...extra }
}

const kafka39 = supportedVersions().map(r => r.apiKey === ApiKey.Produce || r.apiKey === ApiKey.Fetch || r.apiKey === ApiKey.ListOffsets ? { ...r, minVersion: 0 } : r)

t.test('workers\' records of one client merge; the upstream ranges intersect', async t => {
  const merged = mergeClientSnapshots([
    { bridgeEnabled: true, upstream: supportedVersions(), clients: [rec('old', [pack(ApiKey.Produce, 2)]), rec('new', [pack(ApiKey.Produce, 9)])] },
    { bridgeEnabled: true, upstream: kafka39, clients: [rec('old', [pack(ApiKey.Fetch, 3)], { connectionsActive: 0, connectionsTotal: 2, firstSeen: 500, lastSeen: 3000 })] },
    { bridgeEnabled: false, upstream: null, clients: [] }
  ])
  t.equal(merged.bridgeEnabled, true)
  t.same(merged.upstream!.find(r => r.apiKey === ApiKey.Fetch), { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 18 })
  const old = merged.clients.find(c => c.clientId === 'old')!
  t.same(old, rec('old', [pack(ApiKey.Produce, 2), pack(ApiKey.Fetch, 3)], { connectionsActive: 1, connectionsTotal: 3, firstSeen: 500, lastSeen: 3000 }))
  t.equal(merged.clients.length, 2)
})

t.test('needs the bridge: versions the upstream does not accept, and whether the bridge converts them', async t => {
  const used = [pack(ApiKey.ApiVersions, 0), pack(ApiKey.Metadata, 2), pack(ApiKey.Produce, 2), pack(ApiKey.Fetch, 3), pack(ApiKey.LeaderAndIsr, 0)]
  const report = assessClients({
    bridgeEnabled: false,
    upstream: supportedVersions(),
    clients: [rec('old', used, { softwareName: null }), rec('current', [pack(ApiKey.ApiVersions, 4), pack(ApiKey.Produce, 11), pack(ApiKey.Fetch, 17)], { softwareName: 'apache-kafka-java', softwareVersion: '4.3.1' })]
  })
  const [current, old] = report.clients
  t.equal(current!.clientId, 'current')
  t.equal(current!.needsBridge, false)
  t.equal(current!.kafka4.ready, true)
  t.same(current!.software, { name: 'apache-kafka-java', version: '4.3.1' })
  t.equal(old!.needsBridge, true)
  t.same(old!.needs.map(n => [n.api, n.version, n.accepted, n.bridged, n.bridgedTo]), [
    ['Produce', 2, '3-13', true, 3],
    ['Fetch', 3, '4-18', true, 4],
    ['LeaderAndIsr', 0, 'none', false, null]
  ], 'ApiVersions (answered at any version) is not a need; Metadata v2 is accepted')
  t.same(old!.versions.map(v => [v.api, v.versions]), [['Produce', [2]], ['Fetch', [3]], ['Metadata', [2]], ['LeaderAndIsr', [0]], ['ApiVersions', [0]]], 'by API key')
  t.same(report.summary, { clients: 2, needBridge: 1, notReadyForKafka4: 1 })
})

t.test('before an upgrade: a 3.9 upstream accepts the old client, the Kafka 4 column does not', async t => {
  const report = assessClients({ bridgeEnabled: false, upstream: kafka39, clients: [rec('old', [pack(ApiKey.Produce, 2), pack(ApiKey.Fetch, 3)])] })
  const [old] = report.clients
  t.equal(old!.needsBridge, false)
  t.equal(old!.kafka4.ready, false)
  t.same(old!.kafka4.needs.map(n => `${n.api} v${n.version}`), ['Produce v2', 'Fetch v3'])
  t.equal(report.upstream.known, true)
  // an upstream not learned yet: judged against the pinned release
  const unknown = assessClients({ bridgeEnabled: true, upstream: null, clients: [rec('old', [pack(ApiKey.Produce, 1)])] })
  t.equal(unknown.upstream.known, false)
  t.equal(unknown.clients[0]!.needsBridge, true)
})

t.test('ApiVersions answers widened by the bridged versions, only where they join the range', async t => {
  const widened = widenWithBridge([
    { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 13 },
    { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 18 },
    { apiKey: ApiKey.ListOffsets, minVersion: 7, maxVersion: 11 },
    { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 13 }
  ])
  t.same(widened, [
    { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 13 },
    { apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 18 },
    { apiKey: ApiKey.ListOffsets, minVersion: 7, maxVersion: 11 },
    { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 13 }
  ])
})
