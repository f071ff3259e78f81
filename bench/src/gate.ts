// `pnpm bench:gate`: the release gate. Starts a 1-node Kafka sandbox and kproxy (broker mode),
// runs produce (maximum rate) and roundtrip (fixed rate) against direct and kproxy alternating
// A B A B (bench:compare's runCompare), and checks the ratios against bench/gate.json.
// Exit codes: 0 every metric within its threshold, 1 a metric outside (or kproxy failed during
// the run), 2 bad usage, a bad thresholds/results file, or a set-up failure (Kafka sandbox, the
// direct baseline, the overall time limit); 130 on SIGINT/SIGTERM. Whatever it started is stopped
// on every path: targets and the sandbox from runCompare/finally, and from their 'exit' hooks when
// a signal or the time limit ends the process.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { isAbsolute, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { runCompare, SANDBOX_RETENTION } from './compare.ts'
import { exitOnSignal } from './exit-on-signal.ts'
import type { Round } from './compare.ts'
import { evaluate, gateTable, NO_ENVOY, parseMeasurements, parseThresholds } from './gate-thresholds.ts'
import type { GateMeasurements, GateRound, GateScenario, GateTarget, Threshold, Verdict } from './gate-thresholds.ts'
import { parseHostPort, usageError } from './options.ts'
import { machineCpuTimes, stealPercent } from './proc-stats.ts'
import { findEnvoy } from './targets-process.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
export const DEFAULT_THRESHOLDS = join(REPO, 'bench', 'gate.json')

// What the gate measures. Changing it changes what the thresholds mean: re-measure and re-choose
// them in the same commit (docs/releasing.md).
export const WORKLOAD: Record<GateScenario, string[]> = {
  // 1 KiB records, 100 per batch, acks=1, maximum rate (5 requests in flight per connection)
  produce: ['--record-size', '1024', '--records-per-batch', '100', '--acks', '1', '--partitions', '6', '--connections', '4', '--topic', 'kproxy-gate-produce'],
  // ApiVersions at a fixed rate, latency corrected for coordinated omission, up to 5 requests in
  // flight like a Kafka client's default max.in.flight.requests.per.connection: with 1, the rate
  // needs a round trip under 2 ms, and at 25-38% CPU steal a second hop alone broke that
  roundtrip: ['--request', 'apiversions', '--rate', '500', '--connections', '1', '--pipeline', '5']
}

export const GATE_USAGE = `Usage: pnpm bench:gate [--thresholds FILE (bench/gate.json)] [--out DIR] [--json]
         [--rounds N (5)] [--duration SECONDS (3, per round)] [--warmup SECONDS (3, per target)]
         [--timeout SECONDS (420, the whole run)] [--bootstrap HOST:PORT (default: start a 1-node sandbox)]
         [--envoy auto|off (auto: Envoy too when installed)] [--envoy-bin PATH]
       pnpm bench:gate --from-results DIR/gate-results.json [--thresholds FILE] [--json]

Runs produce (1 KiB records, batched, acks=1, maximum rate) and roundtrip (ApiVersions at a fixed
rate) against direct, kproxy (broker mode) and Envoy tcp_proxy (when installed: pnpm bench:peers),
alternating, and compares the ratios of medians with the thresholds; without Envoy its metrics are
skipped and the gate falls back to direct. Exit 0 pass, 1 a metric failed, 2 usage or set-up
error. See docs/releasing.md.`

export interface GateArgs {
  thresholds: string
  json: boolean
  out: string
  rounds: number
  durationSeconds: number
  warmupSeconds: number
  timeoutSeconds: number
  bootstrap: string | null
  fromResults: string | null
  // 'auto': Envoy is measured too when its binary is found; 'off': direct and kproxy only
  envoy: 'auto' | 'off'
  envoyBin: string | null
}

function numberFlag (name: string, text: string | undefined, fallback: number, min: number, max: number, whole: boolean): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (text.trim() === '' || !(n >= min && n <= max) || (whole && !Number.isInteger(n))) {
    throw usageError(`--${name} must be a ${whole ? 'whole ' : ''}number from ${min} to ${max}, not '${text}'.`)
  }
  return n
}

export function parseGateArgs (argv: readonly string[]): GateArgs {
  let values: Record<string, string | boolean | undefined>
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        thresholds: { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        rounds: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        timeout: { type: 'string' },
        bootstrap: { type: 'string' },
        envoy: { type: 'string' },
        'envoy-bin': { type: 'string' },
        'from-results': { type: 'string' }
      }
    }))
  } catch (err) {
    throw usageError((err as Error).message)
  }
  const s = (name: string): string | undefined => values[name] as string | undefined
  const bootstrap = s('bootstrap') ?? null
  if (bootstrap !== null) parseHostPort(bootstrap, '--bootstrap')
  const fromResults = s('from-results') ?? null
  if (fromResults !== null && ['rounds', 'duration', 'warmup', 'bootstrap', 'out', 'envoy', 'envoy-bin'].some(k => values[k] !== undefined)) {
    throw usageError('--from-results re-evaluates stored measurements; it takes only --thresholds and --json.')
  }
  const envoy = s('envoy') ?? 'auto'
  if (envoy !== 'auto' && envoy !== 'off') throw usageError(`--envoy must be auto or off, not '${envoy}'.`)
  return {
    thresholds: s('thresholds') ?? DEFAULT_THRESHOLDS,
    json: values.json === true,
    out: s('out') ?? '',
    rounds: numberFlag('rounds', s('rounds'), 5, 1, 20, true),
    durationSeconds: numberFlag('duration', s('duration'), 3, 0.5, 60, false),
    warmupSeconds: numberFlag('warmup', s('warmup'), 3, 0, 60, false),
    timeoutSeconds: numberFlag('timeout', s('timeout'), 420, 10, 3600, false),
    bootstrap,
    fromResults,
    envoy,
    envoyBin: s('envoy-bin') ?? null
  }
}

export function loadThresholds (file: string): Threshold[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw usageError(`Cannot read the thresholds file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`)
  }
  return parseThresholds(text, file)
}

// Why a measurement could not be completed; `failed` = kproxy broke (exit 1), else set-up (exit 2).
export class GateAbort extends Error {
  readonly failed: boolean
  constructor (message: string, failed: boolean) {
    super(message)
    this.failed = failed
  }
}

function toGateRound (scenario: GateScenario, r: Round): GateRound {
  const res = r.result
  return {
    scenario,
    target: r.target as GateTarget,
    round: r.round,
    throughput: scenario === 'produce' ? res.recordsPerSec : res.requestsPerSec,
    p50Us: res.latencyUs.p50,
    p99Us: res.latencyUs.p99,
    p999Us: res.latencyUs.p999,
    errors: Object.values(res.errors).reduce((n, c) => n + c, 0),
    unanswered: res.unanswered,
    unsent: res.unsent,
    cpuSecondsPerGB: r.cpuSeconds === null || res.wireBytes <= 0 ? null : r.cpuSeconds / (res.wireBytes / 1e9)
  }
}

// Both scenarios against one cluster (started here unless --bootstrap is given).
export async function measureGate (args: GateArgs, log: (m: string) => void): Promise<GateMeasurements> {
  let cluster: { stop (): Promise<void> } | null = null
  const rounds: GateRound[] = []
  const envoyBin = args.envoy === 'off' ? null : findEnvoy(args.envoyBin)
  if (args.envoy === 'off') log(`gate: --envoy off: direct and kproxy only (${NO_ENVOY}: the kproxy ÷ Envoy metrics are skipped)`)
  else if (envoyBin === null) log(`gate: Envoy is not installed (${args.envoyBin ?? 'scripts/install-peers.sh envoy installs it'}): direct and kproxy only, the kproxy ÷ Envoy metrics are skipped`)
  const targets = envoyBin === null ? ['direct', 'kproxy'] : ['direct', 'kproxy', 'envoy']
  let envoyFailed: string | null = null
  try {
    let bootstrap = args.bootstrap
    if (bootstrap === null) {
      log('gate: starting a 1-broker Kafka sandbox')
      const { startCluster } = await import('@kproxy/cli/sandbox/cluster')
      try {
        const c = await startCluster({ brokers: 1, brokerConfig: SANDBOX_RETENTION })
        cluster = c
        bootstrap = c.bootstrap
      } catch (err) {
        throw new GateAbort(`The Kafka sandbox did not start: ${(err as Error).message}`, false)
      }
    }
    for (const scenario of ['produce', 'roundtrip'] as const) {
      log(`gate: ${scenario}, ${targets.join(' vs ')}, ${args.rounds} round(s) of ${args.durationSeconds} s`)
      const { rows, rounds: measured } = await runCompare({
        envoyBin,
        scenario,
        targets,
        rounds: args.rounds,
        warmupSeconds: args.warmupSeconds,
        bootstrap,
        brokers: 1,
        out: args.out === '' ? '' : join(args.out, scenario),
        json: false,
        rest: [...WORKLOAD[scenario], '--duration', String(args.durationSeconds)]
      }, log)
      const direct = rows.find(r => r.target === 'direct')!
      const kproxy = rows.find(r => r.target === 'kproxy')!
      if (direct.skipped !== null) throw new GateAbort(`The direct baseline failed (${scenario}): ${direct.skipped}`, false)
      if (kproxy.skipped !== null) throw new GateAbort(`kproxy failed (${scenario}): ${kproxy.skipped}`, true)
      const envoy = rows.find(r => r.target === 'envoy')
      if (envoy !== undefined && envoy.skipped !== null) envoyFailed = `${scenario}: ${envoy.skipped}`
      rounds.push(...measured.map(r => toGateRound(scenario, r)))
    }
  } finally {
    await cluster?.stop()
  }
  // Envoy is a second baseline, not what is gated: when it failed, fall back to direct alone
  if (envoyFailed !== null) {
    log(`gate: Envoy failed (${envoyFailed}): its rounds are dropped and the kproxy ÷ Envoy metrics skipped`)
    return { workload: WORKLOAD, rounds: rounds.filter(r => r.target !== 'envoy') }
  }
  return { workload: WORKLOAD, rounds }
}

// Paths inside the checkout are stored relative to it, so that stored results do not name a machine's directories.
function shown (file: string): string {
  const r = relative(REPO, file)
  return r.startsWith('..') || isAbsolute(r) ? file : r
}

function commitOf (): string | null {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8', timeout: 5000 })
  if (r.status !== 0) return null
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8', timeout: 5000 })
  return r.stdout.trim() + (dirty.status === 0 && dirty.stdout.trim() !== '' ? '-dirty' : '')
}

// What --json prints and --out stores as gate-results.json; --from-results reads it back.
export function gateReport (m: GateMeasurements, verdicts: readonly Verdict[], extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    pass: verdicts.every(v => v.pass),
    metrics: verdicts.map(v => ({ metric: v.metric, value: Number.isFinite(v.value) ? v.value : null, min: v.threshold.min, max: v.threshold.max, pass: v.pass, ...(v.skipped === null ? {} : { skipped: v.skipped }) })),
    workload: m.workload,
    rounds: m.rounds
  }
}

export async function runGateCli (argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(`${GATE_USAGE}\n`); return 0 }
  let args: GateArgs
  let thresholds: Threshold[]
  let stored: GateMeasurements | null = null
  try {
    args = parseGateArgs(argv)
    // every file is checked before anything is started
    thresholds = loadThresholds(args.thresholds)
    if (args.fromResults !== null) {
      let text: string
      try {
        text = readFileSync(args.fromResults, 'utf8')
      } catch (err) {
        throw usageError(`Cannot read the results file ${args.fromResults} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`)
      }
      stored = parseMeasurements(text, args.fromResults)
    }
  } catch (err) {
    if (isKproxyError(err)) { process.stderr.write(`kproxy bench gate: ${err.message}\n`); return 2 }
    throw err
  }

  let measurements: GateMeasurements
  const started = Date.now()
  const loadAtStart = loadavg()[0]!
  const cpuAtStart = machineCpuTimes()
  if (stored !== null) {
    measurements = stored
  } else {
    // The time limit exits through process.exit so that the 'exit' hooks kill kproxy and the
    // broker JVM (and the sandbox's reaper double-checks); so does a signal (exitOnSignal).
    const limit = setTimeout(() => {
      process.stderr.write(`kproxy bench gate: the run did not finish within ${args.timeoutSeconds} s (--timeout); stopped kproxy and Kafka.\n`)
      process.exit(2)
    }, args.timeoutSeconds * 1000)
    limit.unref()
    try {
      measurements = await exitOnSignal('kproxy bench gate', () => measureGate(args, m => process.stderr.write(`${m}\n`)))
    } catch (err) {
      const failed = err instanceof GateAbort && err.failed
      process.stderr.write(`kproxy bench gate: ${err instanceof GateAbort || isKproxyError(err) ? (err as Error).message : (err as Error)?.stack ?? String(err)}\n`)
      return failed ? 1 : 2
    } finally {
      clearTimeout(limit)
    }
  }

  const verdicts = evaluate(measurements, thresholds)
  const table = gateTable(measurements, verdicts)
  // CPU stolen by the hypervisor during the run: where it is high, latencies measure the host
  const steal = stored !== null ? null : stealPercent(cpuAtStart, machineCpuTimes())
  const header = stored !== null
    ? `release gate, re-evaluated from ${args.fromResults}`
    : `release gate: ${args.rounds} round(s) × ${args.durationSeconds} s per target and scenario, medians; ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${loadAtStart.toFixed(1)} at the start on ${cpus().length} CPUs${steal === null ? '' : `; ${steal.toFixed(1)}% of CPU time stolen by the hypervisor`}`
  const extra = stored !== null
    ? { reevaluated: shown(args.fromResults!), thresholds: shown(args.thresholds) }
    : {
        date: new Date().toISOString(),
        commit: commitOf(),
        node: process.version,
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, loadAtStart: Math.round(loadAtStart * 100) / 100, loadAtEnd: Math.round(loadavg()[0]! * 100) / 100, stealPercent: steal === null ? null : Math.round(steal * 10) / 10 },
        roundsPerTarget: args.rounds,
        durationSeconds: args.durationSeconds,
        warmupSeconds: args.warmupSeconds,
        wallSeconds: Math.round((Date.now() - started) / 1000),
        thresholds: shown(args.thresholds)
      }
  const report = gateReport(measurements, verdicts, extra)
  if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n')
  else process.stdout.write(`${header}\n${table}\n`)
  if (args.out !== '') {
    mkdirSync(args.out, { recursive: true })
    writeFileSync(join(args.out, 'gate-results.json'), JSON.stringify(report, null, 2) + '\n')
    writeFileSync(join(args.out, 'gate.txt'), `${header}\n${table}\n`)
    process.stderr.write(`wrote ${join(args.out, 'gate-results.json')}, ${join(args.out, 'gate.txt')} and per-scenario .hgrm files\n`)
  }
  return verdicts.every(v => v.pass) ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  process.exitCode = await runGateCli(process.argv.slice(2))
}
