// The version bridge (brokerMode.versionBridge, docs/version-bridge.md): a request at a version
// the upstream no longer accepts (Kafka 4 dropped what clients before ~2.1 speak, KIP-896, and the
// message formats v0/v1, KIP-724) is decoded at the client's version, converted to the lowest
// version the upstream accepts and sent at that version (FilterRequest.upstreamVersion); the
// answer is converted back and re-encoded at the client's version. What each API needs beyond
// re-encoding is in @kproxy/core/bridge/bridge-conversions.
//
// Cost: the filter declares interest only in the bridged (API, version) pairs (BRIDGED_APIS, what
// Kafka 3.9 had and the pinned 4.x dropped), so a current client's frames never reach it. When
// the upstream still accepts an old version (a 3.x cluster), the request goes on unchanged.
//
// Which version the upstream accepts comes from its brokers' ApiVersions answers
// (UpstreamVersions), not from the client: clients that never send ApiVersions (before 0.10, or
// librdkafka with api.version.request=false) are bridged the same way.
import type { Logger } from 'pino'
import { BRIDGED_APIS } from '@kproxy/core/protocol/api-keys'
import { getApi } from '@kproxy/core/protocol/codec'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { UpstreamVersions } from '@kproxy/core/bridge/upstream-versions'
import { convertRequest, convertResponse } from '@kproxy/core/bridge/bridge-conversions'
import type { BridgeLimits, RequestConversion } from '@kproxy/core/bridge/bridge-conversions'
import { produceFailureResponse } from '@kproxy/core/bridge/produce-bridge'
import type { PartitionFailure } from '@kproxy/core/bridge/produce-bridge'
import type { ApiInterest, Filter, FilterRequest, FilterResponse, RequestAction } from '../filter-api.ts'

export interface VersionBridgeOptions {
  readonly upstream: UpstreamVersions
  readonly metrics: ProxyMetrics
  readonly logger: Logger
  readonly limits?: BridgeLimits
}

interface Bridged {
  readonly conversion: RequestConversion
}

// the key of the filter's state in request.attributes
const BRIDGED = Symbol('versionBridge')

export const BRIDGED_INTERESTS: readonly ApiInterest[] = BRIDGED_APIS.map(a => ({
  apiKeys: [a.apiKey],
  minVersion: a.bridgedMinVersion,
  maxVersion: a.bridgedMaxVersion,
  level: 'body'
}))

export function createVersionBridge (options: VersionBridgeOptions): Filter {
  const { upstream, metrics, logger } = options
  const limits = options.limits ?? {}

  // A partition whose records could not be converted: answered with an error, logged with the
  // reason (the client's bytes or, on the way back, the broker's).
  const reportFailures = (apiKey: number, version: number, failed: readonly PartitionFailure[], direction: 'request' | 'response', request: FilterRequest): void => {
    for (const f of failed) {
      metrics.responseError(apiKey, f.errorCode)
      logger.warn({ code: f.code, apiKey, apiVersion: version, topic: f.topic, partition: f.partition, errorCode: f.errorCode, clientId: request.connection.clientId, direction },
        `version bridge: ${getApi(apiKey).name} v${version} ${f.topic}-${f.partition} answered with error ${f.errorCode}: ${f.message}`)
    }
  }

  return {
    interests: { requests: BRIDGED_INTERESTS, responses: BRIDGED_INTERESTS },

    onRequest (request: FilterRequest): RequestAction | undefined {
      const { apiKey, apiVersion } = request
      const target = upstream.target(apiKey, apiVersion)
      if (target < 0) return undefined // the upstream takes this version as it is
      const conversion = convertRequest(apiKey, request.body, apiVersion, target, limits)
      if (conversion.failed.length > 0) reportFailures(apiKey, apiVersion, conversion.failed, 'request', request)
      if (!conversion.forward) return { kind: 'respond', body: produceFailureResponse(conversion.failed) }
      request.upstreamVersion = target
      request.attributes.set(BRIDGED, { conversion } satisfies Bridged)
      metrics.bridged?.(apiKey, apiVersion, target)
      return undefined
    },

    onResponse (response: FilterResponse): undefined {
      const request = response.request
      const bridged = request.attributes.get(BRIDGED) as Bridged | undefined
      if (bridged === undefined) return undefined
      const failed = convertResponse(response.apiKey, response.body, request.apiVersion, response.apiVersion, bridged.conversion, limits)
      if (failed.length > 0) reportFailures(response.apiKey, request.apiVersion, failed, 'response', request)
      response.markChanged()
      return undefined
    }
  }
}
