import t from 'tap'
import { API_TABLE, ApiKey, apiByKey, apiByName, intersectVersions, supportedVersions } from '../../src/protocol/api-keys.ts'

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
