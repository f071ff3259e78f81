// Whole-message encode/decode over the generated codecs: header + body, with the frame's 4-byte
// size prefix on the way out. Payloads are what the frame reader hands over: the bytes after
// the size prefix.
//
// Decoding never lets anything but a KproxyError escape (KPROXY_ERR_DECODE, _UNKNOWN_API,
// _UNSUPPORTED_VERSION); encoding fails with KPROXY_ERR_ENCODE.
//
// Every function takes a VersionScope last: 'supported' (the default) accepts the versions the
// pinned Kafka release supports; 'decodable' also the bridged ones, the older versions the last
// 3.x release had (Produce v0-2, Fetch v0-3, ...; generated/bridged-versions.ts), which only the
// version bridge should read and write. `bytes` and `records` values
// decode as subarrays of the payload and large ones are written back by reference, so
// rewriteResponse() on a Fetch response leaves the record batches where they were.
import { isKproxyError, KproxyError } from '../kproxy-error.ts'
import { API_TABLE } from './generated/api-table.ts'
import type { RequestBodies, ResponseBodies } from './generated/api-table.ts'
import { apiOrThrow, peekRequestHeader, readRequestHeader, readResponseHeader, writeRequestHeader, writeResponseHeader } from './headers.ts'
import type { RequestHeader, ResponseHeader } from './headers.ts'
import type { ApiSpec } from './primitives/message-codec.ts'
import { Reader } from './primitives/reader.ts'
import { Writer } from './primitives/writer.ts'

export type ApiKeyNumber = keyof RequestBodies & keyof ResponseBodies

export type VersionScope = 'supported' | 'decodable'

// A decoded request; checking `apiKey` narrows `body` to that API's type.
export type DecodedRequest = {
  [K in ApiKeyNumber]: { apiKey: K, apiVersion: number, header: RequestHeader, body: RequestBodies[K] }
}[ApiKeyNumber]

export interface DecodedResponse<K extends ApiKeyNumber> {
  header: ResponseHeader
  body: ResponseBodies[K]
}

// One writer for every encode: reset() keeps the chunks handed out before intact (new bytes go
// after them in the scratch), so the scratch memory is reused without copying.
const writer = new Writer()

// The API table entry of a key; KPROXY_ERR_UNKNOWN_API for keys the release does not have.
export function getApi (apiKey: number): ApiSpec {
  return apiOrThrow(apiKey)
}

export function hasApi (apiKey: number): boolean {
  return API_TABLE[apiKey] !== undefined
}

// The entry of a key whose version the pinned Kafka release supports (scope 'supported') or
// kproxy's codecs can read at all (scope 'decodable': bridged versions too);
// KPROXY_ERR_UNSUPPORTED_VERSION otherwise.
export function supportedApi (apiKey: number, apiVersion: number, scope: VersionScope = 'supported'): ApiSpec {
  const api = apiOrThrow(apiKey)
  if (scope === 'supported' ? !api.supports(apiVersion) : !api.decodes(apiVersion)) {
    const range = api.minVersion < 0 ? 'no versions' : `versions ${api.minVersion}-${api.maxVersion}`
    const bridged = api.bridgedMinVersion < 0
      ? ''
      : scope === 'supported' ? ` (${api.bridgedMinVersion}-${api.bridgedMaxVersion} only through the version bridge)` : ` and bridged versions ${api.bridgedMinVersion}-${api.bridgedMaxVersion}`
    throw new KproxyError('KPROXY_ERR_UNSUPPORTED_VERSION', `${api.name} (key ${apiKey}) version ${apiVersion} is not supported: Apache Kafka's protocol as kproxy knows it has ${range}${bridged}; pin the client to a supported version.`)
  }
  return api
}

// Shorthand for supportedApi(apiKey, apiVersion, 'decodable').
export function decodableApi (apiKey: number, apiVersion: number): ApiSpec {
  return supportedApi(apiKey, apiVersion, 'decodable')
}

function decodeFailure (err: unknown, what: string): KproxyError {
  if (isKproxyError(err)) {
    if (err.code !== 'KPROXY_ERR_DECODE') return err
    return new KproxyError(err.code, `${what}: ${err.message}`, { cause: err })
  }
  // A bug in the codec, not bad input: still a KproxyError so that callers need one catch.
  return new KproxyError('KPROXY_ERR_DECODE', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}

function encodeFailure (err: unknown, what: string): KproxyError {
  const message = isKproxyError(err) ? err.message : `${(err as Error)?.message ?? String(err)}; a field has the wrong type or is out of range`
  return new KproxyError(isKproxyError(err) ? err.code : 'KPROXY_ERR_ENCODE', `${what}: ${message}`, { cause: err })
}

export function decodeRequest (payload: Buffer, scope: VersionScope = 'supported'): DecodedRequest {
  const r = new Reader(payload)
  let what = 'request'
  try {
    const peeked = peekRequestHeader(payload)
    const api = supportedApi(peeked.apiKey, peeked.apiVersion, scope)
    what = `${api.name} request v${peeked.apiVersion}`
    const header = readRequestHeader(payload, r)
    const body = api.request.decode(r, header.apiVersion)
    r.end(what)
    const { headerVersion, headerLength, ...plain } = header
    return { apiKey: header.apiKey as ApiKeyNumber, apiVersion: header.apiVersion, header: plain, body } as DecodedRequest
  } catch (err) {
    throw decodeFailure(err, `cannot decode ${what}`)
  }
}

// With a literal API key (ApiKey.Metadata) the body is type-checked; with a plain number it is not.
export function encodeRequest<K extends ApiKeyNumber> (header: RequestHeader & { apiKey: K }, body: RequestBodies[K], scope?: VersionScope): Buffer[]
export function encodeRequest (header: RequestHeader, body: unknown, scope?: VersionScope): Buffer[]
export function encodeRequest (header: RequestHeader, body: unknown, scope: VersionScope = 'supported'): Buffer[] {
  const api = supportedApi(header.apiKey, header.apiVersion, scope)
  writer.reset()
  try {
    writer.sizePrefix()
    writeRequestHeader(writer, header, api.requestHeaderVersion(header.apiVersion))
    api.request.encode(writer, body, header.apiVersion)
    return writer.finish()
  } catch (err) {
    writer.reset()
    throw encodeFailure(err, `cannot encode ${api.name} request v${header.apiVersion}`)
  }
}

export function decodeResponse<K extends ApiKeyNumber> (payload: Buffer, apiKey: K, apiVersion: number, scope?: VersionScope): DecodedResponse<K>
export function decodeResponse (payload: Buffer, apiKey: number, apiVersion: number, scope?: VersionScope): { header: ResponseHeader, body: any }
export function decodeResponse (payload: Buffer, apiKey: number, apiVersion: number, scope: VersionScope = 'supported'): { header: ResponseHeader, body: any } {
  const api = supportedApi(apiKey, apiVersion, scope)
  const what = `${api.name} response v${apiVersion}`
  const r = new Reader(payload)
  try {
    const header = readResponseHeader(r, api.responseHeaderVersion(apiVersion))
    const body = api.response.decode(r, apiVersion)
    r.end(what)
    return { header, body }
  } catch (err) {
    throw decodeFailure(err, `cannot decode ${what}`)
  }
}

export function encodeResponse<K extends ApiKeyNumber> (apiKey: K, apiVersion: number, header: ResponseHeader, body: ResponseBodies[K], scope?: VersionScope): Buffer[]
export function encodeResponse (apiKey: number, apiVersion: number, header: ResponseHeader, body: unknown, scope?: VersionScope): Buffer[]
export function encodeResponse (apiKey: number, apiVersion: number, header: ResponseHeader, body: unknown, scope: VersionScope = 'supported'): Buffer[] {
  const api = supportedApi(apiKey, apiVersion, scope)
  writer.reset()
  try {
    writer.sizePrefix()
    writeResponseHeader(writer, header, api.responseHeaderVersion(apiVersion))
    api.response.encode(writer, body, apiVersion)
    return writer.finish()
  } catch (err) {
    writer.reset()
    throw encodeFailure(err, `cannot encode ${api.name} response v${apiVersion}`)
  }
}

// Decodes a response, lets `edit` change it (e.g. broker addresses in Metadata) and returns the
// re-encoded frame — or null when `edit` returns false, meaning "forward the original bytes".
export function rewriteResponse<K extends ApiKeyNumber> (payload: Buffer, apiKey: K, apiVersion: number, edit: (body: ResponseBodies[K]) => boolean, scope?: VersionScope): Buffer[] | null
export function rewriteResponse (payload: Buffer, apiKey: number, apiVersion: number, edit: (body: any) => boolean, scope?: VersionScope): Buffer[] | null
export function rewriteResponse (payload: Buffer, apiKey: number, apiVersion: number, edit: (body: any) => boolean, scope: VersionScope = 'supported'): Buffer[] | null {
  const { header, body } = decodeResponse(payload, apiKey, apiVersion, scope)
  if (!edit(body)) return null
  return encodeResponse(apiKey, apiVersion, header, body, scope)
}

// Sum of the chunks' lengths (the frame size including the 4-byte prefix).
export function chunksLength (chunks: readonly Buffer[]): number {
  let n = 0
  for (const c of chunks) n += c.length
  return n
}

export { ErrorCode, errorByCode, errorByName, KAFKA_ERRORS } from './generated/error-codes.ts'
export type { KafkaErrorInfo } from './generated/error-codes.ts'
