import t from 'tap'
import {
  peekRequestHeader, readRequestHeader, readResponseHeader, requestHeaderVersion, responseHeaderVersion, writeRequestHeader, writeResponseHeader
} from '../../src/protocol/headers.ts'
import { ApiKey, API_TABLE } from '../../src/protocol/api-keys.ts'
import { decodeRequest, decodeResponse, encodeResponse } from '../../src/protocol/codec.ts'
import { createApiVersionsResponse } from '../../src/protocol/generated/api-versions-response.ts'
import { Reader } from '../../src/protocol/primitives/reader.ts'
import { Writer } from '../../src/protocol/primitives/writer.ts'

t.test('header versions follow flexibility, with the two exceptions', async t => {
  t.equal(requestHeaderVersion(ApiKey.Metadata, 8), 1)
  t.equal(requestHeaderVersion(ApiKey.Metadata, 9), 2)
  t.equal(responseHeaderVersion(ApiKey.Metadata, 8), 0)
  t.equal(responseHeaderVersion(ApiKey.Metadata, 9), 1)
  t.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2, 'ApiVersions requests are flexible from v3')
  for (let v = 0; v <= 4; v++) t.equal(responseHeaderVersion(ApiKey.ApiVersions, v), 0, `ApiVersions response v${v} uses header v0`)
  t.equal(responseHeaderVersion(ApiKey.ApiVersions, 99), 0, 'even for versions the broker does not know')
  t.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0, 'ControlledShutdown v0 has request header v0')
  t.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1)
  t.equal(requestHeaderVersion(ApiKey.SaslHandshake, 1), 1, 'SaslHandshake is never flexible')
  t.throws(() => requestHeaderVersion(1000, 0), { code: 'KPROXY_ERR_UNKNOWN_API' })
  for (const api of API_TABLE) {
    for (let v = Math.max(0, api.minVersion); v <= api.maxVersion; v++) {
      const flexible = api.requestFlexibleMin >= 0 && v >= api.requestFlexibleMin
      if (api.requestHeaderVersion(v) !== (flexible ? 2 : 1)) t.fail(`${api.name} v${v} request header`)
      if (api.apiKey !== ApiKey.ApiVersions && api.responseHeaderVersion(v) !== (flexible ? 1 : 0)) t.fail(`${api.name} v${v} response header`)
    }
  }
})

t.test('an ApiVersions v3 response has header v0: no tagged-field byte after the correlation id', async t => {
  const body = createApiVersionsResponse()
  body.apiKeys = []
  const frame = Buffer.concat(encodeResponse(ApiKey.ApiVersions, 3, { correlationId: 0x01020304 }, body))
  // size, correlation id, then straight into the body: errorCode int16 = 0, compact array count 1 (empty)
  t.same([...frame.subarray(4, 11)], [1, 2, 3, 4, 0, 0, 1])
  t.equal(decodeResponse(frame.subarray(4), ApiKey.ApiVersions, 3).header.correlationId, 0x01020304)
})

t.test('request headers v0, v1 and v2 read and write', async t => {
  for (const [apiKey, apiVersion, headerVersion] of [[ApiKey.ControlledShutdown, 0, 0], [ApiKey.Metadata, 4, 1], [ApiKey.Metadata, 12, 2]]) {
    const w = new Writer()
    const h = { apiKey, apiVersion, correlationId: 7, clientId: headerVersion === 0 ? null : 'my-client', ...(headerVersion === 2 ? { _unknownTaggedFields: [{ tag: 3, data: Buffer.from([9]) }] } : {}) }
    writeRequestHeader(w, h, headerVersion)
    const bytes = Buffer.concat([w.toBuffer(), Buffer.from('body')])
    const read = readRequestHeader(bytes)
    t.same(read, { ...h, headerVersion, headerLength: bytes.length - 4 }, `v${headerVersion}`)
    t.same(peekRequestHeader(bytes), { apiKey, apiVersion, correlationId: 7 })
  }
  // v0 is 8 bytes: the client id is not read even when bytes follow
  const v0 = Buffer.from([0, 7, 0, 0, 0, 0, 0, 1, 0, 3, 0x61, 0x62, 0x63])
  t.equal(readRequestHeader(v0).headerLength, 8)
  t.equal(readRequestHeader(v0).clientId, null)
})

t.test('the client id keeps its int16 length in flexible headers', async t => {
  const w = new Writer()
  writeRequestHeader(w, { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 1, clientId: 'ab' }, 2)
  t.same([...w.toBuffer()], [0, 3, 0, 12, 0, 0, 0, 1, 0, 2, 0x61, 0x62, 0])
  const nul = new Writer()
  writeRequestHeader(nul, { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 1, clientId: null }, 2)
  t.same([...nul.toBuffer()].slice(8), [0xff, 0xff, 0])
})

t.test('an ApiVersions request at a version kproxy does not know still has a readable header', async t => {
  // v9 of ApiVersions: flexible, so header v2; decodeRequest refuses it, the header does not
  const payload = Buffer.from([0, 18, 0, 9, 0, 0, 0, 5, 0, 1, 0x78, 0, 0xde, 0xad])
  const h = readRequestHeader(payload)
  t.same({ apiKey: h.apiKey, apiVersion: h.apiVersion, correlationId: h.correlationId, clientId: h.clientId, headerLength: h.headerLength }, { apiKey: 18, apiVersion: 9, correlationId: 5, clientId: 'x', headerLength: 12 })
  t.throws(() => decodeRequest(payload), { code: 'KPROXY_ERR_UNSUPPORTED_VERSION' })
})

t.test('short and unknown headers fail with codes', async t => {
  t.throws(() => peekRequestHeader(Buffer.alloc(7)), { code: 'KPROXY_ERR_DECODE', message: /7 bytes .* at offset 0/ })
  t.throws(() => readRequestHeader(Buffer.from([0, 3, 0, 1, 0, 0])), { code: 'KPROXY_ERR_DECODE' })
  t.throws(() => readRequestHeader(Buffer.from([0x7f, 0, 0, 1, 0, 0, 0, 0, 0, 0])), { code: 'KPROXY_ERR_UNKNOWN_API' })
  const out = { apiKey: -1, apiVersion: -1, correlationId: -1 }
  t.equal(peekRequestHeader(Buffer.from([0, 1, 0, 16, 0, 0, 1, 0]), out), out, 'fills the object it is given')
  t.same(out, { apiKey: 1, apiVersion: 16, correlationId: 256 })
})

t.test('response headers v0 and v1', async t => {
  const w = new Writer()
  writeResponseHeader(w, { correlationId: 3, _unknownTaggedFields: [{ tag: 0, data: Buffer.from('x') }] }, 1)
  const b = w.toBuffer()
  t.same([...b], [0, 0, 0, 3, 1, 0, 1, 0x78])
  t.same(readResponseHeader(new Reader(b), 1), { correlationId: 3, _unknownTaggedFields: [{ tag: 0, data: Buffer.from('x') }] })
  const v0 = new Writer()
  writeResponseHeader(v0, { correlationId: 3 }, 0)
  t.same([...v0.toBuffer()], [0, 0, 0, 3])
})
