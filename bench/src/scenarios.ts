// The four scenarios: set-up through the target (topic, leaders, pre-fill), the load run, and the
// figures a report needs.
import { KproxyError } from '@kproxy/core/kproxy-error'
import { SetupConnection, useTls } from './connection.ts'
import type { Lane } from './generator.ts'
import { newHistogram, recordUs, summarize } from './histogram.ts'
import type { Histogram, LatencySummary } from './histogram.ts'
import { runLoad } from './load.ts'
import type { LoadResult } from './load.ts'
import type { BenchOptions } from './options.ts'
import { nowUs } from './pacer.ts'
import { openFiles, raiseOpenFilesToHard, rssKiB } from './proc-stats.ts'
import { encodeApiVersions, endOffsets, ensureTopic, setClientId } from './requests.ts'
import type { PartitionLeader } from './requests.ts'

export interface ScenarioResult {
  label: string
  scenario: string
  target: string
  durationMs: number
  requests: number
  records: number
  requestsPerSec: number
  recordsPerSec: number
  mbPerSec: number
  // bytes the generator wrote and read on the wire (for CPU per GB)
  wireBytes: number
  latencyUs: LatencySummary
  // fixed rate only: how late the generator sent, included in latencyUs (null at maximum rate)
  sendLagUs: LatencySummary | null
  errors: Record<string, number>
  unsent: number
  unanswered: number
  // responses with throttle_time_ms above 0 (a quota) and their average throttle time
  throttled?: number
  throttleMsAvg?: number
  memory: { connections: number, rssBeforeKiB: number, rssAfterKiB: number, perConnectionKiB: number } | null
  histogram: Histogram
}

// Connections spread over the partition leaders; each leader's partitions split among the
// connections to it. A request goes to one partition, a connection cycles through its own.
export function leaderLanes (leaders: readonly PartitionLeader[], connections: number): Lane[] {
  const groups = new Map<string, PartitionLeader[]>()
  for (const p of leaders) {
    const key = `${p.host}:${p.port}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [p]); else g.push(p)
  }
  const keys = [...groups.keys()]
  if (keys.length === 0) return []
  const lanes: Lane[] = []
  for (let g = 0; g < keys.length; g++) {
    const parts = groups.get(keys[g]!)!
    // connections g, g + G, g + 2G ... go to leader g (at least one each)
    const n = Math.max(1, Math.floor(connections / keys.length) + (g < connections % keys.length ? 1 : 0))
    for (let c = 0; c < n; c++) {
      const mine = n <= parts.length ? parts.filter((_p, i) => i % n === c) : [parts[c % parts.length]!]
      lanes.push({ host: parts[0]!.host, port: parts[0]!.port, partitions: mine.map(p => p.partition) })
    }
  }
  return lanes
}

function resultOf (options: BenchOptions, load: LoadResult): ScenarioResult {
  const seconds = load.elapsedMs / 1000
  return {
    label: options.label,
    scenario: options.scenario,
    target: `${options.host}:${options.port}`,
    durationMs: load.elapsedMs,
    requests: load.requests,
    records: load.records,
    requestsPerSec: Math.round(load.requests / seconds),
    recordsPerSec: Math.round(load.records / seconds),
    mbPerSec: Math.round(load.payloadBytes / seconds / 1e6 * 100) / 100,
    wireBytes: load.bytesIn + load.bytesOut,
    latencyUs: summarize(load.histogram),
    sendLagUs: options.rate > 0 ? summarize(load.sendLag) : null,
    errors: load.errors,
    unsent: load.unsent,
    unanswered: load.unanswered,
    throttled: load.throttled,
    throttleMsAvg: (load.throttled ?? 0) === 0 ? 0 : Math.round((load.throttleMs ?? 0) / load.throttled!),
    memory: null,
    histogram: load.histogram
  }
}

async function withSetup<T> (options: BenchOptions, fn: (conn: SetupConnection) => Promise<T>): Promise<T> {
  const conn = await SetupConnection.open(options.host, options.port)
  try {
    return await fn(conn)
  } finally {
    conn.close()
  }
}

export async function leadersOf (options: BenchOptions): Promise<PartitionLeader[]> {
  const leaders = await withSetup(options, conn => ensureTopic(conn, options.topic, options.partitions))
  if (!options.pinTarget) return leaders
  if (new Set(leaders.map(l => l.leaderId)).size > 1) {
    throw new KproxyError('KPROXY_ERR_BENCH_USAGE', '--pin-target only works in front of a single-broker cluster: this topic has leaders on several brokers.')
  }
  return leaders.map(l => ({ ...l, host: options.host, port: options.port }))
}

// End offsets asked of each partition's leader.
export async function topicEndOffsets (topic: string, leaders: readonly PartitionLeader[]): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>()
  const byLeader = new Map<string, PartitionLeader[]>()
  for (const p of leaders) {
    const key = `${p.host}:${p.port}`
    byLeader.set(key, [...(byLeader.get(key) ?? []), p])
  }
  for (const parts of byLeader.values()) {
    const conn = await SetupConnection.open(parts[0]!.host, parts[0]!.port)
    try {
      for (const [k, v] of await endOffsets(conn, topic, parts.map(p => p.partition))) out.set(k, v)
    } finally {
      conn.close()
    }
  }
  return out
}

async function produce (options: BenchOptions): Promise<ScenarioResult> {
  const leaders = await leadersOf(options)
  return resultOf(options, await runLoad(options, leaderLanes(leaders, options.connections)))
}

async function fetch (options: BenchOptions): Promise<ScenarioResult> {
  const leaders = await leadersOf(options)
  const ends = await topicEndOffsets(options.topic, leaders)
  const batchBytes = options.recordSize * options.recordsPerBatch
  // rough bytes in the topic (record bytes, without batch overhead)
  let have = 0
  for (const v of ends.values()) have += Number(v) * options.recordSize
  const want = options.prefillMb * 1e6
  if (have < want) {
    const lanes = leaderLanes(leaders, options.connections)
    const perLane = Math.ceil((want - have) / Math.max(1, batchBytes) / lanes.length)
    await runLoad({ ...options, scenario: 'produce', acks: 1, rate: 0, inFlight: 5 }, lanes, perLane)
  }
  const lanes = leaderLanes(leaders, options.connections)
  return resultOf(options, await runLoad(options, lanes))
}

async function roundtrip (options: BenchOptions): Promise<ScenarioResult> {
  // one answered ApiVersions first: an unreachable or non-Kafka target fails here, plainly
  await withSetup(options, conn => conn.request(id => encodeApiVersions(id), 'ApiVersions'))
  const lanes: Lane[] = Array.from({ length: options.connections }, () => ({ host: options.host, port: options.port, partitions: [] }))
  return resultOf(options, await runLoad(options, lanes))
}

// Opens `count` connections, each answering one ApiVersions, and reads the target's RSS before
// and after (with a short pause for the allocator to settle).
// Descriptors: the generator holds one per connection, a broker one, a proxy two (client side and
// upstream). Soft open-files limits are raised to the hard ones first (for the generator and the
// target); a connection refused or reset on the way is reported with the target's descriptor count
// and limit, which is what ends such a run when the limit is too low.
async function connections (options: BenchOptions): Promise<ScenarioResult> {
  const pause = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
  const pid = options.targetPid
  if (pid !== 0 && rssKiB(pid) === null) throw new KproxyError('KPROXY_ERR_BENCH_USAGE', `No process with pid ${pid} is running (--target-pid).`)
  raiseOpenFilesToHard(process.pid)
  if (pid !== 0) raiseOpenFilesToHard(pid)
  const own = openFiles(process.pid)
  if (own !== null && own.soft - own.open < options.count + 16) {
    throw new KproxyError('KPROXY_ERR_BENCH_USAGE', `--count ${options.count} needs as many open files in the load generator, which may hold ${own.soft} (${own.open} in use; hard limit ${own.hard}): raise its limit (ulimit -n) or lower --count.`)
  }
  const before = pid === 0 ? 0 : (await pause(500), rssKiB(pid) ?? 0)
  const histogram = newHistogram()
  const open: SetupConnection[] = []
  const started = Date.now()
  try {
    // 50 at a time: Kafka's default listen backlog (socket.listen.backlog.size) is 50, and a
    // proxy connects upstream for each client, so larger bursts measure SYN retries, not memory
    for (let i = 0; i < options.count; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, options.count - i) }, async () => {
        const c = await SetupConnection.open(options.host, options.port)
        open.push(c)
        const t = nowUs()
        await c.request(id => encodeApiVersions(id), 'ApiVersions')
        recordUs(histogram, nowUs() - t)
        return c
      }))
      if (batch.length === 0) break
    }
  } catch (err) {
    const failure = connectionsFailure(err, open.length, options.count, pid)
    for (const c of open) c.close()
    throw failure
  }
  try {
    const after = pid === 0 ? 0 : (await pause(1000), rssKiB(pid) ?? 0)
    const elapsedMs = Date.now() - started
    return {
      label: options.label,
      scenario: 'connections',
      target: `${options.host}:${options.port}`,
      durationMs: elapsedMs,
      requests: histogram.totalCount,
      records: 0,
      requestsPerSec: Math.round(histogram.totalCount / (elapsedMs / 1000)),
      recordsPerSec: 0,
      mbPerSec: 0,
      wireBytes: 0,
      latencyUs: summarize(histogram),
      sendLagUs: null,
      errors: {},
      unsent: 0,
      unanswered: 0,
      memory: pid === 0 ? null : { connections: open.length, rssBeforeKiB: before, rssAfterKiB: after, perConnectionKiB: Math.round((after - before) / open.length * 10) / 10 },
      histogram
    }
  } finally {
    for (const c of open) c.close()
  }
}

// A failure while opening, with the target's descriptor figures when it is near its limit.
function connectionsFailure (err: unknown, opened: number, count: number, pid: number): unknown {
  const files = pid === 0 ? null : openFiles(pid)
  if (files === null || files.open < files.soft * 0.95) return err
  const why = err instanceof Error ? err.message : String(err)
  return new KproxyError('KPROXY_ERR_BENCH_CONNECTIONS', `${opened} of ${count} connections had been opened when one failed (${why}); the target (pid ${pid}) holds ${files.open} open files of the ${files.soft} it may (hard limit ${files.hard}), and a proxy needs two per client connection: raise its limit (ulimit -n, systemd LimitNOFILE) or lower --count.`)
}

export function runScenario (options: BenchOptions): Promise<ScenarioResult> {
  useTls(options.tls ?? null)
  setClientId(options.clientId ?? 'kproxy-bench')
  switch (options.scenario) {
    case 'produce': return produce(options)
    case 'fetch': return fetch(options)
    case 'roundtrip': return roundtrip(options)
    case 'connections': return connections(options)
  }
}
