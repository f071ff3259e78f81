// Request and response headers: the part of a frame a proxy reads for every message.
//
// Request header (payload after the 4-byte size prefix):
//   v0  apiKey int16, apiVersion int16, correlationId int32             (ControlledShutdown v0 only)
//   v1  + clientId nullable string, ALWAYS with an int16 length (even in flexible versions, so an
//         old broker can read any ApiVersions request)
//   v2  + tagged fields                                                  (flexible API versions)
// Response header:
//   v0  correlationId int32
//   v1  + tagged fields      (flexible API versions, except ApiVersions responses: always v0)
import { KproxyError } from '../kproxy-error.ts'
import { API_TABLE } from './generated/api-table.ts'
import { decodeResponseHeader, encodeResponseHeader } from './generated/response-header.ts'
import type { ResponseHeaderData } from './generated/response-header.ts'
import type { ApiSpec } from './primitives/message-codec.ts'
import { Reader } from './primitives/reader.ts'
import type { TaggedField } from './primitives/reader.ts'
import { sortedTags, Writer } from './primitives/writer.ts'

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  // null in header v0, which has no client id
  clientId: string | null
  _unknownTaggedFields?: TaggedField[]
}

export interface ReadRequestHeader extends RequestHeader {
  headerVersion: number
  // bytes of the payload taken by the header: the body starts here
  headerLength: number
}

export type ResponseHeader = ResponseHeaderData

export interface PeekedRequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
}

export function apiOrThrow (apiKey: number): ApiSpec {
  const api = API_TABLE[apiKey]
  if (api === undefined) {
    throw new KproxyError('KPROXY_ERR_UNKNOWN_API', `API key ${apiKey} is not part of Apache Kafka's protocol as kproxy knows it (keys 0-${API_TABLE.length - 1}); the client is newer than kproxy or is not speaking Kafka.`)
  }
  return api
}

export function requestHeaderVersion (apiKey: number, apiVersion: number): number {
  return apiOrThrow(apiKey).requestHeaderVersion(apiVersion)
}

export function responseHeaderVersion (apiKey: number, apiVersion: number): number {
  return apiOrThrow(apiKey).responseHeaderVersion(apiVersion)
}

// apiKey, apiVersion and correlationId: the first 8 bytes, whatever the header version.
// Pass `out` to reuse one object on a hot path.
export function peekRequestHeader (payload: Buffer, out: PeekedRequestHeader = { apiKey: 0, apiVersion: 0, correlationId: 0 }): PeekedRequestHeader {
  if (payload.length < 8) {
    throw new KproxyError('KPROXY_ERR_DECODE', `a request of ${payload.length} bytes is too short for a header (8 bytes at least) at offset 0; the client is not speaking Kafka.`)
  }
  out.apiKey = payload.readInt16BE(0)
  out.apiVersion = payload.readInt16BE(2)
  out.correlationId = payload.readInt32BE(4)
  return out
}

// Reads only the header of a request payload; the body is left alone. The header version comes
// from the API key and version (which need not be a version kproxy supports: a client may send
// ApiVersions at a version newer than the broker's, and gets an answer in v0).
export function readRequestHeader (payload: Buffer, r: Reader = new Reader(payload)): ReadRequestHeader {
  const apiKey = r.int16()
  const apiVersion = r.int16()
  const correlationId = r.int32()
  const headerVersion = requestHeaderVersion(apiKey, apiVersion)
  const h: ReadRequestHeader = {
    apiKey,
    apiVersion,
    correlationId,
    clientId: headerVersion >= 1 ? r.nullableString(false, true) : null,
    headerVersion,
    headerLength: 0
  }
  if (headerVersion >= 2) r.taggedFields(h, null, headerVersion)
  h.headerLength = r.offset
  return h
}

export function writeRequestHeader (w: Writer, h: RequestHeader, headerVersion: number): void {
  w.int16(h.apiKey)
  w.int16(h.apiVersion)
  w.int32(h.correlationId)
  if (headerVersion >= 1) w.nullableString(false, true, h.clientId)
  if (headerVersion >= 2) w.taggedFields(sortedTags(h._unknownTaggedFields))
}

export function readResponseHeader (r: Reader, headerVersion: number): ResponseHeader {
  return decodeResponseHeader(r, headerVersion)
}

export function writeResponseHeader (w: Writer, h: ResponseHeader, headerVersion: number): void {
  encodeResponseHeader(w, h, headerVersion)
}
