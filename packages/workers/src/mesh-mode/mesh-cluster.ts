// One upstream cluster of a mesh, as one worker sees it: its brokers, its topics' partitions and
// leaders (from Metadata, kept for metadataMaxAgeMs and refreshed at once after an error), the
// coordinators of its groups and transactional ids, what API versions it accepts, and the
// worker's shared connections to its brokers (one per broker, kproxy's own correlation ids), on
// which the requests of every client of the worker that do not block a connection travel
// (Produce, Metadata, ListOffsets, admin requests).
//
// Not on the per-frame path of a relay (every mesh request is decoded anyway); callbacks rather
// than promises all the same, so that a request costs no promise chain.
import type { Logger } from 'pino'
import type { HostPort } from '@kproxy/core/config/proxy-config'
import type { MeshClusterConfig } from '@kproxy/core/config/schema/mesh-schema'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { VersionRange } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, encodeRequest, ErrorCode, errorByCode, getApi } from '@kproxy/core/protocol/codec'
import { frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import { ProduceCoalescer } from './produce-coalescer.ts'
import type { MeshMetrics } from './mesh-metrics.ts'
import type { ProducerAnswer } from './producer-ids.ts'
import { KafkaConnection } from '../upstream/kafka-connection.ts'
import type { ConnectionListener, ResponseTarget, UpstreamFailure } from '../upstream/kafka-connection.ts'

// Every Kafka 4 broker answers Metadata v12 and FindCoordinator v3.
const METADATA_VERSION = 12
const FIND_COORDINATOR_VERSION = 3
// or the cluster's highest when lower
const INIT_PRODUCER_ID_VERSION = 4
const PRODUCER_ID_ATTEMPTS = 5
const PRODUCER_ID_RETRY_MS = 200
export const ANY_BROKER = -1

export interface PartitionMeta {
  errorCode: number
  partitionIndex: number
  leaderId: number
  leaderEpoch: number
}

export interface TopicMeta {
  // upstream name
  name: string
  topicId: string
  errorCode: number
  isInternal: boolean
  partitions: PartitionMeta[]
}

export interface ClusterSettings {
  readonly dialer: UpstreamDialer
  readonly connectTimeoutMs: number
  readonly maxFrameSize: number
  readonly metadataMaxAgeMs: number
  readonly logger: Logger
  readonly metrics: MeshMetrics
}

// A callback-style request of kproxy's own on a shared connection.
type Answer = (body: any | null, error: string | null) => void

interface Pending {
  apiKey: number
  apiVersion: number
  done: Answer
  settled: boolean
  timer: NodeJS.Timeout | null
}

// kproxy's own lookups (Metadata, FindCoordinator) of a cluster that stopped answering fail after
// this long (connecting included), so that requests waiting on them get their errors in time.
const OWN_REQUEST_TIMEOUT_MS = 8_000
// how often a cluster that is down is asked again (by kproxy, whether clients ask for it or not)
const DOWN_PROBE_MS = 5_000

// 'up': asked as clients need it. 'down': the last contact failed; Metadata is answered at once
// from what kproxy knew (leaders unavailable) instead of waiting OWN_REQUEST_TIMEOUT_MS for a
// cluster that is not answering, and a probe asks again every DOWN_PROBE_MS. 'probing': down,
// with the probe's request under way.
type ClusterHealth = 'up' | 'down' | 'probing'

export class MeshCluster implements ConnectionListener, ResponseTarget {
  readonly name: string
  readonly #config: MeshClusterConfig
  readonly #settings: ClusterSettings
  readonly brokers = new Map<number, HostPort>()
  readonly topics = new Map<string, TopicMeta>()
  readonly #topicsAt = new Map<string, number>()
  // topic id -> upstream name (ids are per cluster: never looked up in another cluster)
  readonly topicIds = new Map<string, string>()
  // every topic listed at (ms): a Metadata request for all topics refreshes it
  #allTopicsAt = 0
  clusterId: string | null = null
  apiVersions: VersionRange[] | null = null
  #health: ClusterHealth = 'up'
  #shared = new Map<number, KafkaConnection>()
  readonly #coalescers = new Map<number, ProduceCoalescer>()
  #bootstrapIndex = 0
  readonly #coordinators = new Map<string, number>()
  // Metadata requests under way, by topic-set key, with their waiters
  readonly #refreshing = new Map<string, Answer[]>()
  #probeTimer: NodeJS.Timeout | null = null
  #closed = false

  constructor (config: MeshClusterConfig, settings: ClusterSettings) {
    this.name = config.name
    this.#config = config
    this.#settings = settings
  }

  get dialer (): UpstreamDialer { return this.#settings.dialer }

  // The last contact failed: its partitions are answered with retriable errors until one works.
  get down (): boolean { return this.#health !== 'up' }

  #markUp (): void {
    this.#health = 'up'
    if (this.#probeTimer !== null) clearTimeout(this.#probeTimer)
    this.#probeTimer = null
  }

  #markDown (): void {
    if (this.#health === 'up') this.#health = 'down'
    this.#probeLater()
  }

  // The address of a node (ANY_BROKER: a known broker, else a bootstrap server).
  address (node: number): HostPort | null {
    if (node !== ANY_BROKER) return this.brokers.get(node) ?? null
    for (const a of this.brokers.values()) return a
    const b = this.#config.bootstrap
    return b[this.#bootstrapIndex % b.length]!
  }

  // The shared connection to `node`, opened on first use. `shard` picks one of PRODUCE_SHARDS
  // connections for Produce (a broker handles one request of a connection at a time, so a few
  // connections let it work on several; a partition always uses the same one, keeping its order).
  shared (node: number, shard = 0): KafkaConnection | null {
    const id = node === ANY_BROKER ? this.#anyNode() : node
    const key = id * PRODUCE_SHARDS + shard
    const existing = this.#shared.get(key)
    if (existing !== undefined && existing.state !== 'closed') return existing
    const address = id === ANY_BROKER ? this.address(ANY_BROKER) : this.brokers.get(id)
    if (address === null || address === undefined) return null
    const conn = new KafkaConnection({
      dialer: this.#settings.dialer,
      address,
      connectTimeoutMs: this.#settings.connectTimeoutMs,
      maxFrameSize: this.#settings.maxFrameSize,
      correlation: 'own',
      listener: this
    })
    this.#shared.set(key, conn)
    return conn
  }

  // The produce coalescer of `node`'s shard `shard` (that shared connection's Produce requests).
  coalescer (node: number, shard: number): ProduceCoalescer {
    const key = node * PRODUCE_SHARDS + shard
    let c = this.#coalescers.get(key)
    if (c === undefined) this.#coalescers.set(key, c = new ProduceCoalescer(this, node, shard, this.#settings.metrics))
    return c
  }

  #anyNode (): number {
    for (const [key, conn] of this.#shared) if (key >= 0 && conn.ready) return Math.floor(key / PRODUCE_SHARDS)
    for (const id of this.brokers.keys()) return id
    return ANY_BROKER
  }

  get sharedConnections (): number {
    let n = 0
    for (const c of this.#shared.values()) if (c.state !== 'closed') n++
    return n
  }

  // ---- ConnectionListener ------------------------------------------------------------------------

  upstreamReady (): void {
    this.#markUp()
  }

  upstreamFull (): void {}

  upstreamReauthenticated (): void {
    this.#settings.metrics.upstream(this.name, 'reauthenticated')
  }

  upstreamClosed (conn: KafkaConnection, failure: UpstreamFailure | null): void {
    for (const [k, c] of this.#shared) if (c === conn) this.#shared.delete(k)
    if (failure === null) return
    // leaders may have moved (or the broker is gone): ask again before the next use
    this.#allTopicsAt = 0
    this.#topicsAt.clear()
    this.#coordinators.clear()
    const wasDown = this.down
    // a refused login (or a password kproxy cannot read) is as good as unreachable: every new
    // connection would fail the same way until the credentials are fixed
    const loginFailed = isLoginFailure(failure)
    if (loginFailed) this.#settings.metrics.upstream(this.name, 'login_failed')
    if (failure.phase === 'connect' || loginFailed) {
      this.#markDown()
      this.#bootstrapIndex++
    }
    // once per outage, not once per client request that finds it down
    const fields = { code: failure.code, cluster: this.name, upstream: conn.name }
    if (wasDown) this.#settings.logger.debug(fields, `mesh cluster ${this.name}: ${failure.message}`)
    else this.#settings.logger.warn(fields, `mesh cluster ${this.name}: ${failure.message}; its partitions get retriable errors until it answers`)
  }

  // A cluster that is down is asked again now and then, also without client traffic, so that its
  // health (GET /ready) comes back once it answers (a fixed password file, a restarted broker).
  #probeLater (): void {
    if (this.#probeTimer !== null || this.#closed) return
    this.#probeTimer = setTimeout(this.#probe, DOWN_PROBE_MS)
    this.#probeTimer.unref()
  }

  readonly #probe = (): void => {
    this.#probeTimer = null
    if (this.#health !== 'down' || this.#closed) return
    this.#health = 'probing'
    // an empty topic list: brokers and cluster id only; a failure schedules the next probe
    this.#askMetadata([], false, ignoreAnswer)
  }

  // ---- kproxy's own requests ---------------------------------------------------------------------

  // Sends `body` to `node` on its shared connection; `done` gets the decoded answer or an error.
  request (node: number, apiKey: number, apiVersion: number, body: unknown, done: Answer): void {
    const conn = this.shared(node)
    if (conn === null) {
      done(null, `no address known for node ${node} of cluster ${this.name}`)
      return
    }
    let frames: Buffer[]
    try {
      frames = encodeRequest({ apiKey, apiVersion, correlationId: 0, clientId: 'kproxy' }, body)
    } catch (err) {
      done(null, (err as Error).message)
      return
    }
    const p: Pending = { apiKey, apiVersion, done, settled: false, timer: null }
    p.timer = setTimeout(this.#onTimeout, OWN_REQUEST_TIMEOUT_MS, p)
    conn.send(this, p, null, frames)
    conn.flush()
  }

  upstreamResponse (tag: unknown, frame: Frame): void {
    const p = tag as Pending
    let body: any
    try {
      body = decodeResponse(frameToBuffer(frame), p.apiKey, p.apiVersion).body
    } catch (err) {
      this.#deliver(p, null, (err as Error).message)
      return
    }
    this.#deliver(p, body, null)
  }

  // A waiter's failure must not take the shared connection (everybody's) down with it.
  readonly #onTimeout = (p: Pending): void => {
    p.timer = null
    if (p.settled) return
    this.#markDown()
    this.#deliver(p, null, `cluster ${this.name} did not answer within ${OWN_REQUEST_TIMEOUT_MS} ms`)
  }

  #deliver (p: Pending, body: any | null, error: string | null): void {
    if (p.settled) return
    p.settled = true
    if (p.timer !== null) clearTimeout(p.timer)
    p.timer = null
    try {
      p.done(body, error)
    } catch (err) {
      this.#settings.logger.error({ code: 'KPROXY_ERR_INTERNAL', cluster: this.name, apiKey: p.apiKey, err: (err as Error).stack }, 'mesh: a waiter on a cluster answer failed')
    }
  }

  upstreamBatchEnd (): void {}

  upstreamLost (tag: unknown): void {
    this.#deliver(tag as Pending, null, `the connection to cluster ${this.name} closed`)
  }

  // ---- metadata ------------------------------------------------------------------------------------

  // Known and fresh enough?
  fresh (topic: string, now: number): boolean {
    const at = this.#topicsAt.get(topic) ?? (this.topics.has(topic) ? this.#allTopicsAt : 0)
    return now - at < this.#settings.metadataMaxAgeMs
  }

  allFresh (now: number): boolean {
    return now - this.#allTopicsAt < this.#settings.metadataMaxAgeMs
  }

  // Metadata for `topics` (upstream names; null: every topic), then `done` with the cluster's
  // answer (or null and why). Requests for the same topics are merged while one is under way.
  // While the cluster is down the answer is null at once: the probe asks for everybody.
  metadata (topics: readonly string[] | null, allowAutoTopicCreation: boolean, done: Answer): void {
    if (this.#health !== 'up') {
      done(null, `cluster ${this.name} is down (asked again every ${DOWN_PROBE_MS} ms)`)
      return
    }
    this.#askMetadata(topics, allowAutoTopicCreation, done)
  }

  #askMetadata (topics: readonly string[] | null, allowAutoTopicCreation: boolean, done: Answer): void {
    const key = topics === null ? '*' : `${allowAutoTopicCreation ? '+' : '-'}${topics.join('\u0000')}`
    const waiting = this.#refreshing.get(key)
    if (waiting !== undefined) {
      waiting.push(done)
      return
    }
    const waiters = [done]
    this.#refreshing.set(key, waiters)
    const body = getApi(ApiKey.Metadata).request.create()
    body.topics = topics === null ? null : topics.map(name => ({ ...getApi(ApiKey.Metadata).request.structs.MetadataRequestTopic!(), name }))
    body.allowAutoTopicCreation = allowAutoTopicCreation
    this.request(ANY_BROKER, ApiKey.Metadata, METADATA_VERSION, body, (answer, error) => {
      this.#refreshing.delete(key)
      if (answer !== null) {
        this.#learn(answer, topics === null)
      } else {
        if (this.#health === 'probing') this.#health = 'down'
        this.#markDown()
      }
      for (const w of waiters) w(answer, error)
    })
  }

  // Makes sure `topics` are known and fresh, then calls `done` (also when the cluster is down:
  // the caller answers what it cannot route with an error).
  ensure (topics: readonly string[], done: () => void): void {
    const now = Date.now()
    const missing = topics.filter(t => !this.fresh(t, now))
    if (missing.length === 0) {
      done()
      return
    }
    this.metadata(missing, false, () => done())
  }

  #learn (body: any, all: boolean): void {
    const now = Date.now()
    this.#markUp()
    this.clusterId = body.clusterId ?? this.clusterId
    for (const b of body.brokers) {
      const old = this.brokers.get(b.nodeId)
      if (old === undefined || old.host !== b.host || old.port !== b.port) this.brokers.set(b.nodeId, { host: b.host, port: b.port })
    }
    if (all) {
      this.topics.clear()
      this.topicIds.clear()
      this.#topicsAt.clear()
      this.#allTopicsAt = now
    }
    for (const t of body.topics) {
      if (t.name === null) continue
      if (t.errorCode !== 0 && t.errorCode !== 5 /* LEADER_NOT_AVAILABLE */) {
        this.topics.delete(t.name)
        this.#topicsAt.delete(t.name)
        continue
      }
      const meta: TopicMeta = {
        name: t.name,
        topicId: t.topicId,
        errorCode: t.errorCode,
        isInternal: t.isInternal,
        partitions: t.partitions.map((p: any) => ({ errorCode: p.errorCode, partitionIndex: p.partitionIndex, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch }))
      }
      this.topics.set(t.name, meta)
      // a topic still electing leaders (just created) is asked about again at its next use
      if (t.errorCode === 0 && meta.partitions.every(p => p.leaderId >= 0)) this.#topicsAt.set(t.name, now)
      else this.#topicsAt.delete(t.name)
      if (t.topicId !== undefined && t.topicId !== ZERO_UUID) this.topicIds.set(t.topicId, t.name)
    }
  }

  // The leader of a partition; -1 when unknown (no such partition, no leader, or not fetched).
  leader (topic: string, partition: number): number {
    const t = this.topics.get(topic)
    if (t === undefined) return -1
    const p = t.partitions[partition]
    if (p !== undefined && p.partitionIndex === partition) return p.leaderId
    for (const q of t.partitions) if (q.partitionIndex === partition) return q.leaderId
    return -1
  }

  // Forgets what an error says is stale.
  stale (topic: string): void {
    this.#topicsAt.delete(topic)
    this.#allTopicsAt = 0
  }

  // ---- coordinators --------------------------------------------------------------------------------

  // The node coordinating a group (keyType 0) or a transactional id (1); -1 and an error code.
  coordinator (keyType: number, key: string, done: (node: number, errorCode: number) => void): void {
    const k = `${keyType}:${key}`
    const known = this.#coordinators.get(k)
    if (known !== undefined && this.brokers.has(known)) {
      done(known, 0)
      return
    }
    const body = getApi(ApiKey.FindCoordinator).request.create()
    body.key = key
    body.keyType = keyType
    this.request(ANY_BROKER, ApiKey.FindCoordinator, FIND_COORDINATOR_VERSION, body, (answer, error) => {
      if (answer === null) {
        this.settingsLogger.debug({ cluster: this.name, error }, 'FindCoordinator failed')
        done(-1, COORDINATOR_NOT_AVAILABLE)
        return
      }
      if (answer.errorCode !== 0) {
        done(-1, answer.errorCode)
        return
      }
      this.brokers.set(answer.nodeId, { host: answer.host, port: answer.port })
      this.#coordinators.set(k, answer.nodeId)
      done(answer.nodeId, 0)
    })
  }

  // kproxy's own producer id on this cluster (InitProducerId without transactional id, which any
  // broker answers), for an idempotent producer whose id another cluster allocated
  // (producer-ids.ts). A broker still waiting for its first block of producer ids (a fresh
  // cluster) answers COORDINATOR_LOAD_IN_PROGRESS: asked again a few times, 200 ms apart.
  newProducerId (done: ProducerAnswer, attempt = 0): void {
    const range = this.apiVersions?.find(v => v.apiKey === ApiKey.InitProducerId)
    const version = range === undefined ? INIT_PRODUCER_ID_VERSION : Math.min(INIT_PRODUCER_ID_VERSION, range.maxVersion)
    const body = getApi(ApiKey.InitProducerId).request.create()
    body.transactionalId = null
    body.transactionTimeoutMs = 60_000
    this.request(ANY_BROKER, ApiKey.InitProducerId, version, body, (answer, error) => {
      if (answer === null) {
        done(null, error)
      } else if (answer.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && attempt < PRODUCER_ID_ATTEMPTS - 1 && !this.#closed) {
        setTimeout(() => this.newProducerId(done, attempt + 1), PRODUCER_ID_RETRY_MS).unref()
      } else if (answer.errorCode !== 0) {
        done(null, `InitProducerId answered ${errorByCode(answer.errorCode)?.name ?? answer.errorCode}`)
      } else {
        done({ producerId: answer.producerId, producerEpoch: answer.producerEpoch }, null)
      }
    })
  }

  forgetCoordinator (keyType: number, key: string): void {
    this.#coordinators.delete(`${keyType}:${key}`)
  }

  get settingsLogger (): Logger { return this.#settings.logger }

  // ApiVersions of a bootstrap server, at start (what versions the mesh may promise).
  learnVersions (done: () => void): void {
    this.request(ANY_BROKER, ApiKey.ApiVersions, 3, { ...getApi(ApiKey.ApiVersions).request.create(), clientSoftwareName: 'kproxy', clientSoftwareVersion: '0' }, (answer) => {
      if (answer !== null && answer.errorCode === 0) this.apiVersions = answer.apiKeys.map((k: any) => ({ apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion }))
      done()
    })
  }

  close (): void {
    this.#closed = true
    if (this.#probeTimer !== null) clearTimeout(this.#probeTimer)
    this.#probeTimer = null
    for (const c of this.#shared.values()) c.close()
    this.#shared.clear()
  }
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

// Shared connections per broker and worker for Produce; a partition's shard is fixed. A broker
// handles one request of a connection at a time, so one connection would serialise every
// client's produce; but each shard's request holds at most one batch per partition, so more
// shards mean fewer client requests per upstream request. 2 against 4, 200 connections of one
// 1 KiB record per request, 96 partitions, 2 workers, both orders (docs/mesh.md): 15.7-16.4
// client requests per upstream request against 9.2-9.6, records/s 1.21-1.30x, CPU/GB 0.77-0.82x.
export const PRODUCE_SHARDS = 2

export function produceShard (topic: string, partition: number): number {
  let h = 0
  for (let i = 0; i < topic.length; i++) h = (h * 31 + topic.charCodeAt(i)) | 0
  return ((h + partition) >>> 0) % PRODUCE_SHARDS
}
const COORDINATOR_NOT_AVAILABLE = 15

function ignoreAnswer (): void {}

function isLoginFailure (failure: UpstreamFailure): boolean {
  return failure.code === 'KPROXY_ERR_UPSTREAM_SASL' || failure.code === 'KPROXY_ERR_UPSTREAM_PASSWORD'
}
