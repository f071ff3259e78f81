// ApiVersions as a filter. On the way in it reads the client's software name and version (v3+,
// KIP-511) into the connection context, for every filter and the logs, once per connection. On the way back the
// broker's answer is cut down to what kproxy's codec handles (api-versions.ts), widened by the
// versions the version bridge converts when it is on, from a per-worker memo: every connection
// asks, and the answer rarely changes. An answer that differs from the last one also tells the
// worker what the upstream accepts (UpstreamVersions).
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { Filter, FilterRequest, FilterResponse, ResponseAction } from '../filter-api.ts'
import type { ResponseView } from '../request-view.ts'
import type { SessionContext } from '../../session/session-context.ts'
import { ApiVersionsMemo } from './api-versions-memo.ts'

const SOFTWARE_NAME_MIN_VERSION = 3

// one per worker thread: every connection's answer is usually the same. Broker mode passes its
// own (widened for the version bridge, learning what the upstream accepts).
const defaultMemo = new ApiVersionsMemo()

export function createApiVersionsFilter (memo: ApiVersionsMemo = defaultMemo): Filter {
  return {
    interests: {
      requests: [{ apiKeys: [ApiKey.ApiVersions], minVersion: SOFTWARE_NAME_MIN_VERSION, level: 'body' }],
      responses: [{ apiKeys: [ApiKey.ApiVersions], level: 'header' }]
    },
    onRequest (request: FilterRequest): void {
      const context = request.connection as SessionContext
      // the software of a connection does not change (KIP-511): a connection that asks again
      // (some clients do before every metadata refresh) is not decoded again
      if (context.clientSoftwareName !== null) return
      const body = request.body
      if (typeof body.clientSoftwareName === 'string' && body.clientSoftwareName !== '') context.clientSoftwareName = body.clientSoftwareName
      if (typeof body.clientSoftwareVersion === 'string' && body.clientSoftwareVersion !== '') context.clientSoftwareVersion = body.clientSoftwareVersion
    },
    onResponse (response: FilterResponse): ResponseAction | undefined {
      if (response.frame === null) return undefined // kproxy's own answer (an unknown version)
      const out = memo.intersect((response as ResponseView).payload, response.apiVersion)
      return out === null ? undefined : { kind: 'frames', frames: out }
    }
  }
}
