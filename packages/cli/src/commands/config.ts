import type { Command } from '../command.ts'

const usage = `Usage: kproxy config schema

  schema    print the JSON Schema of kproxy.yaml (draft-07), the one committed as
            docs/kproxy.schema.json; point your editor at it to get completion and checks
            while you write a config (see docs/configuration.md)

To validate a config file, use kproxy check-config FILE.`

export const configCommand: Command = {
  name: 'config',
  summary: 'print the JSON Schema of the config file (config schema)',
  usage,
  async run (argv) {
    if (argv.length !== 1 || argv[0] !== 'schema') {
      process.stderr.write(`kproxy config: expected 'schema'.\n\n${usage}\n`)
      return 2
    }
    const { configJsonSchemaText } = await import('@kproxy/core/config/config-docs')
    process.stdout.write(configJsonSchemaText())
    return 0
  }
}
