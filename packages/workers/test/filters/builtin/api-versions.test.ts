import t from 'tap'
import { decodeResponse, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { supportedVersions } from '@kproxy/core/protocol/api-keys'
import { intersectApiVersionsResponse, knowsApiVersionsVersion, unsupportedApiVersionsReply } from '../../../src/filters/builtin/api-versions.ts'
import { createApiVersionsFilter } from '../../../src/filters/builtin/api-versions-filter.ts'

t.test('the UNSUPPORTED_VERSION reply is a v0 body with header v0', async t => {
  const frame = Buffer.concat(unsupportedApiVersionsReply(31337))
  t.equal(frame.readInt32BE(0), frame.length - 4)
  t.equal(frame.readInt32BE(4), 31337, 'header v0: correlation id, no tagged fields')
  const d = decodeResponse(frame.subarray(4), 18, 0)
  t.equal(d.body.errorCode, 35)
  t.same(d.body.apiKeys.map((k: any) => [k.apiKey, k.minVersion, k.maxVersion]), [[18, 0, getApi(18).maxVersion]])
  t.ok(knowsApiVersionsVersion(4))
  t.notOk(knowsApiVersionsVersion(5))
  t.notOk(knowsApiVersionsVersion(-1))
})

t.test('intersection: keys the codec lacks are dropped, ranges narrowed, unstable excluded', async t => {
  const mine = new Map(supportedVersions().map(v => [v.apiKey, v]))
  const body = getApi(18).response.create()
  body.apiKeys = [
    { apiKey: 0, minVersion: 0, maxVersion: 99 }, // wider than the codec
    { apiKey: 3, minVersion: 5, maxVersion: 6 }, // narrower
    { apiKey: 7, minVersion: 0, maxVersion: 3 }, // ControlledShutdown: no version left in the codec
    { apiKey: 999, minVersion: 0, maxVersion: 1 } // unknown to kproxy
  ]
  for (const v of [0, 3, 4]) {
    const out = intersectApiVersionsResponse(Buffer.concat(encodeResponse(18, v, { correlationId: 1 }, body)).subarray(4), v)
    const d = decodeResponse(Buffer.concat(out!).subarray(4), 18, v)
    // Produce keeps the broker's minimum (KAFKA-18659, see FORWARDED_BELOW_CODEC); its maximum is narrowed
    t.same(d.body.apiKeys.map((k: any) => [k.apiKey, k.minVersion, k.maxVersion]), [[0, 0, mine.get(0)!.maxVersion], [3, 5, 6]], `v${v}`)
  }
  body.errorCode = 35
  t.equal(intersectApiVersionsResponse(Buffer.concat(encodeResponse(18, 0, { correlationId: 1 }, body)).subarray(4), 0), null, 'errors pass through')
})

t.test('with the version bridge: the ranges widened by the versions it converts; the broker\'s own ranges are learned', async t => {
  const body = getApi(18).response.create()
  body.apiKeys = supportedVersions().map(r => r.apiKey === 0 ? { ...r, minVersion: 0 } : r)
  const learned: number[][] = []
  const payload = Buffer.concat(encodeResponse(18, 3, { correlationId: 1 }, body)).subarray(4)
  const out = intersectApiVersionsResponse(payload, 3, { widen: true, learn: ranges => { learned.push(...ranges.filter(r => r.apiKey <= 2).map(r => [r.apiKey, r.minVersion, r.maxVersion])) } })
  const d = decodeResponse(Buffer.concat(out!).subarray(4), 18, 3)
  const range = (k: number): number[] => { const r = d.body.apiKeys.find((x: any) => x.apiKey === k)!; return [r.minVersion, r.maxVersion] }
  t.same(range(1), [0, 18], 'Fetch from v0')
  t.same(range(2), [0, 11], 'ListOffsets from v0')
  t.same(range(8), [0, 10], 'OffsetCommit from v0')
  t.same(range(3), [0, 13], 'Metadata as it was')
  t.same(learned, [[0, 0, 13], [1, 4, 18], [2, 1, 11]], 'the broker\'s answer as it came')
  const plain = decodeResponse(Buffer.concat(intersectApiVersionsResponse(payload, 3)!).subarray(4), 18, 3)
  t.same(plain.body.apiKeys.find((x: any) => x.apiKey === 1), { apiKey: 1, minVersion: 4, maxVersion: 18 }, 'without the bridge: Fetch from v4')
})

t.test('the filter reads the client software once per connection, and decodes no later ApiVersions for it', async t => {
  const filter = createApiVersionsFilter()
  const connection = { clientSoftwareName: null as string | null, clientSoftwareVersion: null as string | null }
  let decoded = 0
  const request = (name: string, version: string): any => ({
    connection,
    get body () { decoded++; return { clientSoftwareName: name, clientSoftwareVersion: version } }
  })
  t.equal(filter.onRequest!(request('librdkafka', '2.0.2')), undefined, 'passes the request on')
  t.same([connection.clientSoftwareName, connection.clientSoftwareVersion, decoded], ['librdkafka', '2.0.2', 1])
  filter.onRequest!(request('other', '9'))
  filter.onRequest!(request('other', '9'))
  t.same([connection.clientSoftwareName, connection.clientSoftwareVersion, decoded], ['librdkafka', '2.0.2', 1], 'the first answer stays; no second decode')
  const anonymous = { clientSoftwareName: null as string | null, clientSoftwareVersion: null as string | null }
  filter.onRequest!({ connection: anonymous, get body () { decoded++; return { clientSoftwareName: '', clientSoftwareVersion: '' } } } as any)
  t.same([anonymous.clientSoftwareName, decoded], [null, 2], 'an empty name is not a name: the next ApiVersions is read again')
})
