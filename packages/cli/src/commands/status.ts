import type { Command } from '../command.ts'
import { ADMIN_OPTIONS_USAGE } from '../admin-client/admin-usage.ts'

const usage = `Usage: kproxy status [--json] [options]

Asks a running kproxy whether it is ready, and prints its workers, connections and upstream.
Exit 0 when ready, 1 when not (the reason is printed), 2 on bad usage.

  --json                 the answers of /ready, /api/overview and /api/upstreams as one JSON object
${ADMIN_OPTIONS_USAGE}`

export const statusCommand: Command = {
  name: 'status',
  summary: 'is a running kproxy ready? workers, connections, upstream',
  usage,
  async run (argv) {
    const { parseAdminArgs } = await import('../admin-client/admin-options.ts')
    const { AdminClient } = await import('../admin-client/admin-client.ts')
    const { formatStatus } = await import('../admin-client/status-text.ts')
    let parsed
    try {
      parsed = parseAdminArgs(argv, { json: { type: 'boolean' } })
    } catch (err) {
      process.stderr.write(`kproxy status: ${(err as Error).message}\n\n${usage}\n`)
      return 2
    }
    const client = new AdminClient(parsed.target)
    try {
      const [ready, overview, upstreams] = await Promise.all([
        client.call<Record<string, unknown>>('GET', '/ready'),
        client.get<Record<string, unknown>>('/api/overview'),
        client.get<Record<string, unknown>>('/api/upstreams')
      ])
      const all = { url: client.url, ready: ready.body, overview, upstreams }
      process.stdout.write(parsed.values.json === true ? JSON.stringify(all, null, 2) + '\n' : formatStatus(all as never))
      return ready.status === 200 ? 0 : 1
    } finally {
      await client.close()
    }
  }
}

