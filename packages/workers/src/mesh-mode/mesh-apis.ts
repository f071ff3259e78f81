// The APIs mesh mode answers, each with its handler and the highest version kproxy handles
// there. The versions clients are offered are these ∩ kproxy's codec ∩ every cluster's
// ApiVersions. The caps keep clients on forms kproxy can route:
//   Produce ≤ 12, Fetch ≤ 12      topics by name (v13 names them by id only)
//   FindCoordinator: every version (kproxy answers it)
//   OffsetCommit ≤ 9, OffsetFetch ≤ 7    topics by name, one group per request
//   AddPartitionsToTxn ≤ 3        the client form (v4+ is the broker-to-broker one)
//   InitProducerId ≤ 5, EndTxn ≤ 4, AddOffsetsToTxn ≤ 4, TxnOffsetCommit ≤ 4   transactions v1
// Left out (a client sees them unsupported): the KIP-848 consumer group protocol (a coordinator
// assigns from its own cluster's topics only: use the classic protocol), share groups, SASL.
import { ApiKey, FORWARDED_BELOW_CODEC, supportedVersions } from '@kproxy/core/protocol/api-keys'
import type { VersionRange } from '@kproxy/core/protocol/api-keys'
import { encodeResponse } from '@kproxy/core/protocol/codec'
import type { MeshCall } from './mesh-call.ts'
import type { MeshHost } from './mesh-host.ts'
import { apiVersions, apiVersionsBody, describeCluster, findCoordinator } from './handlers/kproxy-answers.ts'
import { metadata } from './handlers/metadata.ts'
import { produce } from './handlers/produce.ts'
import { fetch } from './handlers/fetch.ts'
import { deleteRecords, listOffsets, offsetForLeaderEpoch } from './handlers/by-partition.ts'
import { alterConfigs, createPartitions, createTopics, deleteTopics, describeConfigs, incrementalAlterConfigs } from './handlers/by-name.ts'
import { deleteGroups, describeGroups, listGroups, membership, offsetCommit, offsetFetch } from './handlers/groups.ts'
import { addPartitionsToTxn, initProducerId, transactionCoordinated, txnOffsetCommit } from './handlers/transactions.ts'

export type Handler = (call: MeshCall, host: MeshHost) => void

const UNSUPPORTED_VERSION = 35

const TABLE: ReadonlyMap<number, { handler: Handler, max: number, ownAnswer?: boolean }> = new Map([
  [ApiKey.ApiVersions, { handler: apiVersions, max: 4, ownAnswer: true }],
  [ApiKey.Metadata, { handler: metadata, max: 12 }],
  [ApiKey.DescribeCluster, { handler: describeCluster, max: 2, ownAnswer: true }],
  [ApiKey.FindCoordinator, { handler: findCoordinator, max: 6, ownAnswer: true }],
  [ApiKey.Produce, { handler: produce, max: 12 }],
  [ApiKey.Fetch, { handler: fetch, max: 12 }],
  [ApiKey.ListOffsets, { handler: listOffsets, max: 11 }],
  [ApiKey.OffsetForLeaderEpoch, { handler: offsetForLeaderEpoch, max: 4 }],
  [ApiKey.DeleteRecords, { handler: deleteRecords, max: 2 }],
  [ApiKey.CreateTopics, { handler: createTopics, max: 7 }],
  [ApiKey.DeleteTopics, { handler: deleteTopics, max: 6 }],
  [ApiKey.CreatePartitions, { handler: createPartitions, max: 3 }],
  [ApiKey.DescribeConfigs, { handler: describeConfigs, max: 4 }],
  [ApiKey.AlterConfigs, { handler: alterConfigs, max: 2 }],
  [ApiKey.IncrementalAlterConfigs, { handler: incrementalAlterConfigs, max: 1 }],
  [ApiKey.JoinGroup, { handler: membership, max: 9 }],
  [ApiKey.SyncGroup, { handler: membership, max: 5 }],
  [ApiKey.Heartbeat, { handler: membership, max: 4 }],
  [ApiKey.LeaveGroup, { handler: membership, max: 5 }],
  [ApiKey.DescribeGroups, { handler: describeGroups, max: 6 }],
  [ApiKey.ListGroups, { handler: listGroups, max: 5 }],
  [ApiKey.DeleteGroups, { handler: deleteGroups, max: 2 }],
  [ApiKey.OffsetCommit, { handler: offsetCommit, max: 9 }],
  [ApiKey.OffsetFetch, { handler: offsetFetch, max: 7 }],
  [ApiKey.InitProducerId, { handler: initProducerId, max: 5 }],
  [ApiKey.AddPartitionsToTxn, { handler: addPartitionsToTxn, max: 3 }],
  [ApiKey.AddOffsetsToTxn, { handler: transactionCoordinated, max: 4 }],
  [ApiKey.EndTxn, { handler: transactionCoordinated, max: 4 }],
  [ApiKey.TxnOffsetCommit, { handler: txnOffsetCommit, max: 4 }]
])

export function handlerFor (apiKey: number): Handler | null {
  return TABLE.get(apiKey)?.handler ?? null
}

// answered by the session's SASL stage while kproxy terminates SASL (policy.sasl), never routed
const SASL_APIS: ReadonlySet<number> = new Set([ApiKey.SaslHandshake, ApiKey.SaslAuthenticate])

// What the mesh offers: kproxy's codec and caps, narrowed by each cluster that answered
// ApiVersions (an API some cluster lacks is left out, except those kproxy answers itself); with
// SASL termination also SaslHandshake and SaslAuthenticate, at the versions kproxy's codec reads.
export function meshVersions (clusters: ReadonlyArray<readonly VersionRange[] | null>, apiKeysAllowed: readonly number[], apiKeysDenied: readonly number[], saslTermination = false): VersionRange[] {
  let ranges: VersionRange[] = []
  for (const v of supportedVersions()) {
    const t = TABLE.get(v.apiKey)
    // Produce: offered from the clusters' own minimum, as broker mode does (FORWARDED_BELOW_CODEC:
    // librdkafka compresses only when v0 is listed); a v0-2 request itself cannot be routed
    const min = FORWARDED_BELOW_CODEC.has(v.apiKey) ? 0 : v.minVersion
    if (t !== undefined && Math.min(v.maxVersion, t.max) >= v.minVersion) ranges.push({ apiKey: v.apiKey, minVersion: min, maxVersion: Math.min(v.maxVersion, t.max) })
  }
  for (const c of clusters) {
    if (c === null) continue
    const theirs = new Map(c.map(v => [v.apiKey, v]))
    ranges = ranges.flatMap(r => {
      if (TABLE.get(r.apiKey)?.ownAnswer === true) return [r]
      const t = theirs.get(r.apiKey)
      if (t === undefined) return []
      const lo = Math.max(r.minVersion, t.minVersion)
      const hi = Math.min(r.maxVersion, t.maxVersion)
      return lo <= hi ? [{ apiKey: r.apiKey, minVersion: lo, maxVersion: hi }] : []
    })
  }
  ranges = ranges.filter(r => !apiKeysDenied.includes(r.apiKey) && (apiKeysAllowed.length === 0 || apiKeysAllowed.includes(r.apiKey) || r.apiKey === ApiKey.ApiVersions))
  // not subject to the API key lists: a client cannot authenticate without them
  if (saslTermination) for (const v of supportedVersions()) if (SASL_APIS.has(v.apiKey)) ranges.push({ apiKey: v.apiKey, minVersion: v.minVersion, maxVersion: v.maxVersion })
  return ranges.sort((a, b) => a.apiKey - b.apiKey)
}

// ApiVersions v0 with UNSUPPORTED_VERSION: what a broker answers a version it does not know.
export function unsupportedAnswer (host: MeshHost, correlationId: number): Buffer[] {
  return encodeResponse(ApiKey.ApiVersions, 0, { correlationId }, apiVersionsBody(host, UNSUPPORTED_VERSION))
}
