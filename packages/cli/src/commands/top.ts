import type { Command } from '../command.ts'
import { ADMIN_OPTIONS_USAGE } from '../admin-client/admin-usage.ts'

const usage = `Usage: kproxy top [--interval SECONDS] [--sort KEY] [--no-flows] [--once] [options]

The live view of a running kproxy in the terminal, like top: connections, bytes and requests
per second, each Kafka API's rates, errors and latency percentiles, the busiest flows.
Keys: q quit; sort by r req/s, t requests, e errors, l p99 latency, n name; f flows on/off.

  --interval SECONDS     time between refreshes (default 2, at least 1)
  --sort KEY             rate, total, errors, latency or name (default rate)
  --no-flows             leave the flows out
  --once                 print one frame as plain text and exit (no terminal needed)
${ADMIN_OPTIONS_USAGE}`

const SORTS = ['rate', 'total', 'errors', 'latency', 'name']

export const topCommand: Command = {
  name: 'top',
  summary: 'live view of a running kproxy in the terminal',
  usage,
  async run (argv) {
    const { parseAdminArgs } = await import('../admin-client/admin-options.ts')
    let parsed
    try {
      parsed = parseAdminArgs(argv, { interval: { type: 'string' }, sort: { type: 'string' }, 'no-flows': { type: 'boolean' }, once: { type: 'boolean' } })
    } catch (err) {
      process.stderr.write(`kproxy top: ${(err as Error).message}\n\n${usage}\n`)
      return 2
    }
    const v = parsed.values
    const interval = v.interval === undefined ? 2 : Number(v.interval)
    const sort = (v.sort as string | undefined) ?? 'rate'
    if (!Number.isFinite(interval) || interval < 1 || interval > 3600 || !SORTS.includes(sort)) {
      process.stderr.write(`kproxy top: --interval takes 1 to 3600 seconds and --sort one of ${SORTS.join(', ')}.\n\n${usage}\n`)
      return 2
    }
    const once = v.once === true
    if (!once && (process.stdin.isTTY !== true || process.stdout.isTTY !== true)) {
      process.stderr.write('kproxy top: needs a terminal; use `kproxy top --once` for one plain frame (or `kproxy status`).\n')
      return 2
    }
    const { AdminClient } = await import('../admin-client/admin-client.ts')
    const { fetchTop } = await import('../top/top-fetch.ts')
    const { renderTop } = await import('../top/top-view.ts')
    const client = new AdminClient(parsed.target)
    const state = { sort: sort as 'rate', showFlows: v['no-flows'] !== true, problem: null }
    try {
      // the first answers fail loudly (a wrong address is a usage problem, not a glitch); rates
      // need two samples, a second apart
      await fetchTop(client, state.showFlows)
      await new Promise(resolve => setTimeout(resolve, 1000))
      const first = await fetchTop(client, state.showFlows)
      if (once) {
        process.stdout.write(renderTop(first, state, { columns: process.stdout.columns || 160, rows: 1000 }).join('\n') + '\n')
        return 0
      }
      const { runTop } = await import('../top/top-terminal.ts')
      await runTop(client, first, { intervalMs: interval * 1000, state })
      return 0
    } finally {
      await client.close()
    }
  }
}
