import t from 'tap'
import { API_TABLE, ApiKey, apiByKey, apiByName, BRIDGED_APIS, BRIDGED_FROM_KAFKA_VERSION, decodableVersions, FORWARDED_BELOW_CODEC, intersectVersions, supportedVersions } from '../../src/protocol/api-keys.ts'
import { BRIDGE_KAFKA_VERSION } from '../../src/kafka-release.ts'

t.test('the API table has every key of the release with its facts', async t => {
  t.equal(API_TABLE.length, 93, 'keys 0-92')
  t.ok(API_TABLE.every((a, i) => a.apiKey === i))
  const metadata = apiByKey(ApiKey.Metadata)
  t.match(metadata, { name: 'Metadata', minVersion: 0, maxVersion: 13, requestFlexibleMin: 9, responseFlexibleMin: 9, listeners: ['broker'] })
  t.equal(metadata?.request.name, 'MetadataRequest')
  t.equal(metadata?.response.name, 'MetadataResponse')
  t.equal(apiByName('Fetch')?.apiKey, 1)
  t.equal(apiByName('SaslHandshake')?.requestFlexibleMin, -1, 'never flexible')
  t.equal(apiByName('NoSuchApi'), undefined)
  t.equal(apiByKey(500), undefined)
  t.same(apiByName('ControlledShutdown')?.supports(0), false)
  t.ok(apiByName('InitProducerId')?.latestVersionUnstable)
  t.notOk(apiByName('ListOffsets')?.latestVersionUnstable, 'false when the definition says so')
  t.same(apiByName('Vote')?.listeners, ['controller'])
})

t.test('supported version ranges leave out unstable latest versions unless asked', async t => {
  const stable = new Map(supportedVersions().map(v => [v.apiKey, v]))
  const all = new Map(supportedVersions(true).map(v => [v.apiKey, v]))
  const lo = apiByName('InitProducerId')
  t.equal(stable.get(ApiKey.InitProducerId)?.maxVersion, (lo?.maxVersion ?? 0) - 1)
  t.equal(all.get(ApiKey.InitProducerId)?.maxVersion, lo?.maxVersion)
  t.notOk(stable.has(ApiKey.ControlledShutdown), 'no versions, not advertised')
  t.equal(stable.get(ApiKey.Produce)?.maxVersion, apiByKey(0)?.maxVersion)
})

t.test('advertised versions are the intersection with the broker', async t => {
  const broker = [
    { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 99 },
    { apiKey: ApiKey.Metadata, minVersion: 10, maxVersion: 11 },
    { apiKey: 4242, minVersion: 0, maxVersion: 1 },
    { apiKey: ApiKey.ControlledShutdown, minVersion: 0, maxVersion: 3 },
    { apiKey: ApiKey.Fetch, minVersion: 99, maxVersion: 100 }
  ]
  t.same(intersectVersions(broker), [
    // Produce keeps the broker's minimum (FORWARDED_BELOW_CODEC, KAFKA-18659)
    { apiKey: 0, minVersion: 0, maxVersion: apiByKey(0)?.maxVersion },
    { apiKey: 3, minVersion: 10, maxVersion: 11 }
  ])
})

t.test('Produce: the broker\'s minimum, never below it', async t => {
  t.same(intersectVersions([{ apiKey: ApiKey.Produce, minVersion: 5, maxVersion: 99 }]), [
    { apiKey: 0, minVersion: 5, maxVersion: apiByKey(0)?.maxVersion }
  ])
})

t.test('bridged versions: the codecs decode them, the supported ranges stay those of the pinned release', async t => {
  t.equal(BRIDGED_FROM_KAFKA_VERSION, BRIDGE_KAFKA_VERSION, 'generated from the release kafka-release.ts names')
  const produce = apiByKey(ApiKey.Produce)
  t.match(produce, { minVersion: 3, bridgedMinVersion: 0, bridgedMaxVersion: 2 })
  t.same([0, 2, 3, 13].map(v => [produce?.supports(v), produce?.isBridged(v), produce?.decodes(v)]),
    [[false, true, true], [false, true, true], [true, false, true], [true, false, true]])
  t.notOk(produce?.decodes(14))
  const metadata = apiByKey(ApiKey.Metadata)
  t.match(metadata, { bridgedMinVersion: -1, bridgedMaxVersion: -1 }, 'Kafka 4 kept every Metadata version: nothing to bridge')
  t.notOk(metadata?.isBridged(0))
  t.ok(metadata?.decodes(0))
  t.notOk(apiByName('ControlledShutdown')?.decodes(0), 'inter-broker APIs of ZooKeeper mode are not bridged')
  t.notOk(apiByName('ShareFetch')?.decodes(0), 'early-access (unstable) versions of 3.9 are not bridged')

  const stable = new Map(supportedVersions().map(v => [v.apiKey, v]))
  const wide = new Map(decodableVersions().map(v => [v.apiKey, v]))
  t.same([...wide.keys()], [...stable.keys()], 'the same API keys')
  for (const b of BRIDGED_APIS) {
    t.equal(wide.get(b.apiKey)?.minVersion, b.bridgedMinVersion, `${b.name} widened down to v${b.bridgedMinVersion}`)
    t.equal(b.bridgedMaxVersion + 1, b.minVersion, `${b.name}: bridged versions end just below the supported ones`)
    t.equal(wide.get(b.apiKey)?.maxVersion, stable.get(b.apiKey)?.maxVersion)
  }
  t.same(wide.get(ApiKey.Metadata), stable.get(ApiKey.Metadata))
  // intersectVersions (what kproxy advertises without the bridge) never offers an old version, but
  // for the keys whose old versions are forwarded undecoded (Produce: the broker's own minimum)
  const broker = API_TABLE.filter(a => a.minVersion >= 0).map(a => ({ apiKey: a.apiKey, minVersion: 0, maxVersion: a.maxVersion }))
  for (const b of BRIDGED_APIS) {
    const min = intersectVersions(broker).find(v => v.apiKey === b.apiKey)?.minVersion
    t.equal(min, FORWARDED_BELOW_CODEC.has(b.apiKey) ? 0 : b.minVersion, `${b.name}: advertised from v${String(min)}`)
  }
})

t.test('docs/version-bridge.md shows exactly the bridged versions of the generated table', async t => {
  const { readFileSync } = await import('node:fs')
  const doc = readFileSync(new URL('../../../../docs/version-bridge.md', import.meta.url), 'utf8')
  const rows = [...doc.matchAll(/^\| (\w+) \| (\d+) \| (\d+)-(\d+) \| (\d+)(?:-(\d+))? \|$/gm)]
    .map(m => [m[1], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? m[5])])
  t.same(rows, BRIDGED_APIS.map(b => [b.name, b.apiKey, b.minVersion, b.maxVersion, b.bridgedMinVersion, b.bridgedMaxVersion]))
})
