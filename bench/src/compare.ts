// `pnpm bench:compare --scenario S --targets direct,kproxy [--rounds R] [scenario options]`:
// one scenario against several targets in one run, alternating A B A B ... so that the noise of
// a shared machine falls on all of them alike. Reports medians over rounds and ratios to direct.
import { parseArgs } from 'node:util'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { exitOnSignal } from './exit-on-signal.ts'
import { mergeHistograms, encodeHistogram, summarize } from './histogram.ts'
import { parseBenchArgs, parseHostPort, SCENARIOS, usageError } from './options.ts'
import { cpuSeconds } from './proc-stats.ts'
import type { ProduceCounters } from './targets.ts'
import { formatTable, writeOutputs } from './report.ts'
import { runScenario } from './scenarios.ts'
import type { ScenarioResult } from './scenarios.ts'
import { TARGETS } from './targets.ts'
import type { RunningTarget } from './targets.ts'

export const COMPARE_USAGE = `Usage: pnpm bench:compare --scenario ${SCENARIOS.join('|')} [--targets direct,kproxy,...]
         [--rounds N (3)] [--warmup SECONDS (5, unmeasured, per target)] [--bootstrap HOST:PORT (default: start a 1-node sandbox)] [--brokers 1|3]
         [--envoy-bin PATH] [--out DIR (bench/results/latest)] [--json] [any option of that scenario, e.g. --duration 5]

targets: ${Object.values(TARGETS).map(t => `${t.name} (${t.description})`).join(', ')}`

// brokerCpuSeconds: the (first) sandbox broker's CPU during the round, when the sandbox was started
// here; produce: the mesh target's client and upstream produce requests during the round
export interface Round { target: string, round: number, result: ScenarioResult, cpuSeconds: number | null, brokerCpuSeconds?: number | null, produce?: ProduceCounters | null }

export interface CompareRow {
  target: string
  skipped: string | null
  rounds: number
  throughput: number
  mbPerSec: number
  p50: number
  p99: number
  p999: number
  cpuSecondsPerGB: number | null
  // the broker's CPU µs per record (median over rounds; null when the broker is not ours)
  brokerCpuUsPerRecord: number | null
  // mesh targets: client produce requests per upstream produce request, over all rounds
  clientPerUpstream: number | null
  // connections scenario: the target process's RSS growth per connection (median), KiB
  kibPerConnection: number | null
  throughputRatio: number | null
  p99Ratio: number | null
}

export function median (xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

// Medians over each target's rounds; ratios against direct's medians.
export function summarizeRounds (targets: readonly string[], rounds: readonly Round[], skipped: ReadonlyMap<string, string>): CompareRow[] {
  const rows: CompareRow[] = []
  for (const name of targets) {
    const reason = skipped.get(name) ?? null
    const mine = reason === null ? rounds.filter(r => r.target === name) : []
    const tp = (r: ScenarioResult): number => r.scenario === 'roundtrip' || r.scenario === 'connections' ? r.requestsPerSec : r.recordsPerSec
    const cpu = mine.filter(r => r.cpuSeconds !== null && r.result.wireBytes > 0).map(r => r.cpuSeconds! / (r.result.wireBytes / 1e9))
    const brokerCpu = mine.filter(r => typeof r.brokerCpuSeconds === 'number' && r.result.records > 0).map(r => r.brokerCpuSeconds! * 1e6 / r.result.records)
    const produced = { client: 0, upstream: 0 }
    for (const r of mine) {
      if (r.produce == null) continue
      produced.client += r.produce.client
      produced.upstream += r.produce.upstream
    }
    rows.push({
      target: name,
      skipped: reason,
      rounds: mine.length,
      throughput: median(mine.map(r => tp(r.result))),
      mbPerSec: median(mine.map(r => r.result.mbPerSec)),
      p50: median(mine.map(r => r.result.latencyUs.p50)),
      p99: median(mine.map(r => r.result.latencyUs.p99)),
      p999: median(mine.map(r => r.result.latencyUs.p999)),
      cpuSecondsPerGB: cpu.length === 0 ? null : median(cpu),
      brokerCpuUsPerRecord: brokerCpu.length === 0 ? null : median(brokerCpu),
      clientPerUpstream: produced.upstream > 0 ? produced.client / produced.upstream : null,
      kibPerConnection: mine.some(r => r.result.memory !== null) ? median(mine.filter(r => r.result.memory !== null).map(r => r.result.memory!.perConnectionKiB)) : null,
      throughputRatio: null,
      p99Ratio: null
    })
  }
  const base = rows.find(r => r.target === 'direct' && r.skipped === null && r.rounds > 0)
  for (const r of rows) {
    if (base === undefined || r.skipped !== null || r.rounds === 0) continue
    r.throughputRatio = base.throughput > 0 ? r.throughput / base.throughput : null
    r.p99Ratio = base.p99 > 0 ? r.p99 / base.p99 : null
  }
  return rows
}

export function compareTable (scenario: string, rows: readonly CompareRow[]): string {
  const unit = scenario === 'roundtrip' || scenario === 'connections' ? 'req/s' : 'records/s'
  const header = ['target', 'rounds', unit, 'MB/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU s/GB', `${unit} x direct`, 'p99 x direct']
  // shown when measured: the broker's CPU per record (a sandbox started here), coalescing (mesh)
  const brokerColumn = rows.some(r => r.skipped === null && r.brokerCpuUsPerRecord !== null && r.brokerCpuUsPerRecord !== undefined)
  const coalescingColumn = rows.some(r => r.skipped === null && r.clientPerUpstream !== null && r.clientPerUpstream !== undefined)
  if (brokerColumn) header.push('broker CPU µs/record')
  if (coalescingColumn) header.push('client req per upstream req')
  const out: string[][] = [header]
  const skippedLines: string[] = []
  const ms = (us: number): string => Number.isNaN(us) ? 'n/a' : (us / 1000).toFixed(3)
  for (const r of rows) {
    if (r.skipped !== null) { skippedLines.push(`${r.target}: skipped: ${r.skipped}`); continue }
    out.push([r.target, String(r.rounds), String(Math.round(r.throughput)), r.mbPerSec.toFixed(2), ms(r.p50), ms(r.p99), ms(r.p999),
      r.cpuSecondsPerGB === null ? 'n/a' : r.cpuSecondsPerGB.toFixed(2),
      r.throughputRatio === null ? 'n/a' : r.throughputRatio.toFixed(3),
      r.p99Ratio === null ? 'n/a' : r.p99Ratio.toFixed(3),
      ...(brokerColumn ? [r.brokerCpuUsPerRecord == null ? 'n/a' : r.brokerCpuUsPerRecord.toFixed(1)] : []),
      ...(coalescingColumn ? [r.clientPerUpstream == null ? 'n/a' : r.clientPerUpstream.toFixed(1)] : [])])
  }
  const memory = rows.filter(r => r.skipped === null && r.kibPerConnection !== null).map(r => `${r.target}: ${r.kibPerConnection!.toFixed(1)} KiB of target RSS per connection`)
  return [formatTable(out), ...memory, ...skippedLines].join('\n')
}

// brokerPid: the broker behind --bootstrap when the caller started it (its CPU and memory are then measured too)
interface CompareArgs { envoyBin?: string | null, brokerPid?: number | null, scenario: string, targets: string[], rounds: number, warmupSeconds: number, bootstrap: string | null, brokers: 1 | 3, out: string, json: boolean, rest: string[] }

export function parseCompareArgs (argv: readonly string[]): CompareArgs {
  const own = new Set(['--scenario', '--targets', '--rounds', '--warmup', '--bootstrap', '--brokers', '--out', '--envoy-bin'])
  const mine: string[] = []
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const [flag] = a.split('=')
    if (own.has(flag!)) { mine.push(a); if (!a.includes('=') && i + 1 < argv.length) mine.push(argv[++i]!) } else if (a === '--json') mine.push(a); else rest.push(a)
  }
  let values: Record<string, string | boolean | undefined>
  try {
    ({ values } = parseArgs({ args: mine, strict: true, allowPositionals: false, options: { scenario: { type: 'string' }, targets: { type: 'string' }, rounds: { type: 'string' }, warmup: { type: 'string' }, 'envoy-bin': { type: 'string' }, bootstrap: { type: 'string' }, brokers: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } } }))
  } catch (err) {
    throw usageError((err as Error).message)
  }
  const scenario = values.scenario as string | undefined
  if (scenario === undefined) throw usageError(`--scenario is required: ${SCENARIOS.join(', ')}.`)
  if (rest.some(a => a === '--target' || a.startsWith('--target='))) throw usageError('compare starts its targets itself; use --targets NAMES (and --bootstrap for an existing cluster), not --target.')
  const targets = String(values.targets ?? 'direct').split(',').map(s => s.trim()).filter(s => s !== '')
  for (const t of targets) if (TARGETS[t] === undefined) throw usageError(`Unknown target '${t}'; known: ${Object.keys(TARGETS).join(', ')}.`)
  if (new Set(targets).size !== targets.length) throw usageError('--targets names a target twice.')
  const roundsText = values.rounds as string | undefined
  const rounds = roundsText === undefined ? 3 : Number(roundsText)
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw usageError(`--rounds must be a whole number from 1 to 100, not '${roundsText}'.`)
  const warmupText = values.warmup as string | undefined
  const warmupSeconds = warmupText === undefined ? 5 : Number(warmupText)
  if (!(warmupSeconds >= 0 && warmupSeconds <= 600)) throw usageError(`--warmup must be a number of seconds from 0 to 600, not '${warmupText}'.`)
  const brokers = values.brokers === undefined ? 1 : Number(values.brokers)
  if (brokers !== 1 && brokers !== 3) throw usageError(`--brokers must be 1 or 3, not '${values.brokers}'.`)
  const bootstrap = values.bootstrap as string | undefined
  if (bootstrap !== undefined) parseHostPort(bootstrap, '--bootstrap')
  // validate the scenario options now, before anything is started
  parseBenchArgs([scenario, '--target', '127.0.0.1:9', ...rest])
  return { envoyBin: (values['envoy-bin'] as string | undefined) ?? null, scenario, targets, rounds, warmupSeconds, bootstrap: bootstrap ?? null, brokers, out: (values.out as string | undefined) ?? 'bench/results/latest', json: values.json === true, rest }
}

// CPU seconds of all the target's processes (both sides of a double proxy), null if one is gone.
function targetCpu (t: RunningTarget): number | null {
  const pids = t.pids ?? (t.pid === null ? [] : [t.pid])
  if (pids.length === 0) return null
  let sum = 0
  for (const pid of pids) {
    const s = cpuSeconds(pid)
    if (s === null) return null
    sum += s
  }
  return sum
}

// At most ~320 MiB per partition on disk between checks, deleted at once (Kafka keeps deleted
// segments 60 s by default: tens of GB at these rates); fetch pre-fills far less than that.
export const SANDBOX_RETENTION = { 'log.segment.bytes': 64 * 1024 * 1024, 'log.retention.bytes': 256 * 1024 * 1024, 'log.retention.check.interval.ms': 2000, 'log.segment.delete.delay.ms': 0 }

function extraArgs (scenario: string, t: RunningTarget): string[] {
  return scenario === 'produce' || scenario === 'fetch' ? t.extraArgs ?? [] : []
}

export async function runCompare (args: CompareArgs, log: (m: string) => void): Promise<{ rows: CompareRow[], rounds: Round[], files: string[] }> {
  let cluster: { stop (): Promise<void>, pids (): Map<number, number> } | null = null
  let host: string
  let port: number
  const running = new Map<string, RunningTarget>()
  const skipped = new Map<string, string>()
  const rounds: Round[] = []
  try {
    if (args.bootstrap !== null) {
      ({ host, port } = parseHostPort(args.bootstrap, '--bootstrap'))
    } else {
      log(`starting a ${args.brokers}-broker Kafka sandbox`)
      const { startCluster } = await import('@kproxy/cli/sandbox/cluster')
      // maximum-rate produce writes several GB per target and round: without retention the
      // sandbox fills the disk within one run (the broker then stops)
      const c = await startCluster({ brokers: args.brokers, brokerConfig: SANDBOX_RETENTION })
      cluster = c
      ;({ host, port } = parseHostPort(c.bootstrap, 'bootstrap'))
    }
    const brokerPid = cluster === null ? args.brokerPid ?? null : [...cluster.pids().values()][0] ?? null
    for (const name of args.targets) {
      try {
        running.set(name, await TARGETS[name]!.start({ host, port, brokerPid, envoyBin: args.envoyBin ?? null, log }))
        log(`${name}: ready`)
      } catch (err) {
        skipped.set(name, (err as Error).message)
        log(`${name}: skipped: ${(err as Error).message}`)
      }
    }
    // a fresh broker (and proxy) JVM/V8 is far slower until its JIT has warmed up: one unmeasured
    // run per target first, so that round 1 is not an outlier
    if (args.warmupSeconds > 0 && args.scenario !== 'connections') {
      for (const [name, t] of [...running]) {
        try {
          await runScenario({ ...parseBenchArgs([args.scenario, '--target', `${t.host}:${t.port}`, '--label', name, ...args.rest, ...extraArgs(args.scenario, t)]), durationMs: args.warmupSeconds * 1000 })
        } catch (err) {
          // a target failing its warm-up is reported like one failing a round; the others go on
          skipped.set(name, `failed in the warm-up: ${(err as Error).message}`)
          log(`warm-up ${name}: failed: ${(err as Error).message}`)
          running.delete(name)
          await t.stop().catch(() => {})
          continue
        }
        log(`${name}: warmed up (${args.warmupSeconds} s)`)
      }
    }
    for (let round = 1; round <= args.rounds; round++) {
      for (const [name, t] of [...running]) {
        const options = parseBenchArgs([args.scenario, '--target', `${t.host}:${t.port}`, '--label', name, ...args.rest, ...extraArgs(args.scenario, t)])
        if (options.scenario === 'connections' && t.pid !== null) options.targetPid = t.pid
        const cpuBefore = name === 'direct' ? null : targetCpu(t)
        const brokerBefore = brokerPid === null ? null : cpuSeconds(brokerPid)
        const producedBefore = options.scenario === 'produce' && t.produceCounters !== undefined ? await t.produceCounters() : null
        let result: ScenarioResult
        try {
          result = await runScenario(options)
        } catch (err) {
          // one target failing does not end the comparison: it is reported, the others go on
          skipped.set(name, `failed in round ${round}: ${(err as Error).message}`)
          log(`round ${round} ${name}: failed: ${(err as Error).message}`)
          running.delete(name)
          await t.stop().catch(() => {})
          continue
        }
        const cpuAfter = name === 'direct' ? null : targetCpu(t)
        const brokerAfter = brokerPid === null ? null : cpuSeconds(brokerPid)
        const producedAfter = producedBefore === null ? null : await t.produceCounters!()
        rounds.push({
          target: name,
          round,
          result,
          cpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
          brokerCpuSeconds: brokerBefore === null || brokerAfter === null ? null : brokerAfter - brokerBefore,
          produce: producedBefore === null || producedAfter === null ? null : { client: producedAfter.client - producedBefore.client, upstream: producedAfter.upstream - producedBefore.upstream }
        })
        log(`round ${round} ${name}: ${Math.round(options.scenario === 'roundtrip' || options.scenario === 'connections' ? result.requestsPerSec : result.recordsPerSec)}/s, p99 ${(result.latencyUs.p99 / 1000).toFixed(3)} ms${result.sendLagUs === null ? '' : ` (generator send lag p50 ${(result.sendLagUs.p50 / 1000).toFixed(3)} ms, p99 ${(result.sendLagUs.p99 / 1000).toFixed(3)} ms)`}`)
      }
    }
  } finally {
    for (const t of running.values()) await t.stop().catch(() => {})
    await cluster?.stop()
  }
  const rows = summarizeRounds(args.targets, rounds, skipped)
  // one histogram per target over all its rounds, for the .hgrm files and the chart
  const merged: ScenarioResult[] = args.targets.filter(t => !skipped.has(t) && rounds.some(r => r.target === t)).map(t => {
    const mine = rounds.filter(r => r.target === t)
    const histogram = mergeHistograms(mine.map(r => encodeHistogram(r.result.histogram)))
    return { ...mine[0]!.result, label: t, histogram, latencyUs: summarize(histogram) }
  })
  const files = args.out === '' ? [] : writeOutputs(args.out, merged, `${args.scenario}: latency by percentile (all rounds)`, { scenario: args.scenario, rounds: args.rounds, options: args.rest, table: rows, date: new Date().toISOString() })
  return { rows, rounds, files }
}

export async function runCompareCli (argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(`${COMPARE_USAGE}\n`); return 0 }
  let args: CompareArgs
  try {
    args = parseCompareArgs(argv)
  } catch (err) {
    if (err instanceof KproxyError) { process.stderr.write(`kproxy bench compare: ${err.message}\n\n${COMPARE_USAGE}\n`); return 2 }
    throw err
  }
  const { rows, files } = await exitOnSignal('kproxy bench compare', () => runCompare(args, m => process.stderr.write(`${m}\n`)))
  if (args.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n')
  else process.stdout.write(`${args.scenario}, ${args.rounds} round(s), medians\n${compareTable(args.scenario, rows)}\n`)
  for (const f of files) process.stderr.write(`wrote ${f}\n`)
  return rows.some(r => r.skipped === null && r.rounds > 0) ? 0 : 1
}
