// Consumer groups in mesh mode (classic protocol). A group has a home cluster (mesh.groups by
// group id prefix, else the default cluster, else the first): membership (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup), DescribeGroups and DeleteGroups go to its coordinator there, with
// kproxy as the coordinator clients see. Committed offsets live on each topic's own cluster:
// OffsetCommit is split by cluster, the home cluster's part as the member sent it, the others'
// as simple commits (generation -1, no member id; the group has no members there) — except on a
// mesh cluster that is the home's physical cluster (the same cluster id, e.g. the same brokers
// under another login): the group has its members there, a simple commit would be refused
// (UNKNOWN_MEMBER_ID), so that part goes as the member sent it too —, and
// OffsetFetch asks every cluster concerned and merges the answers, so that lag is right for each
// topic. ListGroups asks every broker of every cluster and lists a group once, from its home.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { coordinatorMoved, newRequest, newResponse, partFailure, requestStructs, responseStructs, routeTopic, topicsByCluster } from './common.ts'
import { errorAnswer, GROUP_KEY, relayToCoordinator, toCoordinator } from './coordinated.ts'

function homeOf (host: MeshHost, groupId: string): MeshCluster {
  return host.clusters.get(host.groups.home(groupId))!
}

// Two mesh clusters over one Kafka cluster (the cluster ids their Metadata answers gave).
function sameCluster (a: MeshCluster, b: MeshCluster): boolean {
  return a.clusterId !== null && a.clusterId === b.clusterId
}

// JoinGroup, SyncGroup, Heartbeat, LeaveGroup: the group's coordinator on its home cluster.
export function membership (call: MeshCall, host: MeshHost): void {
  relayToCoordinator(call, homeOf(host, call.body.groupId), GROUP_KEY, call.body.groupId)
}

export function describeGroups (call: MeshCall, host: MeshHost): void {
  const s = responseStructs(ApiKey.DescribeGroups)
  perGroup(call, host, ApiKey.DescribeGroups, call.body.groups, 'groups',
    groupId => ({ ...s('DescribedGroup'), groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groupState: '', protocolType: '', protocolData: '', members: [] }),
    (sub, groupId) => {
      sub.groups = [groupId]
      sub.includeAuthorizedOperations = call.body.includeAuthorizedOperations
    })
}

export function deleteGroups (call: MeshCall, host: MeshHost): void {
  const s = responseStructs(ApiKey.DeleteGroups)
  perGroup(call, host, ApiKey.DeleteGroups, call.body.groupsNames, 'results',
    groupId => ({ ...s('DeletableGroupResult'), groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }),
    (sub, groupId) => { sub.groupsNames = [groupId] })
}

// DescribeGroups, DeleteGroups: one request per group, to its coordinator on its home cluster,
// answered in the client's order under `results` (the answers' list too); a group its
// coordinator did not answer for keeps `unanswered`'s result with the error met.
function perGroup (call: MeshCall, host: MeshHost, apiKey: number, ids: string[], results: string, unanswered: (groupId: string) => any, ask: (sub: any, groupId: string) => void): void {
  const out: any[] = ids.map(unanswered)
  call.whenAll = () => {
    const body = newResponse(apiKey)
    body[results] = out
    call.answer(body)
  }
  ids.forEach((groupId, i) => {
    const sub = newRequest(apiKey)
    ask(sub, groupId)
    toCoordinator(call, homeOf(host, groupId), GROUP_KEY, groupId, sub, (answer, errorCode) => {
      const r = answer?.[results]?.[0]
      if (r !== undefined) out[i] = r
      else out[i].errorCode = errorCode !== 0 ? errorCode : ErrorCode.COORDINATOR_NOT_AVAILABLE
    })
  })
}

export function listGroups (call: MeshCall, host: MeshHost): void {
  const seen = new Map<string, any>()
  let errorCode = 0
  call.whenAll = () => {
    const body = newResponse(ApiKey.ListGroups)
    body.errorCode = errorCode
    body.groups = [...seen.values()]
    call.answer(body)
  }
  for (const cluster of host.clusters.values()) {
    const release = call.hold()
    cluster.metadata([], false, (answer) => {
      if (answer === null) errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE
      for (const node of cluster.brokers.keys()) {
        call.send(cluster, node, 'shared', call.body, (groups) => {
          if (groups === null) {
            errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE
            return
          }
          for (const g of groups.groups) {
            if (host.groups.home(g.groupId) === cluster.name && !seen.has(g.groupId)) seen.set(g.groupId, g)
          }
        })
      }
      release()
    })
  }
}

const SIMPLE_GENERATION = -1

export function offsetCommit (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const groupId: string = rq.groupId
  const home = homeOf(host, groupId)
  const topics: any[] = rq.topics
  const routed = topics.map(t => routeTopic(host, t.name))
  const s = responseStructs(ApiKey.OffsetCommit)
  const results: any[] = topics.map((t, ti) => ({
    ...s('OffsetCommitResponseTopic'),
    name: t.name,
    partitions: t.partitions.map((p: any) => ({ ...s('OffsetCommitResponsePartition'), partitionIndex: p.partitionIndex, errorCode: routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.COORDINATOR_NOT_AVAILABLE }))
  }))
  call.whenAll = () => {
    const body = newResponse(ApiKey.OffsetCommit)
    body.topics = results
    call.answer(body)
  }
  const byCluster = topicsByCluster(routed)
  const rs = requestStructs(ApiKey.OffsetCommit)
  for (const [cluster, tis] of byCluster) {
    const sub = newRequest(ApiKey.OffsetCommit)
    sub.groupId = groupId
    if (cluster === home || sameCluster(cluster, home)) {
      sub.generationIdOrMemberEpoch = rq.generationIdOrMemberEpoch
      sub.memberId = rq.memberId
      sub.groupInstanceId = rq.groupInstanceId
    } else {
      sub.generationIdOrMemberEpoch = SIMPLE_GENERATION
      sub.memberId = ''
      sub.groupInstanceId = null
    }
    sub.retentionTimeMs = rq.retentionTimeMs
    sub.topics = tis.map(ti => ({ ...rs('OffsetCommitRequestTopic'), name: routed[ti]!.name, topicId: topics[ti].topicId, partitions: topics[ti].partitions }))
    toCoordinator(call, cluster, GROUP_KEY, groupId, sub, (answer, errorCode) => {
      for (const ti of tis) {
        const tr = answer?.topics.find((x: any) => x.name === routed[ti]!.name)
        for (const p of results[ti].partitions) {
          const pr = tr?.partitions.find((x: any) => x.partitionIndex === p.partitionIndex)
          p.errorCode = pr !== undefined ? pr.errorCode : errorCode !== 0 ? errorCode : partFailure()
          if (coordinatorMoved(p.errorCode)) cluster.forgetCoordinator(GROUP_KEY, groupId)
        }
      }
    })
  }
}

export function offsetFetch (call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const groupId: string = rq.groupId
  const home = homeOf(host, groupId)
  const s = responseStructs(ApiKey.OffsetFetch)
  const rs = requestStructs(ApiKey.OffsetFetch)
  let errorCode = 0
  if (rq.topics === null) {
    // every committed offset: each cluster's, named as the client names them
    const found: any[] = []
    call.whenAll = () => {
      const body = newResponse(ApiKey.OffsetFetch)
      body.topics = found
      body.errorCode = errorCode
      call.answer(body)
    }
    for (const cluster of host.clusters.values()) {
      const sub = newRequest(ApiKey.OffsetFetch)
      sub.groupId = groupId
      sub.topics = null
      sub.requireStable = rq.requireStable
      toCoordinator(call, cluster, GROUP_KEY, groupId, sub, (answer, code) => {
        if (answer === null) {
          errorCode = code
          return
        }
        if (answer.errorCode !== 0 && (cluster === home || coordinatorMoved(answer.errorCode))) errorCode = answer.errorCode
        for (const t of answer.topics) {
          const name = host.topics.clientName(cluster.name, t.name)
          if (name !== null) found.push({ ...t, name })
        }
      })
    }
    return
  }
  const topics: any[] = rq.topics
  const routed = topics.map(t => routeTopic(host, t.name))
  const results: any[] = topics.map((t, ti) => ({
    ...s('OffsetFetchResponseTopic'),
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex: number) => ({ ...s('OffsetFetchResponsePartition'), partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: routed[ti] === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0 }))
  }))
  call.whenAll = () => {
    const body = newResponse(ApiKey.OffsetFetch)
    body.topics = results
    body.errorCode = errorCode
    call.answer(body)
  }
  const byCluster = topicsByCluster(routed)
  for (const [cluster, tis] of byCluster) {
    const sub = newRequest(ApiKey.OffsetFetch)
    sub.groupId = groupId
    sub.requireStable = rq.requireStable
    sub.topics = tis.map(ti => ({ ...rs('OffsetFetchRequestTopic'), name: routed[ti]!.name, partitionIndexes: topics[ti].partitionIndexes }))
    toCoordinator(call, cluster, GROUP_KEY, groupId, sub, (answer, code) => {
      if (answer === null) {
        errorCode = code
        return
      }
      if (answer.errorCode !== 0 && (cluster === home || coordinatorMoved(answer.errorCode))) errorCode = answer.errorCode
      for (const ti of tis) {
        const tr = answer.topics.find((x: any) => x.name === routed[ti]!.name)
        if (tr === undefined) continue
        results[ti].partitions = results[ti].partitions.map((p: any) => tr.partitions.find((x: any) => x.partitionIndex === p.partitionIndex) ?? p)
      }
    })
  }
}

export { errorAnswer }
