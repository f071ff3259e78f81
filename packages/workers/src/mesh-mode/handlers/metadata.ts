// Metadata in mesh mode: the routed topics of every cluster as one cluster whose only broker is
// kproxy. A request naming topics asks each cluster for its own (under their upstream names, with
// the client's allowAutoTopicCreation), a request for every topic asks every cluster; the answers
// are renamed back, their leaders become kproxy's node (replicas and ISR too), and each topic
// keeps its own cluster's topic id. A cluster that cannot be asked answers from what kproxy knew
// of it, with every leader unavailable, as Kafka marks partitions without a leader.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster, TopicMeta } from '../mesh-cluster.ts'
import { ZERO_UUID } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { advertisedLeader, newResponse, responseStructs, routeTopic } from './common.ts'

const AUTHORIZED_OPERATIONS_UNKNOWN = -2147483648

interface Wanted {
  // the client's name (null: asked by an id kproxy does not know)
  name: string | null
  topicId: string
  cluster: MeshCluster | null
  upstream: string | null
}

export function metadata (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const s = responseStructs(ApiKey.Metadata)
  const body = newResponse(ApiKey.Metadata)
  body.brokers = [{ ...s('MetadataResponseBroker'), nodeId: host.nodeId, host: host.advertisedHost, port: host.advertisedPort, rack: null }]
  body.clusterId = host.clusterId
  body.controllerId = host.nodeId
  body.clusterAuthorizedOperations = AUTHORIZED_OPERATIONS_UNKNOWN
  const toTopic = (name: string, cluster: MeshCluster, meta: TopicMeta | undefined, unavailable: boolean): any => {
    const t = { ...s('MetadataResponseTopic'), name, topicAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN }
    if (meta === undefined) {
      t.errorCode = unavailable ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      t.partitions = []
      return t
    }
    t.errorCode = meta.errorCode
    t.topicId = meta.topicId
    t.isInternal = meta.isInternal
    t.partitions = meta.partitions.map(p => {
      const leader = unavailable ? -1 : advertisedLeader(host, p.leaderId)
      return {
        ...s('MetadataResponsePartition'),
        errorCode: unavailable ? ErrorCode.LEADER_NOT_AVAILABLE : p.errorCode,
        partitionIndex: p.partitionIndex,
        leaderId: leader,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [host.nodeId],
        isrNodes: leader >= 0 ? [host.nodeId] : [],
        offlineReplicas: []
      }
    })
    void cluster
    return t
  }

  if (rq.topics === null) {
    // every topic of every cluster that routes back to it
    const clusters = [...host.clusters.values()]
    const down = new Set<MeshCluster>()
    call.whenAll = () => {
      body.topics = []
      for (const c of clusters) {
        for (const meta of c.topics.values()) {
          const name = host.topics.clientName(c.name, meta.name)
          if (name !== null) body.topics.push(toTopic(name, c, meta, down.has(c)))
        }
      }
      call.answer(body)
    }
    for (const c of clusters) {
      const release = call.hold()
      c.metadata(null, false, answer => {
        if (answer === null) down.add(c)
        release()
      })
    }
    return
  }

  const wanted: Wanted[] = rq.topics.map((t: any): Wanted => {
    let name: string | null = t.name
    if (name === null || name === undefined) {
      // by id (v10+): the one cluster that has it
      for (const c of host.clusters.values()) {
        const upstream = c.topicIds.get(t.topicId)
        if (upstream !== undefined) {
          name = host.topics.clientName(c.name, upstream)
          if (name !== null) return { name, topicId: t.topicId, cluster: c, upstream }
        }
      }
      return { name: null, topicId: t.topicId, cluster: null, upstream: null }
    }
    const r = routeTopic(host, name)
    return { name, topicId: t.topicId, cluster: r?.cluster ?? null, upstream: r?.name ?? null }
  })
  const down = new Set<MeshCluster>()
  call.whenAll = () => {
    body.topics = wanted.map(w => {
      if (w.cluster === null || w.upstream === null) {
        return { ...s('MetadataResponseTopic'), name: w.name, topicId: w.name === null ? w.topicId : ZERO_UUID, errorCode: w.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN }
      }
      return toTopic(w.name!, w.cluster, w.cluster.topics.get(w.upstream), down.has(w.cluster))
    })
    call.answer(body)
  }
  const byCluster = new Map<MeshCluster, string[]>()
  for (const w of wanted) {
    if (w.cluster === null || w.upstream === null) continue
    const list = byCluster.get(w.cluster)
    if (list === undefined) byCluster.set(w.cluster, [w.upstream])
    else if (!list.includes(w.upstream)) list.push(w.upstream)
  }
  for (const [c, names] of byCluster) {
    const release = call.hold()
    c.metadata(names, rq.allowAutoTopicCreation === true, answer => {
      if (answer === null) down.add(c)
      release()
    })
  }
}
