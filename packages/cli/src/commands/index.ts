import type { Command } from '../command.ts'
import { certsCommand } from './certs.ts'
import { sandboxCommand } from './sandbox.ts'

export const commands: readonly Command[] = [
  certsCommand,
  sandboxCommand
]
