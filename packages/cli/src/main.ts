import { isKproxyError } from '@kproxy/core/kproxy-error'
import { commands } from './commands/index.ts'

function help (): string {
  const width = Math.max(...commands.map(c => c.name.length))
  const lines = commands.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return `kproxy — a Kafka-protocol proxy\n\nUsage: kproxy <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`kproxy <command> --help\` for a command's options.\n`
}

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help())
    return name === undefined ? 1 : 0
  }
  const command = commands.find(c => c.name === name)
  if (command === undefined) {
    process.stderr.write(`kproxy: unknown command '${name}'.\n\n${help()}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`)
    return 0
  }
  return await command.run(rest)
}

main(process.argv.slice(2)).then(code => {
  process.exitCode = code
}, (err: unknown) => {
  if (isKproxyError(err)) {
    process.stderr.write(`kproxy: ${err.message} [${err.code}]\n`)
    process.exitCode = 1
  } else {
    process.stderr.write(`kproxy: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`)
    process.exitCode = 70
  }
})
