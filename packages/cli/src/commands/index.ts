import type { Command } from '../command.ts'
import { aclCommand } from './acl.ts'
import { benchCommand } from './bench.ts'
import { certsCommand } from './certs.ts'
import { checkConfigCommand } from './check-config.ts'
import { clientsCommand } from './clients.ts'
import { configCommand } from './config.ts'
import { sandboxCommand } from './sandbox.ts'
import { serveCommand } from './serve.ts'
import { usersCommand } from './users.ts'

export const commands: readonly Command[] = [
  aclCommand,
  benchCommand,
  certsCommand,
  checkConfigCommand,
  clientsCommand,
  configCommand,
  sandboxCommand,
  serveCommand,
  usersCommand
]
