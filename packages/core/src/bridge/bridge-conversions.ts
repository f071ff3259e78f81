// What the version bridge does per API beyond re-encoding. A request decoded at the client's
// version and encoded at the target version keeps every field both versions have, and new fields
// take their defaults (merge-old-versions.ts made one type per message); the same holds for the
// answer on its way back. Only where an old version's meaning lives in a field the new one lacks
// (or in the records' format) is there code here:
//
//   Produce v0-2        message sets -> one v2 batch per partition      (produce-bridge.ts)
//   Fetch v0-3          v2 batches -> message sets, within fetch sizes  (fetch-bridge.ts)
//   ListOffsets v0      maxNumOffsets / oldStyleOffsets <- the one offset v1+ answers
//   DescribeConfigs v0  isDefault <- configSource is DEFAULT_CONFIG (5)
//
// Everything else converts by re-encoding alone: OffsetCommit v0 (generation -1, no member: the
// "simple" commit of a group without members, stored by the group coordinator instead of
// ZooKeeper) and v1 (its per-partition commitTimestamp has no successor: the broker's retention
// applies), OffsetFetch v0 (read from the group coordinator instead of ZooKeeper), CreateTopics
// v0-1, DeleteTopics v0, OffsetForLeaderEpoch v0-1 (no current leader epoch: -1), WriteTxnMarkers
// v0, the ACL APIs v0 (pattern type LITERAL, the only one v0 knew), AlterReplicaLogDirs v0,
// DescribeLogDirs v0 and the delegation token APIs v0. docs/version-bridge.md lists what cannot
// be bridged.
import { ApiKey } from '../protocol/generated/api-table.ts'
import { fetchRequestState, fetchResponseToOld } from './fetch-bridge.ts'
import type { FetchBridgeState } from './fetch-bridge.ts'
import { addProduceFailures, produceRequestToV3 } from './produce-bridge.ts'
import type { PartitionFailure, ProduceBridgeState } from './produce-bridge.ts'

// DescribeConfigs ConfigSource DEFAULT_CONFIG
const DEFAULT_CONFIG = 5

export interface BridgeLimits {
  // decompressed bytes allowed per partition's records, both ways
  maxUncompressedSize?: number
}

// The result of converting one request: what its answer's conversion needs, and the partitions
// answered by kproxy because their records could not be converted.
export interface RequestConversion {
  state: unknown
  failed: PartitionFailure[]
  // false: nothing is left to send upstream (kproxy answers with `failed`)
  forward: boolean
}

const NOTHING: RequestConversion = { state: null, failed: [], forward: true }

// Edits `body` (decoded at `from`) so that it means the same encoded at `to`.
export function convertRequest (apiKey: number, body: any, from: number, to: number, limits: BridgeLimits = {}): RequestConversion {
  switch (apiKey) {
    case ApiKey.Produce: {
      if (from >= 3 || to < 3) return NOTHING
      const state = produceRequestToV3(body, limits)
      return { state, failed: state.failed, forward: state.remaining > 0 }
    }
    case ApiKey.Fetch:
      return from < 4 && to >= 4 ? { state: fetchRequestState(body), failed: [], forward: true } : NOTHING
    case ApiKey.ListOffsets: {
      if (from !== 0) return NOTHING
      const wanted = new Map<string, number>()
      for (const t of body.topics) for (const p of t.partitions) wanted.set(`${t.name}\u0000${p.partitionIndex}`, p.maxNumOffsets)
      return { state: wanted, failed: [], forward: true }
    }
    default:
      return NOTHING
  }
}

// Edits the answer `body` (decoded at `to`) so that it means the same encoded at `from`; returns
// partitions whose records could not be converted (already marked with an error in `body`).
export function convertResponse (apiKey: number, body: any, from: number, to: number, conversion: RequestConversion, limits: BridgeLimits = {}): PartitionFailure[] {
  switch (apiKey) {
    case ApiKey.Produce:
      if (conversion.failed.length > 0) addProduceFailures(body, (conversion.state as ProduceBridgeState).failed)
      return []
    case ApiKey.Fetch:
      if (from < 4 && to >= 4) return fetchResponseToOld(body, from, conversion.state as FetchBridgeState, limits)
      return []
    case ApiKey.ListOffsets: {
      if (from !== 0) return []
      const wanted = conversion.state as Map<string, number>
      for (const t of body.topics) {
        for (const p of t.partitions) {
          const max = wanted.get(`${t.name}\u0000${p.partitionIndex}`) ?? 1
          p.oldStyleOffsets = p.errorCode === 0 && p.offset >= 0n && max > 0 ? [p.offset] : []
        }
      }
      return []
    }
    case ApiKey.DescribeConfigs:
      if (from === 0) for (const r of body.results) for (const c of r.configs) c.isDefault = c.configSource === DEFAULT_CONFIG
      return []
    default:
      return []
  }
}
