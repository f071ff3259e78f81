// Envoy's API key policy as a filter: a key in apiKeysDenied is denied; when apiKeysAllowed is
// non-empty, only its keys are allowed. It declares interest in the denied keys only, so allowed
// traffic never reaches it (no decode, no call). A denied request gets the authorization error
// natural to its API where the response has room for one (top level, per topic, per partition),
// as a broker's authorizer would answer; an API without any error field gets the connection
// closed (KPROXY_ERR_DENIED_NO_RESPONSE), as Envoy does for everything.
import type { Logger } from 'pino'
import { API_TABLE } from '@kproxy/core/protocol/api-keys'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { Filter, FilterRequest, RequestAction } from '../filter-api.ts'
import { AUTHORIZATION } from '../error-response.ts'

export const API_KEY_POLICY = 'apiKeyPolicy'

// allowed[apiKey] === 1 when the policy lets the key through.
export function policyTable (allowedKeys: readonly number[], deniedKeys: readonly number[]): Uint8Array {
  const allowed = new Uint8Array(Math.max(API_TABLE.length, 1))
  for (let k = 0; k < allowed.length; k++) {
    allowed[k] = (allowedKeys.length === 0 || allowedKeys.includes(k)) && !deniedKeys.includes(k) ? 1 : 0
  }
  return allowed
}

const DENIED: RequestAction = { kind: 'error', errorCode: AUTHORIZATION, message: 'denied by kproxy policy' }

// null when the policy denies nothing (the filter would never be called).
export function createApiKeyPolicy (allowedKeys: readonly number[], deniedKeys: readonly number[], metrics: ProxyMetrics, logger: Logger): Filter | null {
  const table = policyTable(allowedKeys, deniedKeys)
  const denied: number[] = []
  for (let k = 0; k < table.length; k++) if (table[k] === 0 && API_TABLE[k] !== undefined) denied.push(k)
  if (denied.length === 0) return null
  return {
    interests: { requests: [{ apiKeys: denied, level: 'body' }] },
    onRequest (request: FilterRequest): RequestAction {
      metrics.denied(request.apiKey)
      if (logger.isLevelEnabled('debug')) logger.debug({ apiKey: request.apiKey, apiVersion: request.apiVersion }, 'request denied by policy')
      return DENIED
    }
  }
}
