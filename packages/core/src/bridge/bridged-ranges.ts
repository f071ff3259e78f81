// What kproxy advertises in ApiVersions when the version bridge is on: each range it would
// advertise anyway (the broker's, cut to what the codecs handle) widened down by the versions the
// bridge converts (BRIDGED_APIS: what Kafka 3.9 had and the pinned 4.x dropped), so that old
// clients see their versions listed and use them. Only a contiguous widening: the bridge converts
// a bridged version to the lowest one the upstream accepts, which must be the range's minimum.
import { apiByKey } from '../protocol/api-keys.ts'
import type { VersionRange } from '../protocol/api-keys.ts'

export function widenWithBridge (ranges: readonly VersionRange[]): VersionRange[] {
  return ranges.map(r => {
    const api = apiByKey(r.apiKey)
    if (api === undefined || api.bridgedMinVersion < 0) return r
    if (r.minVersion <= api.bridgedMinVersion || r.minVersion > api.bridgedMaxVersion + 1) return r
    return { apiKey: r.apiKey, minVersion: api.bridgedMinVersion, maxVersion: r.maxVersion }
  })
}
