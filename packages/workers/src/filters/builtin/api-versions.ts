// ApiVersions through kproxy: the client may only use what both the broker and kproxy's codec
// handle, so the broker's answer is cut down to the intersection (keys the codec lacks are
// dropped, unstable latest versions excluded). A request version kproxy does not know is answered
// by kproxy itself, as a broker would (KIP-511): a v0 body with header v0, UNSUPPORTED_VERSION
// (35), listing only ApiVersions' own range, so that the client retries with a version in it.
import { decodeResponse, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { intersectVersions, supportedVersions } from '@kproxy/core/protocol/api-keys'
import type { VersionRange } from '@kproxy/core/protocol/api-keys'
import { widenWithBridge } from '@kproxy/core/bridge/bridged-ranges'

export const API_VERSIONS = 18
export const UNSUPPORTED_VERSION = 35

export function knowsApiVersionsVersion (version: number): boolean {
  return getApi(API_VERSIONS).supports(version)
}

export function unsupportedApiVersionsReply (correlationId: number): Buffer[] {
  const own = supportedVersions().find(v => v.apiKey === API_VERSIONS)!
  const body = getApi(API_VERSIONS).response.create()
  body.errorCode = UNSUPPORTED_VERSION
  body.apiKeys = [{ apiKey: API_VERSIONS, minVersion: own.minVersion, maxVersion: own.maxVersion }]
  return encodeResponse(API_VERSIONS, 0, { correlationId }, body)
}

export interface IntersectOptions {
  // the version bridge is on: widen the ranges down by the versions it converts
  readonly widen?: boolean
  // told the broker's own ranges (what the upstream accepts, for the version bridge and the
  // readiness report)
  readonly learn?: (ranges: readonly VersionRange[]) => void
}

// The broker's ApiVersions response with its key list intersected with kproxy's; null when the
// broker answered with an error (forward it as it is).
export function intersectApiVersionsResponse (payload: Buffer, apiVersion: number, options: IntersectOptions = {}): Buffer[] | null {
  const { header, body } = decodeResponse(payload, API_VERSIONS, apiVersion)
  if (body.errorCode !== 0) return null
  options.learn?.(body.apiKeys)
  const ranges = intersectVersions(body.apiKeys)
  body.apiKeys = (options.widen === true ? widenWithBridge(ranges) : ranges).map(v => ({ apiKey: v.apiKey, minVersion: v.minVersion, maxVersion: v.maxVersion }))
  return encodeResponse(API_VERSIONS, apiVersion, header, body)
}
