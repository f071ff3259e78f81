import type { Command } from '../command.ts'
import { benchCommand } from './bench.ts'
import { certsCommand } from './certs.ts'
import { checkConfigCommand } from './check-config.ts'
import { sandboxCommand } from './sandbox.ts'
import { serveCommand } from './serve.ts'
import { waitReadyCommand } from './wait-ready.ts'

export const commands: readonly Command[] = [
  benchCommand,
  certsCommand,
  checkConfigCommand,
  sandboxCommand,
  serveCommand,
  waitReadyCommand
]
