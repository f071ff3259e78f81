// The options every admin-API command takes, parsed the same way.
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'
import type { AdminTarget } from './admin-client.ts'

export interface ParsedAdminArgs {
  target: AdminTarget
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

// Throws node's ERR_PARSE_ARGS_* errors (the caller prints usage and exits 2).
export function parseAdminArgs (argv: string[], extra: NonNullable<ParseArgsConfig['options']> = {}, positionals = false): ParsedAdminArgs {
  const { values, positionals: rest } = parseArgs({
    args: argv,
    options: { admin: { type: 'string' }, 'token-file': { type: 'string' }, ...extra },
    strict: true,
    allowPositionals: positionals
  })
  const v = values as Record<string, string | boolean | undefined>
  return { target: { address: v.admin as string | undefined, tokenFile: v['token-file'] as string | undefined }, values: v, positionals: rest }
}
