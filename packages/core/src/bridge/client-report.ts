// The readiness report: which clients connect through kproxy, with which software, and which
// (API, version) pairs they use — and so which of them would fail against the upstream without
// the version bridge, and which would fail once the cluster runs Kafka 4 (KIP-896). Workers keep
// records (client-registry.ts in the workers package), the supervisor merges them like metrics,
// and `GET /clients` / `kproxy clients` show the assessment made here.
//
// A record is one client identity as seen from one address: client id, software name and version
// (ApiVersions v3+), principal and peer address (ports differ per connection, so they are left
// out); its connections are counted, their used versions united.
import { apiByKey, supportedVersions } from '../protocol/api-keys.ts'
import type { VersionRange } from '../protocol/api-keys.ts'
import { ApiKey } from '../protocol/generated/api-table.ts'
import { KAFKA_VERSION } from '../kafka-release.ts'
import { ApiVersionSet, unpackApiVersion } from './api-version-set.ts'
import { UpstreamVersions } from './upstream-versions.ts'

export interface ClientRecord {
  clientId: string | null
  softwareName: string | null
  softwareVersion: string | null
  principal: string
  // the client's address
  peer: string
  connectionsActive: number
  connectionsTotal: number
  // ms since the epoch
  firstSeen: number
  lastSeen: number
  // (API key, version) pairs used, packed as apiKey * MAX_VERSIONS + version, ascending
  used: number[]
}

// What a worker reports, and what the supervisor merges them into.
export interface ClientsSnapshot {
  bridgeEnabled: boolean
  // what every upstream broker accepts (upstream-versions.ts); null: not learned yet
  upstream: VersionRange[] | null
  clients: ClientRecord[]
}

export function clientKey (r: Pick<ClientRecord, 'clientId' | 'softwareName' | 'softwareVersion' | 'principal' | 'peer'>): string {
  return JSON.stringify([r.clientId, r.softwareName, r.softwareVersion, r.principal, r.peer])
}

// `into` absorbs `r` (same key).
export function absorbClient (into: ClientRecord, r: ClientRecord): void {
  into.connectionsActive += r.connectionsActive
  into.connectionsTotal += r.connectionsTotal
  into.firstSeen = Math.min(into.firstSeen, r.firstSeen)
  into.lastSeen = Math.max(into.lastSeen, r.lastSeen)
  if (r.used.length > 0) {
    const set = ApiVersionSet.fromPacked(into.used)
    set.addAll(ApiVersionSet.fromPacked(r.used))
    into.used = set.toPacked()
  }
}

export function mergeClientRecords (records: Iterable<ClientRecord>): ClientRecord[] {
  const byKey = new Map<string, ClientRecord>()
  for (const r of records) {
    const key = clientKey(r)
    const have = byKey.get(key)
    if (have === undefined) byKey.set(key, { ...r, used: [...r.used] })
    else absorbClient(have, r)
  }
  return [...byKey.values()]
}

// Workers' snapshots together: clients merged by identity; the upstream ranges intersected (each
// worker learned from the brokers it talked to).
export function mergeClientSnapshots (snapshots: readonly ClientsSnapshot[]): ClientsSnapshot {
  let upstream: VersionRange[] | null = null
  for (const s of snapshots) {
    if (s.upstream === null) continue
    if (upstream === null) {
      upstream = s.upstream.map(r => ({ ...r }))
      continue
    }
    const other = new Map(s.upstream.map(r => [r.apiKey, r]))
    upstream = upstream.flatMap(r => {
      const o = other.get(r.apiKey)
      if (o === undefined) return []
      const min = Math.max(r.minVersion, o.minVersion)
      const max = Math.min(r.maxVersion, o.maxVersion)
      return min <= max ? [{ apiKey: r.apiKey, minVersion: min, maxVersion: max }] : []
    })
  }
  return {
    bridgeEnabled: snapshots.some(s => s.bridgeEnabled),
    upstream,
    clients: mergeClientRecords(snapshots.flatMap(s => s.clients))
  }
}

// One version a client used that a cluster does not accept.
export interface VersionNeed {
  api: string
  apiKey: number
  version: number
  // what the cluster accepts of that API ("4-18"), or "none"
  accepted: string
  // the version bridge converts it (to `bridgedTo`); false: it fails even through the bridge
  bridged: boolean
  bridgedTo: number | null
}

export interface ClientAssessment {
  clientId: string | null
  software: { name: string | null, version: string | null }
  principal: string
  peer: string
  connections: { active: number, total: number }
  firstSeen: string
  lastSeen: string
  // API -> versions used
  versions: Array<{ api: string, apiKey: number, versions: number[] }>
  // would fail against the upstream without the bridge (uses versions it does not accept)
  needsBridge: boolean
  needs: VersionNeed[]
  // would fail against the pinned Kafka 4 release without the bridge (before an upgrade: read
  // this one)
  kafka4: { version: string, ready: boolean, needs: VersionNeed[] }
}

export interface ClientsReport {
  bridgeEnabled: boolean
  upstream: { known: boolean, apiVersions: Array<{ api: string, apiKey: number, minVersion: number, maxVersion: number }> }
  summary: { clients: number, needBridge: number, notReadyForKafka4: number }
  clients: ClientAssessment[]
}

function rangeText (ranges: readonly VersionRange[] | null, apiKey: number): string {
  const r = (ranges ?? supportedVersions()).find(x => x.apiKey === apiKey)
  return r === undefined ? 'none' : `${r.minVersion}-${r.maxVersion}`
}

// ApiVersions is left out: a broker answers any version of it (KIP-511), and a client that tries
// a newer one first and is told to retry lower has not failed.
function needsOf (used: readonly number[], cluster: UpstreamVersions, ranges: readonly VersionRange[] | null): VersionNeed[] {
  const out: VersionNeed[] = []
  for (const packed of used) {
    const { apiKey, apiVersion } = unpackApiVersion(packed)
    if (apiKey === ApiKey.ApiVersions || cluster.accepts(apiKey, apiVersion)) continue
    const target = cluster.target(apiKey, apiVersion)
    const api = apiByKey(apiKey)
    out.push({
      api: api?.name ?? `api_${apiKey}`,
      apiKey,
      version: apiVersion,
      accepted: rangeText(ranges, apiKey),
      bridged: target >= 0 && api !== undefined && api.decodes(apiVersion),
      bridgedTo: target >= 0 ? target : null
    })
  }
  return out
}

export function assessClients (snapshot: ClientsSnapshot): ClientsReport {
  const upstream = new UpstreamVersions()
  if (snapshot.upstream !== null) upstream.learn(snapshot.upstream)
  const pinned = supportedVersions()
  const kafka4 = new UpstreamVersions()
  kafka4.learn(pinned)
  const clients = snapshot.clients
    .slice()
    .sort((a, b) => (a.clientId ?? '').localeCompare(b.clientId ?? '') || a.peer.localeCompare(b.peer) || a.firstSeen - b.firstSeen)
    .map((r): ClientAssessment => {
      const byApi = new Map<number, number[]>()
      for (const packed of r.used) {
        const { apiKey, apiVersion } = unpackApiVersion(packed)
        let list = byApi.get(apiKey)
        if (list === undefined) byApi.set(apiKey, list = [])
        list.push(apiVersion)
      }
      const needs = needsOf(r.used, upstream, snapshot.upstream)
      const k4 = needsOf(r.used, kafka4, pinned)
      return {
        clientId: r.clientId,
        software: { name: r.softwareName, version: r.softwareVersion },
        principal: r.principal,
        peer: r.peer,
        connections: { active: r.connectionsActive, total: r.connectionsTotal },
        firstSeen: new Date(r.firstSeen).toISOString(),
        lastSeen: new Date(r.lastSeen).toISOString(),
        versions: [...byApi].sort((a, b) => a[0] - b[0]).map(([apiKey, versions]) => ({ api: apiByKey(apiKey)?.name ?? `api_${apiKey}`, apiKey, versions: versions.sort((a, b) => a - b) })),
        needsBridge: needs.length > 0,
        needs,
        kafka4: { version: KAFKA_VERSION, ready: k4.length === 0, needs: k4 }
      }
    })
  return {
    bridgeEnabled: snapshot.bridgeEnabled,
    upstream: {
      known: snapshot.upstream !== null,
      apiVersions: (snapshot.upstream ?? []).map(r => ({ api: apiByKey(r.apiKey)?.name ?? `api_${r.apiKey}`, ...r }))
    },
    summary: {
      clients: clients.length,
      needBridge: clients.filter(c => c.needsBridge).length,
      notReadyForKafka4: clients.filter(c => !c.kafka4.ready).length
    },
    clients
  }
}
