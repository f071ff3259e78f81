import type { Command } from '../command.ts'
import { aclCommand } from './acl.ts'
import { benchCommand } from './bench.ts'
import { certsCommand } from './certs.ts'
import { checkConfigCommand } from './check-config.ts'
import { clientsCommand } from './clients.ts'
import { configCommand } from './config.ts'
import { logLevelCommand } from './log-level.ts'
import { reloadCommand } from './reload.ts'
import { sandboxCommand } from './sandbox.ts'
import { serveCommand } from './serve.ts'
import { statusCommand } from './status.ts'
import { topCommand } from './top.ts'
import { usersCommand } from './users.ts'
import { waitReadyCommand } from './wait-ready.ts'

export const commands: readonly Command[] = [
  aclCommand,
  benchCommand,
  certsCommand,
  checkConfigCommand,
  clientsCommand,
  configCommand,
  logLevelCommand,
  reloadCommand,
  sandboxCommand,
  serveCommand,
  statusCommand,
  topCommand,
  usersCommand,
  waitReadyCommand
]
