import type { Command } from '../command.ts'
import { certsCommand } from './certs.ts'
import { checkConfigCommand } from './check-config.ts'
import { sandboxCommand } from './sandbox.ts'
import { serveCommand } from './serve.ts'

export const commands: readonly Command[] = [
  certsCommand,
  checkConfigCommand,
  sandboxCommand,
  serveCommand
]
