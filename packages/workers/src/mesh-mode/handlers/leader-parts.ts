// Splitting a request's partitions into parts, one per (cluster, leader[, shard]): what Produce,
// Fetch and the per-partition admin requests share once every cluster's leaders are known.
import { ErrorCode } from '@kproxy/core/protocol/codec'
import type { MeshCluster } from '../mesh-cluster.ts'
import type { RoutedTopic } from './common.ts'

export interface LeaderPart {
  readonly cluster: MeshCluster
  readonly leader: number
  readonly shard: number
  // client topic position -> its partitions' positions, both in the client's order
  readonly topics: Map<number, number[]>
}

// `partitions[ti]` lists topic ti's partition indexes as the client sent them. A partition
// without a known leader gets its error in `slots` (retriable if the topic exists there, so the
// client asks Metadata again) and marks its topic stale. `shardOf` splits a leader's part
// further (Produce); without it every leader has one part (shard 0).
export function partsByLeader (
  routed: ReadonlyArray<RoutedTopic | null>,
  partitions: ReadonlyArray<readonly number[]>,
  slots: ReadonlyArray<ReadonlyArray<{ errorCode: number }>>,
  shardOf?: (name: string, index: number) => number
): Map<string, LeaderPart> {
  const parts = new Map<string, LeaderPart>()
  partitions.forEach((indexes, ti) => {
    const r = routed[ti]
    if (r === null) return
    indexes.forEach((index, pi) => {
      const leader = r.cluster.leader(r.name, index)
      if (leader < 0) {
        slots[ti]![pi]!.errorCode = r.cluster.down || r.cluster.topics.has(r.name) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        r.cluster.stale(r.name)
        return
      }
      const shard = shardOf === undefined ? 0 : shardOf(r.name, index)
      const key = `${r.cluster.name}\u0000${leader}\u0000${shard}`
      let part = parts.get(key)
      if (part === undefined) parts.set(key, part = { cluster: r.cluster, leader, shard, topics: new Map() })
      const list = part.topics.get(ti)
      if (list === undefined) part.topics.set(ti, [pi])
      else list.push(pi)
    })
  })
  return parts
}
