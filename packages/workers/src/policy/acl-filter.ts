// The ACL filter: every request is checked against the rules in force (acl-state.ts) the way a
// Kafka broker's authorizer answers, from the API -> checks table of core
// (policy/acl-api-checks.ts), for the principal of the connection (whatever gave it: a client
// certificate, SASL, or ANONYMOUS).
//
// What a denial looks like:
//  - per entry (Produce, Fetch, ListOffsets, OffsetForLeaderEpoch, OffsetCommit, DeleteRecords,
//    TxnOffsetCommit, OffsetFetch v0-7 per partition; CreateTopics, DeleteTopics,
//    CreatePartitions, configs, DescribeGroups, DeleteGroups per entry): the denied entries are
//    taken out, the rest goes to the broker, and the answer is merged back in order with the
//    denied entries' errors in their own slots (acl-merge.ts); everything denied: kproxy answers
//    without going upstream (Produce acks=0: no answer at all);
//  - Metadata, DescribeTopicPartitions, OffsetFetch: topics the principal may not Describe are
//    left out of an answer to "all topics", or get TOPIC_AUTHORIZATION_FAILED when named; a named
//    topic the principal may not Create is not auto-created;
//  - ListGroups, ListTransactions: entries the principal may not Describe are left out;
//  - otherwise the whole request is answered with the check's error (groups 30, transactional
//    ids 53, cluster 31, topics 29) without going upstream;
//  - an API the table does not know is refused.
// Topic ids resolve through the worker's directory (acl-topic-ids.ts); an id that cannot be
// resolved is answered UNKNOWN_TOPIC_ID and never goes upstream.
//
// Fetch sessions (KIP-227): a broker keeps the partitions of a fetch session and answers them on
// later incremental requests that do not name them. kproxy lets a connection use only a session
// the broker created for that connection under the rules in force; any other session id, a
// session from before a rules change, and a fetch with a denied partition go to the broker as a
// sessionless full fetch (the client then starts again with a full fetch, as after any session
// error), so no partition can keep flowing through a session after its rule changed.
//
// Cost: decisions come from the authorizer's per-principal view (a bitset lookup per partition,
// no allocation), cached per connection and rule-set version. The request is decoded (the
// filter's interest); nothing is re-encoded unless something was denied.
import type { Logger } from 'pino'
import { aclChecksFor, CONFIG_RESOURCE_TYPES, hasAclEntry } from '@kproxy/core/policy/acl-api-checks'
import type { AclCheck } from '@kproxy/core/policy/acl-api-checks'
import type { AclAuthorizer, PrincipalAcl } from '@kproxy/core/policy/acl-authorizer'
import { CLUSTER_NAME } from '@kproxy/core/policy/acl-operations'
import type { AclOperation, AclResourceType } from '@kproxy/core/policy/acl-operations'
import { ApiKey, API_TABLE } from '@kproxy/core/protocol/api-keys'
import { ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import { ZERO_UUID } from '@kproxy/core/protocol/primitives/reader'
import { ChunkCursor } from '@kproxy/core/protocol/chunk-cursor'
import { NameInterner } from '@kproxy/core/protocol/name-interner'
import type { TopicAcl } from '@kproxy/core/policy/acl-authorizer'
import { produceAllowedFast } from './acl-produce-scan.ts'
import type { ProduceChecker } from './acl-produce-scan.ts'
import type { FilterEventCounter, ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { ConnectionContext, Filter, FilterRequest, FilterResponse, RequestAction } from '../filters/filter-api.ts'
import type { AclState } from './acl-state.ts'
import type { TopicIdDirectory } from './acl-topic-ids.ts'
import { shapeFor } from './acl-shapes.ts'
import { allDenied, allowedList, denyEntry, denyPartition, mergeAnswer, newPlan } from './acl-merge.ts'
import type { AclPlan } from './acl-merge.ts'
import { aclPrincipal } from './acl-principal.ts'
import { mirroredRefusal } from './acl-refusals.ts'

export const ACL_FILTER = 'acl'

// Fetch v7+ carries fetch sessions
const FETCH_SESSION_MIN_VERSION = 7
const FETCH_FLEXIBLE_MIN_VERSION = 12
const SESSIONLESS_EPOCH = -1
// record batch v2: magic at byte 16, attributes (int16) at 21; bit 4 = transactional
const BATCH_MAGIC_OFFSET = 16
const BATCH_ATTRIBUTES_OFFSET = 21
const TRANSACTIONAL_BIT = 0x10

// What a connection remembers: the principal's compiled view under one authorizer, its denial
// counters and its fetch session.
class ConnectionAcl {
  readonly authorizer: AclAuthorizer
  readonly principal: string
  readonly aclPrincipal: string
  readonly view: PrincipalAcl
  readonly counters = new Map<string, FilterEventCounter>()
  // the fetch session the broker created for this connection, and under which rules
  fetchSessionId = 0
  fetchSessionVersion = -1

  constructor (authorizer: AclAuthorizer, principal: string) {
    this.authorizer = authorizer
    this.principal = principal
    this.aclPrincipal = aclPrincipal(principal)
    this.view = authorizer.forPrincipal(this.aclPrincipal)
  }
}

const CONNECTION = Symbol('acl connection')
const FETCH_LEARN = 1
const FETCH_SESSIONLESS = 2

interface Hide { readonly list: string, readonly inner: string | null, readonly field: string, readonly op: AclOperation, readonly type: AclResourceType }

export interface AclFilterDeps {
  readonly state: AclState
  readonly topicIds: TopicIdDirectory
  readonly metrics: ProxyMetrics
  readonly logger: Logger
}

// The API keys to look at: every key with a check in some version, and every key the table does
// not know (refused).
function interestingKeys (): number[] {
  const keys: number[] = []
  for (let k = 0; k < API_TABLE.length; k++) {
    if (API_TABLE[k] === undefined) continue
    if (!hasAclEntry(k) || k === ApiKey.SaslHandshake) { keys.push(k); continue }
    const api = getApi(k)
    let any = false
    for (let v = 0; v <= Math.max(api.maxVersion, 31) && !any; v++) any = (aclChecksFor(k, v)?.length ?? 0) > 0
    if (any) keys.push(k)
  }
  return keys
}

const RESPONSE_KEYS = [
  ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.OffsetForLeaderEpoch, ApiKey.OffsetCommit, ApiKey.DeleteRecords,
  ApiKey.TxnOffsetCommit, ApiKey.OffsetFetch, ApiKey.Metadata, ApiKey.DescribeTopicPartitions, ApiKey.CreateTopics,
  ApiKey.DeleteTopics, ApiKey.CreatePartitions, ApiKey.DescribeConfigs, ApiKey.AlterConfigs, ApiKey.IncrementalAlterConfigs,
  ApiKey.DescribeGroups, ApiKey.DeleteGroups, ApiKey.ListGroups, ApiKey.ListTransactions, ApiKey.FindCoordinator,
  ApiKey.DescribeTransactions, ApiKey.ConsumerGroupDescribe
]

export function createAclFilter (deps: AclFilterDeps): Filter {
  const { state, topicIds, metrics, logger } = deps
  const cursor = new ChunkCursor()
  const names = new NameInterner()
  // the Produce fast path's checker, pointed at the connection in hand (no closure per request)
  const fast = new FastProduceChecker(topicIds)
  // per request, until its answer (WeakMaps: looking costs no allocation, unlike attributes)
  const plans = new WeakMap<FilterRequest, AclPlan>()
  const hides = new WeakMap<FilterRequest, Hide>()
  const fetches = new WeakMap<FilterRequest, number>()

  const connectionAcl = (connection: ConnectionContext, authorizer: AclAuthorizer): ConnectionAcl => {
    let c = connection.attributes.get(CONNECTION) as ConnectionAcl | undefined
    if (c === undefined || c.authorizer !== authorizer || c.principal !== connection.principal) {
      c = new ConnectionAcl(authorizer, connection.principal)
      connection.attributes.set(CONNECTION, c)
    }
    return c
  }

  const count = (c: ConnectionAcl, op: AclOperation, type: AclResourceType, n: number): void => {
    const key = type + op
    let counter = c.counters.get(key)
    if (counter === undefined) {
      counter = metrics.aclDenials?.(c.aclPrincipal, op, type) ?? { inc () {} }
      c.counters.set(key, counter)
    }
    counter.inc(n)
  }

  const refuse = (request: FilterRequest, c: ConnectionAcl, check: AclCheck, name: string, error = check.error): RequestAction => {
    count(c, check.operation, check.resource, 1)
    if (logger.isLevelEnabled('debug')) logger.debug({ principal: c.aclPrincipal, api: getApi(request.apiKey).name, operation: check.operation, resource: check.resource, name, error }, 'request denied by ACL')
    const message = `${c.aclPrincipal} may not ${check.operation} ${check.resource} ${name} (kproxy ACL)`
    const mirrored = mirroredRefusal(request.apiKey, request.upstreamVersion, request.body, error, message)
    if (mirrored !== null) return { kind: 'respond', body: mirrored }
    return { kind: 'error', errorCode: error, message }
  }

  function decide (request: FilterRequest, c: ConnectionAcl, checks: readonly AclCheck[]): RequestAction | undefined {
    const version = request.upstreamVersion
    const body = request.body
    const acl = c.view
    let plan: AclPlan | null = null
    let planList: string | null = null
    const planFor = (list: string, original: readonly any[]): AclPlan | null => {
      if (plan !== null) return planList === list ? plan : null
      const shape = shapeFor(request.apiKey, version, list)
      if (shape === null) return null
      planList = list
      plan = newPlan(shape, original)
      return plan
    }
    for (let ci = 0; ci < checks.length; ci++) {
      const check = checks[ci]!
      if (!holds(check, body, c)) continue
      if (check.unlessCluster !== undefined && acl.allows(check.unlessCluster, 'cluster', CLUSTER_NAME)) continue
      if (check.unlessAnyTopic !== undefined && acl.anyAllowed(check.unlessAnyTopic, 'topic')) continue
      if (check.side === 'response') {
        const path = (check.scope as { path: string }).path
        const [list, field] = path.split('[].') as [string, string]
        hides.set(request, { list, inner: null, field, op: check.operation, type: check.resource } satisfies Hide)
        continue
      }
      const scope = check.scope
      switch (scope.kind) {
        case 'cluster':
          if (!acl.allows(check.operation, 'cluster', CLUSTER_NAME)) return refuse(request, c, check, CLUSTER_NAME)
          break
        case 'field': {
          const name = String(valueAt(body, scope.path) ?? '')
          if (!acl.allows(check.operation, check.resource, name)) return refuse(request, c, check, name)
          break
        }
        case 'principal': {
          const name = `${String(body[scope.type])}:${String(body[scope.name])}`
          if (!acl.allows(check.operation, check.resource, name)) return refuse(request, c, check, name)
          break
        }
        case 'each': {
          const { list, field } = splitPath(scope.path)
          const items: any[] = list === null ? [] : (valueAt(body, list) ?? [])
          for (let i = 0; i < items.length; i++) {
            const name = String(field === null ? items[i] : items[i]?.[field])
            if (acl.allows(check.operation, check.resource, name)) continue
            const p = check.onDeny === 'fail-entry' && list !== null && !list.includes('[]') ? planFor(list, items) : null
            if (p === null) return refuse(request, c, check, name)
            count(c, check.operation, check.resource, 1)
            denyEntry(p, i, check.error)
          }
          break
        }
        case 'config-resources': {
          const items: any[] = body.resources ?? []
          for (let i = 0; i < items.length; i++) {
            const r = items[i]
            const kind = CONFIG_RESOURCE_TYPES.get(r.resourceType)
            const type = kind?.resource ?? 'cluster'
            const error = kind?.error ?? ErrorCode.CLUSTER_AUTHORIZATION_FAILED
            const name = type === 'cluster' ? CLUSTER_NAME : String(r.resourceName)
            if (kind !== undefined && acl.allows(check.operation, type, name)) continue
            const p = planFor('resources', items)
            count(c, check.operation, type, 1)
            if (p === null) return refuse(request, c, check, name, error)
            denyEntry(p, i, error)
          }
          break
        }
        case 'topics': {
          const verdict = checkTopics(request, c, check, body, version, planFor)
          if (verdict !== undefined) return verdict
          break
        }
      }
    }
    if (plan === null) return undefined
    return split(request, c, plan, planList!)
  }

  // 'topics' scope: names (or ids), and partitions when the check is per partition.
  function checkTopics (request: FilterRequest, c: ConnectionAcl, check: AclCheck, body: any, version: number, planFor: (list: string, original: readonly any[]) => AclPlan | null): RequestAction | undefined {
    const scope = check.scope as { kind: 'topics', name?: string, id?: string, partitions?: string }
    const path = scope.name ?? scope.id!
    const { list, field } = splitPath(path)
    const idField = scope.id === undefined ? null : splitPath(scope.id).field
    if (list === null) return undefined
    // a list inside a list (OffsetFetch v8+ groups, a subscription): refused whole on any denial
    const nested = list.includes('[]') || list.includes('.')
    const topics: any[] | null = nested ? null : valueAt(body, list)
    // Metadata v0: an empty list asks for every topic
    const everything = topics === null || topics === undefined || (request.apiKey === ApiKey.Metadata && version === 0 && topics.length === 0)
    if (!nested && everything) {
      // "every topic" (Metadata, OffsetFetch): what may not be described is hidden in the answer
      if (check.onDeny === 'hide-unless-named') hides.set(request, { list, inner: null, field: field ?? 'name', op: check.operation, type: 'topic' } satisfies Hide)
      return undefined
    }
    if (nested) {
      const names = collect(body, path)
      // some lists may name topics and others ask for all (OffsetFetch v8+ groups): the answer
      // is filtered whatever the request named (a named topic that passed is kept)
      if (check.onDeny === 'hide-unless-named') {
        const [outer, inner] = list.split('[].') as [string, string]
        hides.set(request, { list: outer, inner, field: field ?? 'name', op: check.operation, type: 'topic' } satisfies Hide)
      }
      for (const n of names) if (!c.view.topic(n).allowsTopic(check.operation)) return refuse(request, c, check, n)
      return undefined
    }
    if (check.when === 'auto-create') {
      // a topic the principal may not Create is not created behind its back
      for (const t of topics!) {
        const name = field === null ? t : t[field]
        if (typeof name === 'string' && !c.view.topic(name).allowsTopic('Create') && body.allowAutoTopicCreation === true) {
          body.allowAutoTopicCreation = false
          request.markChanged()
          break
        }
      }
      return undefined
    }
    const partsPath = scope.partitions === undefined ? null : splitPath(scope.partitions.slice(list.length + 3))
    const fail = check.onDeny === 'fail-request'
    for (let i = 0; i < topics!.length; i++) {
      const t = topics![i]
      let name: string | undefined = field === null ? t : t?.[field]
      if (name === '' || name === null || name === undefined) {
        const id = idField === null ? undefined : t?.[idField]
        name = id === undefined || id === ZERO_UUID ? undefined : topicIds.nameOf(id)
        if (name === undefined) {
          count(c, check.operation, 'topic', 1)
          const p = fail ? null : planFor(list, topics!)
          if (p === null) return refuse(request, c, check, `id ${String(id)}`, fail ? check.error : ErrorCode.UNKNOWN_TOPIC_ID)
          denyEntry(p, i, ErrorCode.UNKNOWN_TOPIC_ID)
          continue
        }
      }
      const topicAcl = c.view.topic(name)
      if (partsPath === null) {
        if (topicAcl.allowsTopic(check.operation)) continue
        count(c, check.operation, 'topic', 1)
        const p = fail ? null : planFor(list, topics!)
        if (p === null) return refuse(request, c, check, name)
        denyEntry(p, i, check.error)
        continue
      }
      const parts: any[] = (partsPath.list === null ? null : t[partsPath.list]) ?? []
      for (let j = 0; j < parts.length; j++) {
        const index: number = partsPath.field === null ? parts[j] : parts[j][partsPath.field]
        if (topicAcl.allows(check.operation, index)) continue
        count(c, check.operation, 'topic', 1)
        const p = fail ? null : planFor(list, topics!)
        if (p === null) return refuse(request, c, check, `${name} partition ${index}`)
        denyPartition(p, i, j, parts.length, check.error)
      }
    }
    return undefined
  }

  // Some entries were denied: answer alone when nothing is left, or send the rest on.
  function split (request: FilterRequest, c: ConnectionAcl, plan: AclPlan, list: string): RequestAction | undefined {
    if (logger.isLevelEnabled('debug')) logger.debug({ principal: c.aclPrincipal, api: getApi(request.apiKey).name }, 'request partly denied by ACL')
    const body = request.body
    const fetch = request.apiKey === ApiKey.Fetch && request.upstreamVersion >= FETCH_SESSION_MIN_VERSION
    if (allDenied(plan)) {
      const response = getApi(request.apiKey).response.create() as any
      mergeAnswer(plan, request.apiKey, response)
      return { kind: 'respond', body: response }
    }
    body[list] = allowedList(plan)
    if (fetch) sessionless(request, body)
    plans.set(request, plan)
    request.markChanged()
    return undefined
  }

  const sessionless = (request: FilterRequest, body: any): void => {
    body.sessionId = 0
    body.sessionEpoch = SESSIONLESS_EPOCH
    body.forgottenTopicsData = []
    fetches.set(request, FETCH_SESSIONLESS)
    request.markChanged()
  }

  // Fetch sessions: only this connection's own, from the rules in force.
  function fetchSession (request: FilterRequest, c: ConnectionAcl): void {
    if (request.upstreamVersion < FETCH_SESSION_MIN_VERSION) return
    const body = request.body
    if (body.sessionId !== 0) {
      if (body.sessionId !== c.fetchSessionId || c.fetchSessionVersion !== c.authorizer.version) sessionless(request, body)
    } else if (body.sessionEpoch === 0) {
      fetches.set(request, FETCH_LEARN)
    }
  }

  const resolveIds = (request: FilterRequest): string[] | null => {
    // Produce v13, Fetch v13+, OffsetCommit v10, ShareFetch, ...: topics named by id
    const body = request.body
    const list = request.apiKey === ApiKey.Produce ? body.topicData : request.apiKey === ApiKey.Metadata || request.apiKey === ApiKey.DeleteTopics || request.apiKey === ApiKey.Fetch || request.apiKey === ApiKey.OffsetCommit || request.apiKey === ApiKey.ShareFetch || request.apiKey === ApiKey.ShareAcknowledge ? body.topics : null
    if (!Array.isArray(list)) return null
    let unknown: string[] | null = null
    for (const t of list) {
      const name = t?.name ?? t?.topic
      if (typeof name === 'string' && name !== '') continue
      const id = t?.topicId
      if (typeof id !== 'string' || id === ZERO_UUID || topicIds.nameOf(id) !== undefined) continue
      ;(unknown ??= []).push(id)
    }
    return unknown
  }

  const run = (request: FilterRequest, checks: readonly AclCheck[]): RequestAction | undefined => {
    const authorizer = state.authorizer
    if (authorizer === null) return undefined
    const c = connectionAcl(request.connection, authorizer)
    if (c.view.superUser) return undefined
    const verdict = decide(request, c, checks)
    if (verdict === undefined && request.apiKey === ApiKey.Fetch && !plans.has(request)) fetchSession(request, c)
    return verdict
  }

  return {
    interests: {
      requests: [{ apiKeys: interestingKeys(), level: 'body' }],
      responses: [{ apiKeys: RESPONSE_KEYS, level: 'header' }]
    },
    onRequest (request: FilterRequest): RequestAction | Promise<RequestAction | undefined> | undefined {
      const authorizer = state.authorizer
      if (authorizer === null) return undefined
      const checks = aclChecksFor(request.apiKey, request.upstreamVersion)
      if (checks === null) {
        const c = connectionAcl(request.connection, authorizer)
        if (c.view.superUser) return undefined
        count(c, 'ClusterAction', 'cluster', 1)
        logger.warn({ code: 'KPROXY_WARN_ACL_UNCHECKABLE', principal: c.aclPrincipal, apiKey: request.apiKey }, `API key ${request.apiKey} has no ACL checks kproxy knows; refused`)
        return { kind: 'error', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message: 'kproxy has no ACL checks for this API' }
      }
      if (request.apiKey === ApiKey.SaslHandshake) {
        // v0 makes the rest of the connection raw SASL tokens and then an opaque relay: nothing
        // after it could be checked
        if (request.apiVersion !== 0) return undefined
        const c = connectionAcl(request.connection, authorizer)
        metrics.aclDenials?.(c.aclPrincipal, 'SaslHandshakeV0', 'cluster').inc()
        logger.warn({ code: 'KPROXY_WARN_ACL_UNCHECKABLE', principal: c.aclPrincipal }, 'SaslHandshake v0 refused: with policy.acl on, a connection may not become an opaque relay past the ACL filter')
        return { kind: 'error', errorCode: ErrorCode.UNSUPPORTED_VERSION, message: 'SaslHandshake v0 is refused while kproxy enforces ACLs; use v1' }
      }
      if (checks.length === 0) return undefined
      if (request.apiKey === ApiKey.Produce && request.upstreamVersion === request.apiVersion && !request.changed) {
        const c = connectionAcl(request.connection, authorizer)
        if (c.view.superUser) return undefined
        fast.view = c.view
        const allowed = produceAllowedFast(request.frame, request.apiVersion, cursor, names, fast)
        fast.view = null
        fast.topicAcl = null
        if (allowed) return undefined
      }
      const unknown = resolveIds(request)
      if (unknown !== null) return topicIds.resolve(unknown).then(() => run(request, checks))
      return run(request, checks)
    },
    onResponse (response: FilterResponse): undefined {
      const request = response.request
      const key = response.apiKey
      if (key === ApiKey.Metadata || key === ApiKey.DescribeTopicPartitions || key === ApiKey.CreateTopics) learnIds(response, topicIds)
      const plan = plans.get(request)
      if (plan !== undefined) {
        const body = response.body
        mergeAnswer(plan, key, body)
        response.markChanged()
      }
      const hide = hides.get(request)
      if (hide !== undefined) hideUndescribable(response, hide)
      if (key === ApiKey.Fetch && fetches.get(request) === FETCH_LEARN) {
        const authorizer = state.authorizer
        const c = request.connection.attributes.get(CONNECTION) as ConnectionAcl | undefined
        const id = fetchResponseSessionId(response, cursor)
        if (c !== undefined && authorizer !== null && c.authorizer === authorizer && id > 0) {
          c.fetchSessionId = id
          c.fetchSessionVersion = authorizer.version
        }
      }
      return undefined
    }
  }

  function hideUndescribable (response: FilterResponse, hide: Hide): void {
    const authorizer = state.authorizer
    if (authorizer === null) return
    const c = connectionAcl(response.request.connection, authorizer)
    if (c.view.superUser) return
    const body = response.body
    const keep = (e: any): boolean => {
      const name = e?.[hide.field]
      if (typeof name !== 'string') return true
      return hide.type === 'topic' ? c.view.topic(name).allowsTopic(hide.op) : c.view.allows(hide.op, hide.type, name)
    }
    const lists: any[][] = hide.inner === null ? [body[hide.list]] : (body[hide.list] ?? []).map((g: any) => g?.[hide.inner!])
    let changed = false
    lists.forEach((l, i) => {
      if (!Array.isArray(l)) return
      const kept = l.filter(keep)
      if (kept.length === l.length) return
      changed = true
      if (hide.inner === null) body[hide.list] = kept
      else body[hide.list][i][hide.inner] = kept
    })
    if (changed) response.markChanged()
  }
}

class FastProduceChecker implements ProduceChecker {
  readonly #topicIds: TopicIdDirectory
  view: PrincipalAcl | null = null
  topicAcl: TopicAcl | null = null

  constructor (topicIds: TopicIdDirectory) {
    this.#topicIds = topicIds
  }

  topic (name: string, id: boolean): boolean {
    const resolved = id ? this.#topicIds.nameOf(name) : name
    if (resolved === undefined || this.view === null) return false
    this.topicAcl = this.view.topic(resolved)
    return true
  }

  partition (index: number): boolean {
    return this.topicAcl !== null && this.topicAcl.allows('Write', index)
  }
}

// Kafka's conditions on a check (AclCheckWhen).
function holds (check: AclCheck, body: any, c: ConnectionAcl): boolean {
  switch (check.when) {
    case undefined: return true
    case 'transactional-records': return hasTransactionalRecords(body)
    case 'has-transactional-id': return body.transactionalId !== null && body.transactionalId !== undefined
    case 'no-transactional-id': return body.transactionalId === null || body.transactionalId === undefined
    case 'two-phase-commit': return body.enable2Pc === true
    case 'from-follower': return fromFollower(body)
    case 'from-consumer': return !fromFollower(body)
    case 'auto-create': return body.allowAutoTopicCreation === true
    case 'key-type-group': return (body.keyType ?? 0) === 0
    case 'key-type-transaction': return body.keyType === 1
    case 'key-type-share': return body.keyType === 2
    case 'owner-is-other': return body.ownerPrincipalName !== null && body.ownerPrincipalName !== undefined && `${String(body.ownerPrincipalType)}:${String(body.ownerPrincipalName)}` !== c.aclPrincipal
  }
}

function fromFollower (body: any): boolean {
  return (body.replicaId ?? -1) >= 0 || (body.replicaState?.replicaId ?? -1) >= 0
}

// Produce v3+ carries one record batch per partition: its attributes say whether it is
// transactional. A message set v0/v1 never is.
function hasTransactionalRecords (body: any): boolean {
  for (const t of body.topicData ?? []) {
    for (const p of t.partitionData ?? []) {
      const r: Buffer | null = p.records
      if (r !== null && r.length > BATCH_ATTRIBUTES_OFFSET + 1 && r[BATCH_MAGIC_OFFSET] === 2 && (r.readInt16BE(BATCH_ATTRIBUTES_OFFSET) & TRANSACTIONAL_BIT) !== 0) return true
    }
  }
  return false
}

function learnIds (response: FilterResponse, topicIds: TopicIdDirectory): void {
  const topics = response.body.topics
  if (!Array.isArray(topics)) return
  for (const t of topics) if (t?.errorCode === 0) topicIds.learn(t.name, t.topicId)
}

// The sessionId of a Fetch response v7+, read off the frame without decoding it (records stay
// where they are): header (correlationId int32, tagged fields from v12), throttleTimeMs int32,
// errorCode int16, sessionId int32. -1 when it cannot be read.
function fetchResponseSessionId (response: FilterResponse, cursor: ChunkCursor): number {
  const frame = response.frame
  if (frame === null) return -1
  cursor.start(frame)
  let id = -1
  if (cursor.skip(4) && (response.apiVersion < FETCH_FLEXIBLE_MIN_VERSION || cursor.skipTaggedFields()) && cursor.skip(6)) {
    const v = cursor.int32()
    if (!Number.isNaN(v)) id = v
  }
  cursor.release()
  return id
}

// 'topics[].partitions[].index' -> list 'topics', field 'partitions[].index' is not split further
// here: the list is everything before the last '[]', the field what follows it (null: the list
// holds the values).
function splitPath (path: string): { list: string | null, field: string | null } {
  const at = path.lastIndexOf('[]')
  if (at < 0) return { list: null, field: path }
  const list = path.slice(0, at)
  const rest = path.slice(at + 2)
  return { list, field: rest === '' ? null : rest.replace(/^\./, '') }
}

function valueAt (body: any, path: string): any {
  let v = body
  for (const key of path.split('.')) {
    if (v === null || v === undefined) return undefined
    v = v[key]
  }
  return v
}

// Every string at a path with '[]' steps (slow path: nested lists).
function collect (body: any, path: string): string[] {
  const out: string[] = []
  const walk = (v: any, parts: readonly string[]): void => {
    if (v === null || v === undefined) return
    if (parts.length === 0) {
      if (typeof v === 'string') out.push(v)
      return
    }
    const [head, ...tail] = parts
    if (head!.endsWith('[]')) {
      const list = valueAt(v, head!.slice(0, -2))
      if (Array.isArray(list)) for (const x of list) walk(x, tail)
    } else {
      walk(valueAt(v, head!), tail)
    }
  }
  walk(body, path.split('.'))
  return out
}
