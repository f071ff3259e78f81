// `pnpm bench:table`: issue 12's whole table in one run. One 1-node Kafka sandbox for every row;
// each row is a bench:compare run (targets alternating A B A B, medians over rounds) of kproxy, the
// peer it is held against (Envoy) and Node's floor; then one Markdown table with the issue's
// targets checked, one chart, and each row's own outputs (histograms, results.json, latency.svg).
// Exit codes: 0 every row measured (targets may be missed: that is a result, not a failure),
// 1 a row could not be measured at all, 2 bad usage; 130 on SIGINT/SIGTERM.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { runCompare, SANDBOX_RETENTION } from './compare.ts'
import { exitOnSignal } from './exit-on-signal.ts'
import { usageError } from './options.ts'
import { machineCpuTimes, stealPercent } from './proc-stats.ts'
import { tableChartSvg } from './table-chart.ts'
import { tableLine, tableMarkdown, tableRows, tableText } from './table-report.ts'
import type { TableLine, TableRowDef } from './table-report.ts'

export const TABLE_USAGE = `Usage: pnpm bench:table [--rounds N (5)] [--duration SECONDS (6, per round; round trips +2)]
         [--warmup SECONDS (2, per target)] [--idle-connections N (9900)] [--only ROW,ROW]
         [--out DIR (bench/results/table-latest)] [--envoy-bin PATH]

Rows: produce, fetch, double (mTLS double proxy), two-threads (kproxy 2 workers vs Envoy
--concurrency 2), roundtrip-1000, roundtrip-5000, idle (connections). Peers come from
pnpm bench:peers; a peer that is not installed is reported as skipped in its row.`

interface TableArgs { rounds: number, seconds: number, warmup: number, idle: number, only: string[] | null, out: string, envoyBin: string | null }

export function parseTableArgs (argv: readonly string[]): TableArgs {
  let values: Record<string, string | undefined>
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { rounds: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, 'idle-connections': { type: 'string' }, only: { type: 'string' }, out: { type: 'string' }, 'envoy-bin': { type: 'string' } } }) as { values: Record<string, string | undefined> })
  } catch (err) {
    throw usageError((err as Error).message)
  }
  const num = (name: string, dflt: number, min: number, max: number): number => {
    const text = values[name]
    const n = text === undefined ? dflt : Number(text)
    if (!Number.isInteger(n) || n < min || n > max) throw usageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'.`)
    return n
  }
  const ids = tableRows(1, 1).map(r => r.id)
  const only = values.only === undefined ? null : values.only.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const id of only ?? []) if (!ids.includes(id)) throw usageError(`--only: unknown row '${id}'; rows: ${ids.join(', ')}.`)
  return { rounds: num('rounds', 5, 1, 100), seconds: num('duration', 6, 1, 600), warmup: num('warmup', 2, 0, 600), idle: num('idle-connections', 9900, 1, 9900), only, out: values.out ?? 'bench/results/table-latest', envoyBin: values['envoy-bin'] ?? null }
}

export async function runTable (args: TableArgs, log: (m: string) => void): Promise<{ defs: TableRowDef[], lines: TableLine[], failed: string[] }> {
  const defs = tableRows(args.seconds, args.idle).filter(d => args.only === null || args.only.includes(d.id))
  const lines: TableLine[] = []
  const failed: string[] = []
  const { startCluster } = await import('@kproxy/cli/sandbox/cluster')
  log('table: starting a 1-broker Kafka sandbox')
  const cluster = await startCluster({ brokers: 1, brokerConfig: SANDBOX_RETENTION })
  try {
    const brokerPid = [...cluster.pids().values()][0] ?? null
    for (const def of defs) {
      log(`table: ${def.id}: ${def.targets.join(', ')}`)
      const { rows, rounds } = await runCompare({
        envoyBin: args.envoyBin,
        brokerPid,
        scenario: def.scenario,
        targets: def.targets,
        // memory per idle connection: only a fresh process's first round counts (a later round
        // in the same process reuses what the first one's connections left to the allocator:
        // 16.6 KiB per connection in round 1, about 0 in rounds 2 and 3 on 2026-12-04)
        rounds: def.scenario === 'connections' ? 1 : args.rounds,
        warmupSeconds: args.warmup,
        bootstrap: cluster.bootstrap,
        brokers: 1,
        out: join(args.out, def.id),
        json: false,
        rest: def.args
      }, log)
      if (!rows.some(r => r.target === def.proxy && r.skipped === null && r.rounds > 0)) failed.push(`${def.id}: ${rows.find(r => r.target === def.proxy)?.skipped ?? 'no rounds'}`)
      lines.push(tableLine(def, rows, rounds))
    }
  } finally {
    await cluster.stop()
  }
  return { defs, lines, failed }
}

export async function runTableCli (argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(`${TABLE_USAGE}\n`); return 0 }
  let args: TableArgs
  try {
    args = parseTableArgs(argv)
  } catch (err) {
    if (isKproxyError(err)) { process.stderr.write(`kproxy bench table: ${err.message}\n\n${TABLE_USAGE}\n`); return 2 }
    throw err
  }
  const started = new Date()
  const loadAtStart = loadavg()[0]!
  const cpuAtStart = machineCpuTimes()
  const result = await exitOnSignal('kproxy bench table', () => runTable(args, m => process.stderr.write(`${m}\n`)))
  const steal = stealPercent(cpuAtStart, machineCpuTimes())
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadAtStart.toFixed(2)} at the start and ${loadavg()[0]!.toFixed(2)} at the end, ${steal === null ? 'steal unknown' : `${steal.toFixed(1)}% of CPU time stolen`}`
  const title = `Issue 12's table, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${args.rounds} round(s) of ${args.seconds} s`
  const md = `# ${title}\n\nOne \`pnpm bench:table ${argv.join(' ')}\` run, ${started.toISOString()} to ${new Date().toISOString()}; ${machine}.\nMedians over rounds; each row's own outputs are in its directory.\n\n${tableMarkdown(result.defs, result.lines)}\n`
  mkdirSync(args.out, { recursive: true })
  writeFileSync(join(args.out, 'table.md'), md)
  writeFileSync(join(args.out, 'table.json'), JSON.stringify({ started: started.toISOString(), ended: new Date().toISOString(), argv, machine, lines: result.lines }, null, 2) + '\n')
  writeFileSync(join(args.out, 'table.svg'), tableChartSvg(title, result.defs, result.lines))
  process.stdout.write(`${tableText(result.defs, result.lines)}\n\n${md}`)
  process.stderr.write(`wrote ${join(args.out, 'table.md')}, table.json, table.svg\n`)
  for (const f of result.failed) process.stderr.write(`kproxy bench table: row not measured: ${f}\n`)
  return result.failed.length === 0 ? 0 : 1
}
