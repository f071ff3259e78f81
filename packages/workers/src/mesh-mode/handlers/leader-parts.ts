// Splitting a request's partitions into parts, one per (cluster, leader): what Fetch and the
// per-partition admin requests share once every cluster's leaders are known. (Produce groups its
// slots itself, by leader and produce shard, without maps: handlers/produce.ts.)
import { ErrorCode } from '@kproxy/core/protocol/codec'
import type { MeshCluster } from '../mesh-cluster.ts'
import type { RoutedTopic } from './common.ts'

export interface LeaderPart {
  readonly cluster: MeshCluster
  readonly leader: number
  // client topic position -> its partitions' positions, both in the client's order
  readonly topics: Map<number, number[]>
}

// The error of a partition whose leader `cluster` does not know (retriable if the topic exists
// there, so the client asks Metadata again); the topic is marked stale.
export function noLeader (cluster: MeshCluster, topic: string): number {
  cluster.stale(topic)
  return cluster.down || cluster.topics.has(topic) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
}

// `partitions[ti]` lists topic ti's partition indexes as the client sent them. A partition
// without a known leader gets its error in `slots` (noLeader).
export function partsByLeader (
  routed: ReadonlyArray<RoutedTopic | null>,
  partitions: ReadonlyArray<readonly number[]>,
  slots: ReadonlyArray<ReadonlyArray<{ errorCode: number }>>
): Map<string, LeaderPart> {
  const parts = new Map<string, LeaderPart>()
  partitions.forEach((indexes, ti) => {
    const r = routed[ti]
    if (r === null) return
    indexes.forEach((index, pi) => {
      const leader = r.cluster.leader(r.name, index)
      if (leader < 0) {
        slots[ti]![pi]!.errorCode = noLeader(r.cluster, r.name)
        return
      }
      const key = `${r.cluster.name}\u0000${leader}`
      let part = parts.get(key)
      if (part === undefined) parts.set(key, part = { cluster: r.cluster, leader, topics: new Map() })
      const list = part.topics.get(ti)
      if (list === undefined) part.topics.set(ti, [pi])
      else list.push(pi)
    })
  })
  return parts
}
