// Broker address rewriting as a filter: the responses that can name brokers (address-rewrite.ts
// has the table) are looked at, at header level, so that the frame-level scans of
// response-tag-scan.ts can tell a Produce or Fetch response without NodeEndpoints (the common
// case) from one that needs the full decode. Everything else never reaches it.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { Filter, FilterResponse, ResponseAction } from '../filter-api.ts'
import type { ResponseView } from '../request-view.ts'
import { frameNeedsRewrite, rewriteAddresses } from './address-rewrite.ts'
import type { RewriteTarget } from './address-rewrite.ts'

const PRODUCE_NODE_ENDPOINTS_MIN = 10
const FETCH_NODE_ENDPOINTS_MIN = 16

export function createAddressRewriteFilter (target: RewriteTarget): Filter {
  return {
    interests: {
      responses: [
        { apiKeys: [ApiKey.Metadata, ApiKey.FindCoordinator, ApiKey.DescribeCluster, ApiKey.ShareFetch, ApiKey.ShareAcknowledge], level: 'header' },
        { apiKeys: [ApiKey.Produce], minVersion: PRODUCE_NODE_ENDPOINTS_MIN, level: 'header' },
        { apiKeys: [ApiKey.Fetch], minVersion: FETCH_NODE_ENDPOINTS_MIN, level: 'header' }
      ]
    },
    onResponse (response: FilterResponse): ResponseAction | undefined {
      const frame = response.frame
      if (frame === null || !frameNeedsRewrite(frame, response.apiKey, response.apiVersion)) return undefined
      const out = rewriteAddresses((response as ResponseView).payload, response.apiKey, response.apiVersion, target)
      return out === null ? undefined : { kind: 'frames', frames: out }
    }
  }
}
