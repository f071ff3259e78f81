// The filter chain the session fuzz drives: broker mode's whole chain (broker-mode.ts #buildChain,
// in its order) with every built-in filter on — apiKeyPolicy (some keys denied, among them one
// whose response has no error field), the quota filter (policy.quotas: limits low enough for one
// client id that its requests are throttled, refused for naming too many partitions and its
// connections refused), the version bridge (brokerMode.versionBridge: every bridged old version
// converted to what the upstream accepts, with a decompression budget small enough to be
// exceeded), the ACL filter (policy.acl), faultInjection (errors, delays and closes),
// topicPolicy, apiVersions (widened for the bridge, learning what the upstream accepts),
// addressRewrite (with node ids that have no local port), the metrics and client-usage taps —
// and, where users' filters go, a hostile user filter that throws, returns nonsense, holds
// requests and responses (some forever: the hold deadline answers them), rejects, closes,
// throttles, and changes bodies so that they are encoded again.
import type { Logger } from 'pino'
import { API_TABLE, ApiKey } from '@kproxy/core/protocol/api-keys'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { FilterFactory, FilterRequest, FilterResponse } from '../../../src/filters/filter-api.ts'
import { FilterChain } from '../../../src/filters/filter-chain.ts'
import type { ChainMember } from '../../../src/filters/filter-chain.ts'
import { createMembers, prepareFilters } from '../../../src/filters/filter-loader.ts'
import { createApiKeyPolicy } from '../../../src/filters/builtin/api-key-policy.ts'
import { createApiVersionsFilter } from '../../../src/filters/builtin/api-versions-filter.ts'
import { createAddressRewriteFilter } from '../../../src/filters/builtin/address-rewrite-filter.ts'
import { MetricsTap } from '../../../src/filters/builtin/metrics-tap.ts'
import { ApiVersionsMemo } from '../../../src/filters/builtin/api-versions-memo.ts'
import { createVersionBridge } from '../../../src/filters/builtin/version-bridge.ts'
import { ClientUsageTap } from '../../../src/report/client-usage-tap.ts'
import { quotaMember } from '../../../src/policy/quota-member.ts'
import { QuotaService } from '../../../src/policy/quota-service.ts'
import { parseQuotas } from '@kproxy/core/policy/quota-config'
import { configSource } from '@kproxy/core/policy/policy-source'
import { UpstreamVersions } from '@kproxy/core/bridge/upstream-versions'
import { createAclFilter } from '../../../src/policy/acl-filter.ts'
import { AclState } from '../../../src/policy/acl-state.ts'
import { TopicIdDirectory } from '../../../src/policy/acl-topic-ids.ts'
import type { Corpus } from './fuzz-corpus.ts'
import { responseKey } from './fuzz-corpus.ts'
import { pick } from './fuzz-mutations.ts'
import type { Random } from './fuzz-mutations.ts'

// LeaveGroup answers with an error field; SaslHandshake too. DescribeQuorum, AlterPartition and
// EndQuorumEpoch are denied as well: DescribeQuorum has a top-level error code in every version,
// the others show the per-API answers; a key whose response has no room for an error closes.
export const DENIED_KEYS: readonly number[] = [ApiKey.DeleteTopics, ApiKey.CreateAcls, ApiKey.LeaveGroup, ApiKey.DescribeQuorum, ApiKey.EndQuorumEpoch]

// The ACL filter with rules that deny some of everything (partitions of some topics, some groups,
// transactional ids, cluster operations), so that splits, merges and refusals of every kind meet
// random and mutated frames; most of the traffic stays allowed (default allow).
const ACL = {
  defaultDecision: 'allow',
  rules: [
    { deny: ['Write', 'Read'], principal: '*', topic: { regex: '.*[aeiou].*' }, partitions: ['1-3', '7-'] },
    { deny: ['Describe'], principal: '*', topic: { prefix: 'b' } },
    { deny: ['Read', 'Describe'], principal: '*', group: { prefix: 'a' } },
    { deny: ['Write'], principal: '*', transactionalId: { prefix: 't' } },
    { deny: ['Alter', 'AlterConfigs'], principal: '*', cluster: true },
    { deny: ['Create', 'Delete'], principal: '*', topic: { prefix: 'c' } }
  ]
}

// The quota filter. Some sessions log in as QUOTA_USERS.throttled, whose limits are low enough to
// be over them most of the time: partitions per request (refused with POLICY_VIOLATION), request
// rates, produce and fetch bytes (answers carry throttle_time_ms and the connection is not read for
// a while; a short maxThrottleMs keeps the pauses within the fuzz's time). Some log in as
// QUOTA_USERS.refused, whose new connections (a new client id on a connection counts as one) are
// over their rate and refused most of the time. Every other connection resolves a limit too, per
// client id (high enough not to be hit), so that each one is counted in and out.
export const QUOTA_USERS = { throttled: 'quota-throttled', refused: 'quota-refused' } as const
const QUOTAS = {
  window: { samples: 2, seconds: 1 },
  maxThrottleMs: 1,
  entities: [
    { clientId: '*', connections: 100000 },
    {
      user: QUOTA_USERS.throttled,
      partitionsPerRequest: 3,
      requestsPerSecond: 20,
      produceBytesPerSecond: '1KB',
      fetchBytesPerSecond: '1KB',
      requests: [{ apis: ['Metadata', 'FindCoordinator'], perSecond: 2 }, { apis: ['JoinGroup', 'SyncGroup'], perMinute: 30 }]
    },
    { user: QUOTA_USERS.refused, connectionsPerSecond: 1 }
  ]
}

// decompressed bytes per partition's records the version bridge allows (the config's minimum is
// 1024): some of the corpus's compressed message sets and batches are over it
export const BRIDGE_MAX_UNCOMPRESSED = 4096

const FAULT_INJECTION = {
  seed: 7,
  rules: [
    { match: { apiKeys: ['Produce'] }, percent: 10, action: { error: 'NOT_LEADER_OR_FOLLOWER' } },
    { match: { apiKeys: ['Fetch', 'ListOffsets'], topics: ['/^[a-z]+-/'] }, percent: 5, action: { error: 'REQUEST_TIMED_OUT' } },
    { match: { apiKeys: ['Metadata'], clientIds: ['fuzz-client'] }, percent: 2, action: { delayMs: 1 } },
    { match: { apiKeys: ['FindCoordinator', 'JoinGroup'] }, percent: 1, action: { close: true } },
    { match: { clientIds: ['fuzz-client'] }, percent: 1, action: { error: 'NOT_CONTROLLER' } }
  ]
}

const TOPIC_POLICY = {
  rules: [
    { topics: 'Name-*', partitions: { min: 1, max: 100000 }, minReplicationFactor: 2, requiredConfigs: { 'Name-3-ü€': null }, forbiddenConfigs: ['cleanup.policy'] },
    { topics: '*', minReplicationFactor: 3 }
  ]
}

// What a filter may not return: each is a failure the session must answer or close on.
function nonsense (next: Random): unknown {
  switch (next() % 9) {
    case 0: return 42
    case 1: return 'pass'
    case 2: return null
    case 3: return { kind: 'bogus' }
    case 4: return { kind: 'frames', frames: ['not a buffer'] }
    case 5: return { kind: 'respond' }
    case 6: return { kind: 'error', errorCode: 'NO_SUCH_KAFKA_ERROR' }
    case 7: return { kind: 'frames', frames: [Buffer.from([0, 0, 0, 9, 1, 2, 3])] }
    default: return [undefined]
  }
}

export interface HostileCounts {
  thrown: number
  nonsense: number
  neverSettled: number
  held: number
  rejected: number
  closed: number
  throttled: number
  changed: number
  responded: number
}

// The hostile user filter. Rates are per 10,000 requests (responses) it sees.
function hostileFactory (next: Random, corpus: Corpus, counts: HostileCounts): FilterFactory<null> {
  return {
    name: 'hostile',
    create () {
      return {
        interests: {
          // everything but Produce and Fetch: those keep the paths no filter wants (and Produce
          // below v3, forwarded without decoding)
          requests: [{ apiKeys: API_TABLE.flatMap(a => a === undefined || a.apiKey === ApiKey.Produce || a.apiKey === ApiKey.Fetch ? [] : [a.apiKey]), level: 'body' }],
          responses: [{ apiKeys: ['Metadata', 'ApiVersions', 'FindCoordinator', 'CreateTopics', 'ListOffsets', 'JoinGroup', 'DescribeCluster'], level: 'body' }]
        },
        onRequest (request: FilterRequest): any {
          const r = next() % 10000
          if (r < 100) { counts.thrown++; throw new Error('hostile filter: thrown on purpose') }
          if (r < 150) { counts.nonsense++; return nonsense(next) }
          if (r < 158) { counts.neverSettled++; return new Promise(() => {}) }
          if (r < 258) { counts.held++; return Promise.resolve().then(() => next() % 3 === 0 ? nonsense(next) : next() % 2 === 0 ? undefined : { kind: 'error', errorCode: 'NOT_CONTROLLER' }) }
          if (r < 288) { counts.rejected++; return Promise.reject(new Error('hostile filter: rejected on purpose')) }
          if (r < 298) { counts.closed++; return { kind: 'close', reason: 'hostile filter' } }
          if (r < 348) { counts.throttled++; request.connection.throttle(1); return undefined }
          if (r < 598) {
            // read the body (garbage fails here, inside the filter) and forward it re-encoded
            counts.changed++
            const body = request.body
            if (body !== null && typeof body === 'object') request.markChanged()
            return undefined
          }
          if (r < 698) {
            counts.responded++
            const bodies = corpus.responses.get(responseKey(request.apiKey, request.apiVersion))
            return { kind: 'respond', body: bodies !== undefined ? pick(next, bodies) : { nothing: true } }
          }
          if (r < 720) { counts.responded++; return { kind: 'respond', body: { topics: 'not a list' } } }
          // the header only (garbage fails here too)
          if (r < 800) void request.header.clientId
          return undefined
        },
        onResponse (response: FilterResponse): any {
          const r = next() % 10000
          if (r < 50) { counts.thrown++; throw new Error('hostile filter: thrown on purpose in onResponse') }
          if (r < 80) { counts.nonsense++; return nonsense(next) }
          if (r < 85) { counts.neverSettled++; return new Promise(() => {}) }
          if (r < 185) { counts.held++; return Promise.resolve().then(() => next() % 4 === 0 ? nonsense(next) : undefined) }
          if (r < 195) { counts.rejected++; return Promise.reject(new Error('hostile filter: rejected on purpose in onResponse')) }
          if (r < 200) { counts.closed++; return { kind: 'close', reason: 'hostile filter' } }
          if (r < 450) {
            counts.changed++
            const body = response.body
            if (body !== null && typeof body === 'object') response.markChanged()
            return undefined
          }
          return undefined
        }
      }
    }
  }
}

export interface FuzzChain {
  readonly chain: FilterChain
  readonly hostile: HostileCounts
}

export async function buildFuzzChain (options: { next: Random, corpus: Corpus, metrics: ProxyMetrics, logger: Logger }): Promise<FuzzChain> {
  const { next, corpus, metrics, logger } = options
  const hostile: HostileCounts = { thrown: 0, nonsense: 0, neverSettled: 0, held: 0, rejected: 0, closed: 0, throttled: 0, changed: 0, responded: 0 }
  const builtins = await prepareFilters([
    { kind: 'builtin', name: 'faultInjection', config: FAULT_INJECTION },
    { kind: 'builtin', name: 'topicPolicy', config: TOPIC_POLICY }
  ] as any, 'fuzz: brokerMode.filters')
  const members: ChainMember[] = []
  members.push({ label: 'apiKeyPolicy', filter: createApiKeyPolicy([], DENIED_KEYS, metrics, logger)!, builtin: true })
  const quotas = new QuotaService({ logger: () => logger })
  quotas.configure({ file: null, maxBuckets: 256, inline: parseQuotas(configSource(QUOTAS, 'fuzz', 'policy.quotas')) }, null, true)
  members.push(quotaMember({ quotas, metrics, logger })!)
  // what the upstream accepts: the pinned release's ranges until an ApiVersions answer (the real
  // broker's, from the corpus) is learned through the apiVersions filter, as in broker mode
  const upstream = new UpstreamVersions()
  members.push({ label: 'versionBridge', builtin: true, filter: createVersionBridge({ upstream, metrics, logger, limits: { maxUncompressedSize: BRIDGE_MAX_UNCOMPRESSED } }) })
  const acl = new AclState(logger)
  acl.apply({ file: { acl: ACL } as any, baseDir: '.' }, true)
  members.push({ label: 'acl', filter: createAclFilter({ state: acl, topicIds: new TopicIdDirectory(null), metrics, logger }), builtin: true })
  members.push(...createMembers([...builtins, { label: 'hostile', factory: hostileFactory(next, corpus, hostile), config: null, builtin: false }], { logger, workerId: 1, metrics }))
  members.push({ label: 'apiVersions', filter: createApiVersionsFilter(new ApiVersionsMemo({ widen: true, learn: ranges => upstream.learn(ranges) })), builtin: true })
  members.push({
    label: 'addressRewrite',
    builtin: true,
    filter: createAddressRewriteFilter({
      hostFor: () => 'kproxy.fuzz',
      // a node id without a local port closes the connection rather than leak a real address
      portFor: nodeId => nodeId % 7 === 3 ? -1 : 19000 + (nodeId & 0xfff),
      learn: () => {},
      responseError: (apiKey, code) => metrics.responseError(apiKey, code)
    })
  })
  return { chain: new FilterChain(members, [new MetricsTap(metrics), new ClientUsageTap()]), hostile }
}
