// Lookups over the generated API table: by key, by name, and the version ranges kproxy can
// decode (what a proxy may advertise in ApiVersions, intersected with the broker's ranges).
import { API_TABLE, ApiKey } from './generated/api-table.ts'
import { BRIDGED_APIS, BRIDGED_FROM_KAFKA_VERSION } from './generated/bridged-versions.ts'
import type { ApiSpec } from './primitives/message-codec.ts'

export { API_TABLE, ApiKey, BRIDGED_APIS, BRIDGED_FROM_KAFKA_VERSION }
export type { BridgedApi } from './generated/bridged-versions.ts'
export type { RequestBodies, ResponseBodies } from './generated/api-table.ts'
export type { ApiSpec }

const byName = new Map<string, ApiSpec>(API_TABLE.map(a => [a.name, a]))

export function apiByKey (apiKey: number): ApiSpec | undefined {
  return API_TABLE[apiKey]
}

// By the name used in Kafka's definitions, without Request/Response: 'Metadata', 'Fetch'.
export function apiByName (name: string): ApiSpec | undefined {
  return byName.get(name)
}

export interface VersionRange {
  apiKey: number
  minVersion: number
  maxVersion: number
}

// The API keys with at least one supported version, with their ranges, ordered by key.
// Unstable latest versions (latestVersionUnstable) are left out unless asked for, as Kafka's
// brokers do unless unstable.api.versions.enable is set.
export function supportedVersions (includeUnstable = false): VersionRange[] {
  const out: VersionRange[] = []
  for (const a of API_TABLE) {
    if (a.minVersion < 0) continue
    const max = a.latestVersionUnstable && !includeUnstable ? a.maxVersion - 1 : a.maxVersion
    if (max >= a.minVersion) out.push({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: max })
  }
  return out
}

// APIs whose lowest versions kproxy forwards without decoding, so it advertises the broker's own
// minimum for them. Produce: a Kafka 4 broker advertises v0-13 on purpose although it refuses
// v0-2 (KAFKA-18659), because librdkafka before confluentinc/librdkafka#4956 turns compression on
// only when Produce v0 is listed; narrowing it to the codec's v3 made such clients (kcat 1.7 with
// librdkafka 2.0.2) send every batch uncompressed. A v0-2 request then gets the broker's own answer.
export const FORWARDED_BELOW_CODEC: ReadonlySet<number> = new Set([ApiKey.Produce])

// The intersection of what kproxy can decode and what a broker advertised; keys outside either
// side are dropped (a proxy must not promise what it cannot handle). Exception: the minimum of the
// FORWARDED_BELOW_CODEC keys is the broker's.
export function intersectVersions (broker: readonly VersionRange[], includeUnstable = false): VersionRange[] {
  const mine = new Map(supportedVersions(includeUnstable).map(v => [v.apiKey, v]))
  const out: VersionRange[] = []
  for (const b of broker) {
    const m = mine.get(b.apiKey)
    if (m === undefined) continue
    const lo = FORWARDED_BELOW_CODEC.has(b.apiKey) ? b.minVersion : Math.max(m.minVersion, b.minVersion)
    const hi = Math.min(m.maxVersion, b.maxVersion)
    if (lo <= hi) out.push({ apiKey: b.apiKey, minVersion: lo, maxVersion: hi })
  }
  return out.sort((a, b) => a.apiKey - b.apiKey)
}

// Per API key, every version kproxy's codecs read and write: the supported range widened down
// by the bridged versions (what a version bridge may advertise to clients). Unstable latest
// versions are left out as in supportedVersions().
export function decodableVersions (includeUnstable = false): VersionRange[] {
  return supportedVersions(includeUnstable).map(v => {
    const a = API_TABLE[v.apiKey]
    return a.bridgedMinVersion < 0 ? v : { apiKey: v.apiKey, minVersion: a.bridgedMinVersion, maxVersion: v.maxVersion }
  })
}
