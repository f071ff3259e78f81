// Names shared by the Prometheus and Envoy renderings: Kafka's API names in snake_case
// ('ApiVersions' -> 'api_versions'), as Envoy's kafka_broker filter spells its stats
// (produce_request, api_versions_response), and Kafka's error names.
import { apiByKey } from '../protocol/api-keys.ts'
import { errorByCode } from '../protocol/generated/error-codes.ts'

export function snakeCase (name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase()
}

const apiNames = new Map<number, string>()

export function apiLabel (apiKey: number): string {
  let n = apiNames.get(apiKey)
  if (n === undefined) {
    const spec = apiByKey(apiKey)
    n = spec !== undefined ? snakeCase(spec.name) : `api_${apiKey}`
    apiNames.set(apiKey, n)
  }
  return n
}

export function errorLabel (code: number): string {
  return code === 255 ? 'OTHER' : errorByCode(code)?.name ?? `UNKNOWN_CODE_${code}`
}
