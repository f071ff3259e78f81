// `kproxy bench <scenario> ...`, `kproxy bench compare ...` and `kproxy bench gate ...`: parse, run, print, exit code.
// Exit codes: 0 done, 1 the run failed (target unreachable, Kafka errors, timeout), 2 bad usage.
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { parseBenchArgs, USAGE } from './options.ts'
import { resultJson, resultTable, writeOutputs } from './report.ts'
import { runScenario } from './scenarios.ts'

export async function runBenchCli (argv: readonly string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n\n(cd to the repository)  pnpm bench:compare --help  for side-by-side runs,  pnpm bench:table --help  for issue 12's whole table\n`)
    return 0
  }
  try {
    if (argv[0] === 'gate') {
      const { runGateCli } = await import('./gate.ts')
      return await runGateCli(argv.slice(1))
    }
    if (argv[0] === 'table') {
      const { runTableCli } = await import('./table.ts')
      return await runTableCli(argv.slice(1))
    }
    if (argv[0] === 'compare') {
      const { runCompareCli } = await import('./compare.ts')
      return await runCompareCli(argv.slice(1))
    }
    const options = parseBenchArgs(argv)
    const result = await runScenario(options)
    if (options.json) process.stdout.write(JSON.stringify(resultJson(result), null, 2) + '\n')
    else process.stdout.write(`${options.scenario} against ${result.target}, ${(result.durationMs / 1000).toFixed(1)} s\n${resultTable([result])}\n`)
    if (options.out !== '') {
      for (const f of writeOutputs(options.out, [result], `${options.scenario}: latency by percentile`)) process.stderr.write(`wrote ${f}\n`)
    }
    return 0
  } catch (err) {
    if (isKproxyError(err)) {
      const usage = err.code === 'KPROXY_ERR_BENCH_USAGE'
      process.stderr.write(`kproxy bench: ${err.message}${usage ? `\n\n${USAGE}` : ''}\n`)
      return usage ? 2 : 1
    }
    process.stderr.write(`kproxy bench: ${(err as Error)?.stack ?? String(err)}\n`)
    return 1
  }
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  process.exitCode = await runBenchCli(process.argv.slice(2))
}
