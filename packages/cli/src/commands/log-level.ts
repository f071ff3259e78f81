import type { Command } from '../command.ts'
import { ADMIN_OPTIONS_USAGE } from '../admin-client/admin-usage.ts'

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']

const usage = `Usage: kproxy log-level LEVEL [options]

Sets the log level of a running kproxy's every thread, until the next restart or reload.
LEVEL: ${LEVELS.join(', ')}.

${ADMIN_OPTIONS_USAGE}`

export const logLevelCommand: Command = {
  name: 'log-level',
  summary: 'change a running kproxy\'s log level',
  usage,
  async run (argv) {
    const { parseAdminArgs } = await import('../admin-client/admin-options.ts')
    const { AdminClient, errorText } = await import('../admin-client/admin-client.ts')
    let parsed
    try {
      parsed = parseAdminArgs(argv, {}, true)
    } catch (err) {
      process.stderr.write(`kproxy log-level: ${(err as Error).message}\n\n${usage}\n`)
      return 2
    }
    const level = parsed.positionals[0]
    if (parsed.positionals.length !== 1 || !LEVELS.includes(level!)) {
      process.stderr.write(`kproxy log-level: expected one LEVEL (${LEVELS.join(', ')}), got ${parsed.positionals.length === 0 ? 'none' : parsed.positionals.join(' ')}.\n\n${usage}\n`)
      return 2
    }
    const client = new AdminClient(parsed.target)
    try {
      const r = await client.call<{ logLevel?: string, error?: string }>('POST', `/logging?level=${level}`)
      if (r.status !== 200) {
        process.stderr.write(`kproxy log-level: ${errorText(r.body)}\n`)
        return 1
      }
      process.stdout.write(`log level: ${r.body.logLevel}\n`)
      return 0
    } finally {
      await client.close()
    }
  }
}
