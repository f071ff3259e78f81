import type { Command } from '../command.ts'
import { benchCommand } from './bench.ts'
import { certsCommand } from './certs.ts'
import { checkConfigCommand } from './check-config.ts'
import { logLevelCommand } from './log-level.ts'
import { reloadCommand } from './reload.ts'
import { sandboxCommand } from './sandbox.ts'
import { serveCommand } from './serve.ts'
import { statusCommand } from './status.ts'
import { topCommand } from './top.ts'

export const commands: readonly Command[] = [
  benchCommand,
  certsCommand,
  checkConfigCommand,
  logLevelCommand,
  reloadCommand,
  sandboxCommand,
  serveCommand,
  statusCommand,
  topCommand
]
