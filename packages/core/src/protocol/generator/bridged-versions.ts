// Which (API, version) pairs kproxy bridges: the versions the last Kafka 3.x release had and the
// pinned release dropped (KIP-896), derived from the two sets of definitions, never typed by hand.
//
// Rules, per API key:
//   - only APIs a 3.x KRaft broker served to clients: the 3.x request lists the "broker"
//     listener (LeaderAndIsr, StopReplica, UpdateMetadata, ControlledShutdown and the
//     controller-only APIs were never sent by a client)
//   - only stable 3.x versions: a latest version marked latestVersionUnstable (the early-access
//     share-group APIs of 3.9) was never enabled on a production broker
//   - the dropped versions must lie just below the pinned release's range (one contiguous range)
import { formatRange, isEmpty, NO_VERSIONS, specError } from './spec.ts'
import type { MessageSpec, Range } from './spec.ts'

export interface BridgedApi {
  apiKey: number
  name: string
  current: Range // what the pinned release supports
  bridged: Range // the older versions only the 3.x release had
}

function stableVersions (spec: MessageSpec): Range {
  const v = spec.validVersions
  if (!spec.latestVersionUnstable || isEmpty(v)) return v
  return v.lo === v.hi ? NO_VERSIONS : { lo: v.lo, hi: v.hi - 1 }
}

function requestsByKey (specs: MessageSpec[]): Map<number, MessageSpec> {
  return new Map(specs.filter(s => s.type === 'request').map(s => [s.apiKey as number, s]))
}

export function deriveBridgedApis (current: MessageSpec[], old: MessageSpec[]): BridgedApi[] {
  const now = requestsByKey(current)
  const out: BridgedApi[] = []
  for (const [apiKey, before] of [...requestsByKey(old)].sort((a, b) => a[0] - b[0])) {
    if (!before.listeners.includes('broker')) continue
    const stable = stableVersions(before)
    const cur = now.get(apiKey)
    if (isEmpty(stable) || cur === undefined) continue
    const v = cur.validVersions
    if (!isEmpty(v) && stable.lo >= v.lo) continue
    const bridged = { lo: stable.lo, hi: isEmpty(v) ? stable.hi : Math.min(stable.hi, v.lo - 1) }
    if (!isEmpty(v) && stable.hi < v.lo - 1) {
      specError(before.file, `versions ${formatRange({ lo: stable.hi + 1, hi: v.lo - 1 })} are in neither release`)
    }
    if (cur.name !== before.name) specError(cur.file, `API key ${apiKey} was ${before.name} and is now ${cur.name}; bridging renamed APIs is not supported`)
    out.push({ apiKey, name: cur.name.replace(/Request$/, ''), current: v, bridged })
  }
  return out
}
