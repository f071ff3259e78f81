// What the handlers share: which Kafka errors mean stale leaders or a moved coordinator, response structs, and routing a
// client's topic name to its cluster.
import { ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import type { MeshCluster } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'

// errors after which a cluster's metadata (leaders) is asked again
const STALE_LEADER = new Set<number>([ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.UNKNOWN_TOPIC_ID, ErrorCode.NETWORK_EXCEPTION])
export function staleLeader (code: number): boolean { return STALE_LEADER.has(code) }

const COORDINATOR_MOVED = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS])
export function coordinatorMoved (code: number): boolean { return COORDINATOR_MOVED.has(code) }

export type StructMaker = (name: string) => any

export function requestStructs (apiKey: number): StructMaker {
  const s = getApi(apiKey).request.structs
  return name => s[name]!()
}

export function responseStructs (apiKey: number): StructMaker {
  const s = getApi(apiKey).response.structs
  return name => s[name]!()
}

export function newResponse (apiKey: number): any {
  return getApi(apiKey).response.create()
}

export function newRequest (apiKey: number): any {
  return getApi(apiKey).request.create()
}

export interface RoutedTopic {
  readonly cluster: MeshCluster
  // the upstream name
  readonly name: string
}

// The cluster and upstream name of a client's topic; null: no route (or a route to a cluster this
// worker does not have, which the config check rules out).
export function routeTopic (host: MeshHost, name: string): RoutedTopic | null {
  const r = host.topics.route(name)
  if (r === null) return null
  const cluster = host.clusters.get(r.cluster)
  return cluster === undefined ? null : { cluster, name: r.name }
}

// kproxy stands for every broker: a leader a cluster names becomes kproxy's node
export function advertisedLeader (host: MeshHost, leaderId: number): number {
  return leaderId >= 0 ? host.nodeId : -1
}

// Groups items by a key, keeping first-seen order of keys and of items.
export function groupBy<T, K> (items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>()
  for (const item of items) {
    const k = keyOf(item)
    const list = out.get(k)
    if (list === undefined) out.set(k, [item])
    else list.push(item)
  }
  return out
}

// The positions of the routed topics, by their cluster (first-seen order); unrouted ones are left out.
export function topicsByCluster (routed: ReadonlyArray<RoutedTopic | null>): Map<MeshCluster, number[]> {
  return groupBy(routed.flatMap((r, ti) => r === null ? [] : [ti]), ti => routed[ti]!.cluster)
}

// A part's failure as the error code its partitions get: retriable, so clients retry.
export function partFailure (): number {
  return ErrorCode.NOT_LEADER_OR_FOLLOWER
}

// The upstream topic names of routed topics, by cluster (each name once), for MeshCluster.ensure.
export function namesByCluster (routed: Iterable<{ readonly cluster: MeshCluster | null, readonly name: string } | null>): Map<MeshCluster, string[]> {
  const clusters = new Map<MeshCluster, string[]>()
  for (const r of routed) {
    if (r === null || r.cluster === null) continue
    const names = clusters.get(r.cluster)
    if (names === undefined) clusters.set(r.cluster, [r.name])
    else if (!names.includes(r.name)) names.push(r.name)
  }
  return clusters
}

// Holds the call until every cluster named in `routed` knows the metadata of its topics there
// (at once when all are known), then runs `plan`, which splits the request into its parts.
export function whenRouted (call: { hold (): () => void }, routed: ReadonlyArray<RoutedTopic | null>, plan: () => void): void {
  const release = call.hold()
  const clusters = namesByCluster(routed)
  let waiting = clusters.size + 1
  const ready = (): void => {
    if (--waiting > 0) return
    plan()
    release()
  }
  for (const [c, names] of clusters) c.ensure(names, ready)
  ready()
}
