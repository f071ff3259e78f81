import { parseArgs } from 'node:util'
import type { ParseArgsOptionsConfig } from 'node:util'
import type { Command } from '../command.ts'

const usage = `Usage: kproxy users <add|remove|list> --file FILE [options]

  add NAME --file FILE --mechanism scram-sha-512|scram-sha-256|plain [--mechanism ...]
      [--password-stdin] [--iterations N]
      store NAME's password as a salted SCRAM verifier (per SCRAM mechanism) and/or a scrypt
      hash (PLAIN); the password is asked for twice without echo, or read from stdin with
      --password-stdin. Other mechanisms NAME already has stay. The file is created if missing.
      --iterations: SCRAM iterations, 4096 (default) to 16384

  remove NAME --file FILE [--mechanism M ...]
      remove NAME, or only the given mechanisms of NAME

  list --file FILE
      user names and their mechanisms, one user per line (never a verifier)

  The file is replaced atomically with mode 0600; a running kproxy reloads it within a
  second. See docs/policy.md.`

function usageError (message: string): number {
  process.stderr.write(`kproxy users: ${message}\n\n${usage}\n`)
  return 2
}

interface Values { file?: string, mechanism?: string[], 'password-stdin'?: boolean, iterations?: string }

function parse (argv: string[], options: ParseArgsOptionsConfig): { values: Values, positionals: string[] } | string {
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals: true })
    return { values: r.values as Values, positionals: r.positionals }
  } catch (err) {
    return (err as Error).message
  }
}

const MECHANISMS: Record<string, 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'> = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' }

function mechanisms (values: Values): Array<'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'> | string {
  const out: Array<'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'> = []
  for (const item of (values.mechanism ?? []).flatMap(m => m.split(','))) {
    const m = MECHANISMS[item.trim().toLowerCase()]
    if (m === undefined) return `unknown mechanism '${item}'; allowed: ${Object.keys(MECHANISMS).join(', ')}.`
    if (!out.includes(m)) out.push(m)
  }
  return out
}

async function add (argv: string[]): Promise<number> {
  const r = parse(argv, { file: { type: 'string' }, mechanism: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' }, iterations: { type: 'string' } })
  if (typeof r === 'string') return usageError(r)
  const [name, ...extra] = r.positionals
  if (name === undefined || extra.length > 0) return usageError('add needs exactly one NAME.')
  if (r.values.file === undefined || r.values.file === '') return usageError('add needs --file FILE.')
  const mechs = mechanisms(r.values)
  if (typeof mechs === 'string') return usageError(mechs)
  if (mechs.length === 0) return usageError('add needs --mechanism (scram-sha-512, scram-sha-256 or plain; several are allowed).')
  let iterations: number | undefined
  if (r.values.iterations !== undefined) {
    iterations = Number(r.values.iterations)
    if (!/^\d+$/.test(r.values.iterations) || iterations < 4096 || iterations > 16384) return usageError(`--iterations must be a whole number from 4096 to 16384, not '${r.values.iterations}'.`)
  }
  const { promptPassword, readPasswordFromStdin } = await import('../policy/password-input.ts')
  const password = r.values['password-stdin'] === true ? await readPasswordFromStdin() : await promptPassword(name)
  const { addUser } = await import('../policy/users-file.ts')
  const held = await addUser({ file: r.values.file, name, mechanisms: mechs, password, options: { iterations } })
  process.stdout.write(`${name}\t${held.join(',')}\n`)
  return 0
}

async function remove (argv: string[]): Promise<number> {
  const r = parse(argv, { file: { type: 'string' }, mechanism: { type: 'string', multiple: true } })
  if (typeof r === 'string') return usageError(r)
  const [name, ...extra] = r.positionals
  if (name === undefined || extra.length > 0) return usageError('remove needs exactly one NAME.')
  if (r.values.file === undefined || r.values.file === '') return usageError('remove needs --file FILE.')
  const mechs = mechanisms(r.values)
  if (typeof mechs === 'string') return usageError(mechs)
  const { removeUser } = await import('../policy/users-file.ts')
  const left = await removeUser(r.values.file, name, mechs)
  process.stdout.write(left.length === 0 ? `${name}\tremoved\n` : `${name}\t${left.join(',')}\n`)
  return 0
}

async function list (argv: string[]): Promise<number> {
  const r = parse(argv, { file: { type: 'string' } })
  if (typeof r === 'string') return usageError(r)
  if (r.positionals.length > 0) return usageError('list takes no NAME.')
  if (r.values.file === undefined || r.values.file === '') return usageError('list needs --file FILE.')
  const { listUsers } = await import('../policy/users-file.ts')
  for (const u of await listUsers(r.values.file)) process.stdout.write(`${u.name}\t${u.mechanisms.join(',')}\n`)
  return 0
}

export const usersCommand: Command = {
  name: 'users',
  summary: 'add, remove and list SASL users in a credentials file (salted verifiers only)',
  usage,
  async run (argv) {
    const [sub, ...rest] = argv
    switch (sub) {
      case 'add': return await add(rest)
      case 'remove': return await remove(rest)
      case 'list': return await list(rest)
      case undefined: return usageError('missing subcommand.')
      default: return usageError(`unknown subcommand '${sub}'.`)
    }
  }
}
