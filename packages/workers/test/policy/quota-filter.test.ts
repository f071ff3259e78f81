// The quota filter in real sessions (session-harness.ts: scripted sockets and routes, real codecs):
// throttle_time_ms in the answer at its version, the throttled connection not read while other
// connections are, one table shared by two workers' enforcers, connections and oversized requests
// refused, and live reloads of a quotas file.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import type { Logger } from 'pino'
import { getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { parseQuotas } from '@kproxy/core/policy/quota-config'
import type { QuotaRules } from '@kproxy/core/policy/quota-config'
import { configSource } from '@kproxy/core/policy/policy-source'
import { QuotaTable } from '@kproxy/core/policy/quota-table'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { mergeSnapshots } from '@kproxy/core/metrics/metrics-merge'
import { renderPrometheus } from '@kproxy/core/metrics/prometheus'
import { FilterChain } from '../../src/filters/filter-chain.ts'
import { createQuotaFilter, QUOTA_FILTER_LABEL } from '../../src/policy/quota-filter.ts'
import { QuotaService } from '../../src/policy/quota-service.ts'
import type { SharedQuota } from '../../src/policy/quota-service.ts'
import { decoded, harness, produceBody, request, tick } from '../session/session-harness.ts'

const META = ApiKey.Metadata
const metadataBody = (): any => ({ ...getApi(META).request.create(), topics: [] })
const metadataAnswer = (): any => getApi(META).response.create()

function rules (doc: unknown): QuotaRules {
  return parseQuotas(configSource(doc, 'test.yaml', 'policy.quotas'), ['file', 'maxBuckets'])
}

interface Setup {
  service: QuotaService
  chain: FilterChain
  metrics: MetricsRegistry
  logs: Array<Record<string, any>>
  logger: Logger
}

function setup (doc: unknown, shared: SharedQuota | null = null): Setup {
  const logs: Array<Record<string, any>> = []
  const logger = pino({ level: 'debug' }, { write (s: string) { logs.push(JSON.parse(s)) } })
  const service = new QuotaService({ logger: () => logger })
  service.configure({ file: null, maxBuckets: 64, inline: rules(doc) }, shared, true)
  const metrics = new MetricsRegistry({ latency: false })
  const chain = new FilterChain([{ label: QUOTA_FILTER_LABEL, builtin: true, filter: createQuotaFilter({ service, metrics, logger }) }])
  return { service, chain, metrics, logs, logger }
}

// polls `ok` (the file watcher polls every 20 ms here); fails instead of hanging, with room for a
// machine whose load is far above its two cores (15 s ran out once at a load average of 12)
async function until (ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within 60 s: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

// two windows of a second: the rate is the count over (at least) one second, so a few requests
// in a test are enough to pass a bound
const WINDOW = { samples: 2, seconds: 1 }

t.test('a Metadata rate over its bound: throttle_time_ms in the answer, the connection paused, others read', async t => {
  const s = setup({ window: WINDOW, entities: [{ user: 'alice', requests: [{ apis: ['Metadata'], perSecond: 2 }] }] })
  const alice = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  const bob = harness({ chain: s.chain, principal: 'bob', logger: s.logger })
  t.teardown(() => { alice.session.close(null, 'test over'); bob.session.close(null, 'test over') })

  alice.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()))
  t.equal(alice.route.forwarded.length, 2)
  t.notOk(alice.socket.paused, 'two requests in a second are within 2/s')
  alice.route.answer(0, metadataAnswer())
  alice.route.answer(1, metadataAnswer())
  t.same(alice.socket.responses().map(p => decoded(p, META, 12).body.throttleTimeMs), [0, 0])

  alice.socket.send(request(META, 12, 3, metadataBody()), request(META, 12, 4, metadataBody()))
  t.equal(alice.route.forwarded.length, 4, 'throttled requests still go to the broker (as Kafka answers them)')
  t.ok(alice.socket.paused, 'the throttled connection is not read')
  alice.route.answer(2, metadataAnswer())
  alice.route.answer(3, metadataAnswer())
  const throttles = alice.socket.responses().slice(2).map(p => decoded(p, META, 12).body.throttleTimeMs)
  // 3 then 4 requests over one to two seconds (windows are aligned to the table's start) against
  // 2/s: the delay (rate - bound) / bound x elapsed grows with every request over the bound
  t.ok(throttles[0]! > 0 && throttles[1]! > throttles[0]! && throttles[1]! <= 2000, `the delay that brings the rate back to the bound, per answer: ${throttles.join(', ')} ms`)

  bob.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()))
  t.notOk(bob.socket.paused, 'another principal is not affected')
  bob.route.answer(0, metadataAnswer())
  bob.route.answer(1, metadataAnswer())
  t.same(bob.socket.responses().map(p => decoded(p, META, 12).body.throttleTimeMs), [0, 0])

  const text = renderPrometheus(mergeSnapshots([s.metrics.snapshot()]))
  t.match(text, /kproxy_quota_throttled_responses_total\{principal="alice",quota="requests:Metadata\/second"\} 2/)
  t.match(text, new RegExp(`kproxy_quota_throttle_time_seconds_total\\{principal="alice",quota="requests:Metadata/second"\\} ${(throttles[0]! + throttles[1]!) / 1000}\n`))
  t.notMatch(text, /principal="bob"/)
})

// docs/policy.md's `{ apis: [JoinGroup, SyncGroup], perMinute: 30 }` against rebalance storms, at
// Kafka's default windows (11 of 1 s): a per-minute limit counts over 11 windows of 6 s, and over at
// least 60 s, so with E the span counted (60-66 s) the n-th group request of a minute against 3/min
// asks for (n - 3) / 3 x E ms: the 4th 80 s - E (14-20 s), the 5th over the 30 s maxThrottleMs.
t.test('JoinGroup + SyncGroup per minute: one bucket for both, throttle_time_ms in their answers, the connection paused, other users unaffected', async t => {
  const JOIN = ApiKey.JoinGroup
  const SYNC = ApiKey.SyncGroup
  const HEARTBEAT = ApiKey.Heartbeat
  const s = setup({ entities: [{ user: '*', requests: [{ apis: ['JoinGroup', 'SyncGroup'], perMinute: 3 }] }] })
  const join = (): any => ({ ...getApi(JOIN).request.create(), groupId: 'g', sessionTimeoutMs: 45_000, rebalanceTimeoutMs: 300_000, protocolType: 'consumer' })
  const sync = (): any => ({ ...getApi(SYNC).request.create(), groupId: 'g', generationId: 1, memberId: 'm-1' })
  const heartbeat = (): any => ({ ...getApi(HEARTBEAT).request.create(), groupId: 'g', generationId: 1, memberId: 'm-1' })
  const answer = (apiKey: number): any => getApi(apiKey).response.create()
  const alice = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  const alice2 = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  const bob = harness({ chain: s.chain, principal: 'bob', logger: s.logger })
  t.teardown(() => { for (const h of [alice, alice2, bob]) h.session.close(null, 'test over') })

  // JoinGroup v9 and SyncGroup v5 (flexible, throttle_time_ms first in the body); Heartbeats are
  // not in the group and do not count
  alice.socket.send(request(JOIN, 9, 1, join()), request(SYNC, 5, 2, sync()), request(HEARTBEAT, 4, 3, heartbeat()), request(HEARTBEAT, 4, 4, heartbeat()), request(HEARTBEAT, 4, 5, heartbeat()), request(JOIN, 9, 6, join()))
  t.equal(alice.route.forwarded.length, 6)
  t.notOk(alice.socket.paused, 'three group requests in a minute are within 3/min; Heartbeats are not counted')
  alice.socket.send(request(SYNC, 5, 7, sync()))
  t.ok(alice.socket.paused, 'the fourth group request, a SyncGroup, is over: the connection is not read')
  alice.socket.send(request(JOIN, 9, 8, join()))
  t.equal(alice.route.forwarded.length, 8, 'throttled requests still go to the broker (as Kafka answers them)')
  const keys = [JOIN, SYNC, HEARTBEAT, HEARTBEAT, HEARTBEAT, JOIN, SYNC, JOIN]
  const versions = [9, 5, 4, 4, 4, 9, 5, 9]
  keys.forEach((k, i) => alice.route.answer(i, answer(k)))
  const throttles = alice.socket.responses().map((p, i) => decoded(p, keys[i]!, versions[i]!).body.throttleTimeMs)
  t.same(throttles.slice(0, 6), [0, 0, 0, 0, 0, 0], 'nothing throttled within the limit')
  t.ok(throttles[6]! > 14_000 && throttles[6]! <= 20_000, `the SyncGroup over the limit: (4 - 3) / 3 x the span counted = ${throttles[6]} ms`)
  t.equal(throttles[7], 30_000, 'the JoinGroup after it: (5 - 3) / 3 x the span, capped at maxThrottleMs')

  // an old JoinGroup (v1, no throttle_time_ms in its answer) is held back by the pause alone
  alice.socket.send(request(JOIN, 1, 9, join()))
  alice.route.answer(8, answer(JOIN))
  const v1 = decoded(alice.socket.responses()[8]!, JOIN, 1).body
  t.equal(v1.errorCode, 0, 'answered as the broker answered')
  t.ok(alice.socket.paused)

  // alice's other connection shares her bucket (user: "*" is a bucket per user), but is not paused
  // by the first one's throttle
  alice2.socket.send(request(HEARTBEAT, 4, 1, heartbeat()))
  t.notOk(alice2.socket.paused, 'alice\'s other connection is read')
  alice2.socket.send(request(JOIN, 9, 2, join()))
  t.ok(alice2.socket.paused, 'its own JoinGroup counts in alice\'s bucket, already over')

  bob.socket.send(request(JOIN, 9, 1, join()), request(SYNC, 5, 2, sync()), request(JOIN, 9, 3, join()))
  t.notOk(bob.socket.paused, 'bob has a bucket of his own')
  bob.route.answer(0, answer(JOIN))
  bob.route.answer(1, answer(SYNC))
  bob.route.answer(2, answer(JOIN))
  t.same(bob.socket.responses().map((p, i) => decoded(p, [JOIN, SYNC, JOIN][i]!, [9, 5, 9][i]!).body.throttleTimeMs), [0, 0, 0], 'bob\'s answers are not throttled')

  const text = renderPrometheus(mergeSnapshots([s.metrics.snapshot()]))
  t.match(text, /^kproxy_quota_throttled_responses_total\{principal="alice",quota="requests:JoinGroup\+SyncGroup\/minute"\} 4$/m, 'four throttled answers for alice, by quota')
  t.notMatch(text, /principal="bob"/)
})

t.test('metrics name the principal as quotas key on it: a SASL login User:carol is carol, as a certificate\'s carol', async t => {
  const s = setup({ window: WINDOW, entities: [{ user: 'carol', requests: [{ apis: ['Metadata'], perSecond: 1 }] }] })
  const sasl = harness({ chain: s.chain, principal: 'User:carol', logger: s.logger })
  const cert = harness({ chain: s.chain, principal: 'carol', logger: s.logger })
  const anonymous = harness({ chain: s.chain, principal: null, logger: s.logger })
  t.teardown(() => { sasl.session.close(null, 'test over'); cert.session.close(null, 'test over'); anonymous.session.close(null, 'test over') })
  sasl.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()), request(META, 12, 3, metadataBody()))
  for (let i = 0; i < 3; i++) sasl.route.answer(i, metadataAnswer())
  cert.socket.send(request(META, 12, 1, metadataBody()))
  cert.route.answer(0, metadataAnswer())
  anonymous.socket.send(request(META, 12, 1, metadataBody()))
  anonymous.route.answer(0, metadataAnswer())
  const throttled = [...sasl.socket.responses(), ...cert.socket.responses()].filter(p => decoded(p, META, 12).body.throttleTimeMs > 0).length
  t.ok(throttled >= 2, `one quota for both identities: ${throttled} of 4 answers throttled`)
  const text = renderPrometheus(mergeSnapshots([s.metrics.snapshot()]))
  t.match(text, new RegExp(`^kproxy_quota_throttled_responses_total\\{principal="carol",quota="requests:Metadata/second"\\} ${throttled}$`, 'm'), 'one series, the bare name')
  t.notMatch(text, /principal="User:/, 'no User: prefix in the quota metrics')
})

t.test('reading resumes when the throttle time is over', async t => {
  const s = setup({ window: WINDOW, maxThrottleMs: 30, entities: [{ user: 'alice', requestsPerSecond: 1 }] })
  const alice = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  t.teardown(() => alice.session.close(null, 'test over'))
  alice.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()))
  t.ok(alice.socket.paused)
  alice.route.answer(0, metadataAnswer())
  alice.route.answer(1, metadataAnswer())
  t.same(alice.socket.responses().map(p => decoded(p, META, 12).body.throttleTimeMs), [0, 30], 'capped at maxThrottleMs')
  while (alice.socket.paused) await new Promise(resolve => setTimeout(resolve, 5))
  t.pass('read again')
})

t.test('Produce bytes: the answer (throttle time after the partitions) carries it at the request version', async t => {
  const s = setup({ window: WINDOW, entities: [{ user: 'alice', produceBytesPerSecond: 10 }] })
  const alice = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  t.teardown(() => alice.session.close(null, 'test over'))
  for (const version of [9, 3]) {
    alice.socket.send(request(ApiKey.Produce, version, version, produceBody(['orders'])))
    const n = alice.route.forwarded.length
    const api = getApi(ApiKey.Produce).response
    alice.route.answer(n - 1, { ...api.create(), responses: [{ ...api.structs.TopicProduceResponse!(), name: 'orders', partitionResponses: [{ ...api.structs.PartitionProduceResponse!(), index: 0 }] }] })
    const out = alice.socket.responses()
    const body = decoded(out[out.length - 1]!, ApiKey.Produce, version).body
    t.ok(body.throttleTimeMs > 0, `Produce v${version}: throttle_time_ms ${body.throttleTimeMs}`)
    t.equal(body.responses[0].name, 'orders', 'the rest of the answer unchanged')
  }
  t.ok(alice.socket.paused)
})

t.test('Fetch bytes: throttle_time_ms written in place in the broker\'s frame, a larger broker value kept', async t => {
  const s = setup({ window: WINDOW, entities: [{ clientId: '*', fetchBytesPerSecond: 10 }] })
  const c = harness({ chain: s.chain, principal: null, logger: s.logger })
  t.teardown(() => c.session.close(null, 'test over'))
  const api = getApi(ApiKey.Fetch)
  const fetchRequest = (): any => ({ ...api.request.create(), topics: [] })
  const answer = (throttleTimeMs: number): any => ({ ...api.response.create(), throttleTimeMs, responses: [{ ...api.response.structs.FetchableTopicResponse!(), topic: 'orders', partitions: [{ ...api.response.structs.PartitionData!(), partitionIndex: 0 }] }] })
  c.socket.send(request(ApiKey.Fetch, 12, 1, fetchRequest()), request(ApiKey.Fetch, 12, 2, fetchRequest()))
  c.route.answer(0, answer(0))
  c.route.answer(1, answer(60_000))
  const bodies = c.socket.responses().map(p => decoded(p, ApiKey.Fetch, 12).body)
  t.ok(bodies[0].throttleTimeMs > 0, `over 10 B/s: ${bodies[0].throttleTimeMs} ms`)
  t.equal(bodies[1].throttleTimeMs, 60_000, 'the broker asked for more: its value stays')
  t.equal(bodies[0].responses[0].topic, 'orders')
  t.ok(c.socket.paused)
})

t.test('two workers count into one shared table: alice\'s rate is the sum of both', async t => {
  const table = QuotaTable.create(64, 2)
  const doc = { window: WINDOW, entities: [{ user: 'alice', requests: [{ apis: ['Metadata'], perSecond: 3 }] }] }
  const w1 = setup(doc, { table: table.buffer, holds: new SharedArrayBuffer(QuotaTable.holdsBytes(64)) })
  const w2 = setup(doc, { table: table.buffer, holds: new SharedArrayBuffer(QuotaTable.holdsBytes(64)) })
  const a1 = harness({ chain: w1.chain, principal: 'alice', logger: w1.logger })
  const a2 = harness({ chain: w2.chain, principal: 'alice', logger: w2.logger })
  t.teardown(() => { a1.session.close(null, 'over'); a2.session.close(null, 'over') })
  a1.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()))
  t.notOk(a1.socket.paused, 'two on worker 1')
  a2.socket.send(request(META, 12, 1, metadataBody()))
  t.notOk(a2.socket.paused, 'the third (on worker 2) reaches the bound')
  a2.socket.send(request(META, 12, 2, metadataBody()))
  t.ok(a2.socket.paused, 'the fourth, on worker 2, is over 3/s counted across both workers')
  t.notOk(a1.socket.paused, 'worker 1\'s connection is not paused by it')
})

t.test('a worker that dies with connections open: the supervisor gives their places back', async t => {
  const table = QuotaTable.create(64, 2)
  const holds = [0, 1].map(() => new SharedArrayBuffer(QuotaTable.holdsBytes(64)))
  const doc = { entities: [{ user: 'alice', connections: 2 }] }
  const w1 = setup(doc, { table: table.buffer, holds: holds[0]! })
  const w2 = setup(doc, { table: table.buffer, holds: holds[1]! })
  const open = (w: Setup): ReturnType<typeof harness> => {
    const h = harness({ chain: w.chain, principal: 'alice', logger: w.logger })
    h.socket.send(request(META, 12, 1, metadataBody()))
    return h
  }
  const a = open(w1)
  const b = open(w1)
  t.ok(open(w2).session.closed, 'two places taken by worker 1: worker 2 refuses a third')
  // worker 1 "dies": its sessions vanish without closing; the supervisor releases what it held
  t.equal(new QuotaTable(table.buffer).releaseHolds(new Int32Array(holds[0]!)), 2)
  const c = open(w2)
  t.notOk(c.session.closed, 'the places are free again')
  c.session.close(null, 'over')
  void a
  void b
})

t.test('connections over the limit are refused with a log line; a closed one gives its place back', async t => {
  const s = setup({ entities: [{ user: 'alice', connections: 1 }] })
  const first = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  first.socket.send(request(META, 12, 1, metadataBody()))
  t.equal(first.route.forwarded.length, 1)
  const second = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  second.socket.send(request(META, 12, 1, metadataBody()))
  t.ok(second.session.closed, 'the second connection is closed')
  t.equal(second.route.forwarded.length, 0, 'its request never reached the broker')
  const line = s.logs.find(l => l.code === 'KPROXY_ERR_QUOTA_CONNECTIONS')
  t.ok(line, 'logged')
  t.equal(line?.principal, 'alice')
  t.match(line?.msg, /1 connection\(s\) already open, the most allowed by test\.yaml: policy\.quotas\.entities\[0\]/)
  const bob = harness({ chain: s.chain, principal: 'bob', logger: s.logger })
  bob.socket.send(request(META, 12, 1, metadataBody()))
  t.notOk(bob.session.closed, 'bob has no connection limit')
  first.session.close(null, 'client went away')
  const third = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  third.socket.send(request(META, 12, 1, metadataBody()))
  t.notOk(third.session.closed, 'a place was given back')
  t.match(renderPrometheus(mergeSnapshots([s.metrics.snapshot()])), /kproxy_quota_refusals_total\{principal="alice",quota="connections"\} 1/)
  third.session.close(null, 'over')
  bob.session.close(null, 'over')
})

t.test('new connections per second over the limit are refused', async t => {
  const s = setup({ window: WINDOW, entities: [{ clientId: '*', connectionsPerSecond: 2 }] })
  const sessions = [1, 2, 3].map(() => harness({ chain: s.chain, principal: null, logger: s.logger }))
  for (const h of sessions) h.socket.send(request(META, 12, 1, metadataBody()))
  t.same(sessions.map(h => h.session.closed), [false, false, true])
  t.ok(s.logs.some(l => l.code === 'KPROXY_ERR_QUOTA_CONNECTIONS' && l.quota === 'connection-rate'))
  for (const h of sessions) h.session.close(null, 'over')
})

t.test('a request naming more partitions than allowed: POLICY_VIOLATION, never forwarded', async t => {
  const s = setup({ entities: [{ user: '*', partitionsPerRequest: 2 }] })
  const h = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  t.teardown(() => h.session.close(null, 'over'))
  const body = produceBody(['a', 'b'])
  h.socket.send(request(ApiKey.Produce, 9, 1, body))
  t.equal(h.route.forwarded.length, 1, 'two partitions pass')
  const three = produceBody(['a', 'b', 'c'])
  h.socket.send(request(ApiKey.Produce, 9, 2, three))
  t.equal(h.route.forwarded.length, 1, 'three do not')
  const api = getApi(ApiKey.ListOffsets).request
  const listOffsets = { ...api.create(), topics: [{ ...api.structs.ListOffsetsTopic!(), name: 'a', partitions: [0, 1, 2].map(p => ({ ...api.structs.ListOffsetsPartition!(), partitionIndex: p })) }] }
  h.socket.send(request(ApiKey.ListOffsets, 7, 3, listOffsets))
  t.equal(h.route.forwarded.length, 1, 'nor a ListOffsets with three (counted from the decoded body)')
  h.route.answer(0, getApi(ApiKey.Produce).response.create())
  const out = h.socket.responses()
  t.equal(out.length, 3)
  const refused = decoded(out[1]!, ApiKey.Produce, 9).body
  t.same(refused.responses.flatMap((r: any) => r.partitionResponses.map((p: any) => p.errorCode)), [ErrorCode.POLICY_VIOLATION, ErrorCode.POLICY_VIOLATION, ErrorCode.POLICY_VIOLATION])
  t.ok(s.logs.some(l => l.code === 'KPROXY_ERR_QUOTA_PARTITIONS' && l.partitions === 3))
})

t.test('a SASL login changes the principal: the connection resolves again under the new name', async t => {
  const s = setup({ window: WINDOW, entities: [{ user: 'alice', requestsPerSecond: 1 }] })
  const h = harness({ chain: s.chain, principal: null, logger: s.logger })
  t.teardown(() => h.session.close(null, 'over'))
  h.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()))
  t.notOk(h.socket.paused, 'ANONYMOUS has no limit')
  ;(h.session.context as { verifiedPrincipal: string | null }).verifiedPrincipal = 'alice'
  h.socket.send(request(META, 12, 3, metadataBody()), request(META, 12, 4, metadataBody()))
  t.ok(h.socket.paused, 'as alice: over 1/s')
})

t.test('quotas file: reloaded live; a bad file is refused whole with file:line and the running quotas stay', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-quota-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'quotas.yaml')
  writeFileSync(file, 'window: { samples: 2, seconds: 1 }\nentities:\n  - user: alice\n    requestsPerSecond: 1000\n')
  const logs: Array<Record<string, any>> = []
  const logger = pino({ level: 'debug' }, { write (s: string) { logs.push(JSON.parse(s)) } })
  const service = new QuotaService({ logger: () => logger, pollMs: 20 })
  t.teardown(() => service.close())
  service.configure({ file, maxBuckets: 64, inline: rules({}) }, null, true)
  const v1 = service.enforcer!.version
  t.equal(service.enforcer!.rules.entities[0]!.requestsPerSecond, 1000)

  writeFileSync(file, 'window: { samples: 2, seconds: 1 }\nentities:\n  - user: alice\n    requestsPerSecond: 1000\n    bytesPerFortnight: 5\n')
  await until(() => logs.some(l => l.code === 'KPROXY_ERR_QUOTAS'), 'the bad file is seen')
  const err = logs.find(l => l.code === 'KPROXY_ERR_QUOTAS')!
  t.match(err.msg, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:5: entities\\[0\\]\\.bytesPerFortnight: unknown key`), 'file:line:column and the key')
  t.match(err.msg, /running quotas stay/)
  t.equal(service.enforcer!.version, v1, 'the running rules stay')

  writeFileSync(file, 'window: { samples: 2, seconds: 1 }\nentities:\n  - user: alice\n    requestsPerSecond: 1\n')
  await until(() => service.enforcer!.version !== v1, 'the good file is seen')
  t.equal(service.enforcer!.rules.entities[0]!.requestsPerSecond, 1, 'the new file is in force')

  const metrics = new MetricsRegistry({ latency: false })
  const chain = new FilterChain([{ label: QUOTA_FILTER_LABEL, builtin: true, filter: createQuotaFilter({ service, metrics, logger }) }])
  const h = harness({ chain, principal: 'alice', logger })
  h.socket.send(request(META, 12, 1, metadataBody()), request(META, 12, 2, metadataBody()))
  t.ok(h.socket.paused, 'connections use the reloaded limit')
  h.session.close(null, 'over')

  const missing = join(dir, 'nope.yaml')
  t.throws(() => new QuotaService({ logger: () => logger }).configure({ file: missing, maxBuckets: 64, inline: rules({}) }, null, true), { code: 'KPROXY_ERR_POLICY_FILE_READ' }, 'at start a missing file stops the worker')
  const before = service.enforcer!.version
  service.configure({ file: missing, maxBuckets: 64, inline: rules({}) }, null, false)
  t.equal(service.enforcer!.version, before, 'at a reload it is reported and the running quotas stay')
})

t.test('a config reload: new limits apply to open connections; quotas off gives places back', async t => {
  const s = setup({ window: WINDOW, entities: [{ user: 'alice', connections: 1, requestsPerSecond: 1000 }] })
  const a = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  a.socket.send(request(META, 12, 1, metadataBody()))
  s.service.configure({ file: null, maxBuckets: 64, inline: rules({ window: WINDOW, entities: [{ user: 'alice', connections: 1, requestsPerSecond: 1 }] }) }, null, false)
  a.socket.send(request(META, 12, 2, metadataBody()))
  t.notOk(a.session.closed, 'the open connection keeps its place under the new rules')
  t.ok(a.socket.paused, 'and gets the new rate limit')
  const b = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  b.socket.send(request(META, 12, 1, metadataBody()))
  t.ok(b.session.closed, 'the place is still taken')
  s.service.configure(null, null, false)
  t.equal(s.service.enforcer, null)
  s.service.configure({ file: null, maxBuckets: 64, inline: rules({ entities: [{ user: 'alice', connections: 1 }] }) }, null, false)
  const c = harness({ chain: s.chain, principal: 'alice', logger: s.logger })
  c.socket.send(request(META, 12, 1, metadataBody()))
  t.notOk(c.session.closed, 'switching quotas off gave the places back')
  a.session.close(null, 'over')
  c.session.close(null, 'over')
  await tick()
})
