import type { Command } from '../command.ts'
import { ADMIN_OPTIONS_USAGE } from '../admin-client/admin-usage.ts'

const usage = `Usage: kproxy reload [options]

Makes a running kproxy re-read its config file (as SIGHUP does) and prints what changed now and
what needs a restart. Exit 0 when applied, 1 when the file is invalid (kproxy keeps running with
the configuration it had), 2 on bad usage.

${ADMIN_OPTIONS_USAGE}`

export const reloadCommand: Command = {
  name: 'reload',
  summary: 'make a running kproxy re-read its config file',
  usage,
  async run (argv) {
    const { parseAdminArgs } = await import('../admin-client/admin-options.ts')
    const { AdminClient, errorText } = await import('../admin-client/admin-client.ts')
    let parsed
    try {
      parsed = parseAdminArgs(argv)
    } catch (err) {
      process.stderr.write(`kproxy reload: ${(err as Error).message}\n\n${usage}\n`)
      return 2
    }
    const client = new AdminClient(parsed.target)
    try {
      const r = await client.call<{ applied?: string[], needsRestart?: string[], error?: string, code?: string }>('POST', '/reload')
      if (r.status !== 200) {
        process.stderr.write(`kproxy reload: not applied, kproxy keeps its running configuration: ${errorText(r.body)}${r.body.code === undefined ? '' : ` [${r.body.code}]`}\n`)
        return 1
      }
      const applied = r.body.applied ?? []
      const restart = r.body.needsRestart ?? []
      process.stdout.write(`reloaded: ${applied.length === 0 ? 'nothing changed that applies live' : `applied ${applied.join(', ')}`}${restart.length === 0 ? '' : `; ${restart.join(', ')} changed but need a restart`}\n`)
      return 0
    } finally {
      await client.close()
    }
  }
}
