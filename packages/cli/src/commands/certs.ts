import { parseArgs } from 'node:util'
import type { ParseArgsOptionsConfig } from 'node:util'
import type { Command } from '../command.ts'

const usage = `Usage: kproxy certs <init|issue> [options]

  init --dir D [--cn NAME] [--days N] [--key-size 2048|3072|4096] [--force]
      make a CA: D/ca.crt (certificate) and D/ca.key (PKCS#8 private key, mode 0600);
      default CN 'kproxy CA', 3650 days, 2048-bit RSA

  issue --ca D --name N [--server] [--client] [--san DNS:x,IP:y,URI:spiffe://…] [--days N]
        [--key-size 2048|3072|4096] --out O [--force]
      sign certificates with the CA in D: O/N.crt (certificate, then the CA), O/N.key
      (PKCS#8, mode 0600) and O/ca.crt. --server and/or --client set the extended key
      usage (at least one). Several names (--name a,b,c or repeated --name) are signed in
      parallel; '{name}' in a SAN stands for each name (--san 'DNS:{name}.kafka.local').
      Default 825 days.

  Existing files are only replaced with --force. Key contents are never printed; the paths
  written are, one per line. See docs/certificates.md.`

function usageError (message: string): number {
  process.stderr.write(`kproxy certs: ${message}\n\n${usage}\n`)
  return 2
}

function parse<T> (argv: string[], options: ParseArgsOptionsConfig): T | string {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as T
  } catch (err) {
    return (err as Error).message
  }
}

function printPaths (paths: readonly string[]): void {
  process.stdout.write(paths.map(p => `${p}\n`).join(''))
}

async function init (argv: string[]): Promise<number> {
  const values = parse<{ dir?: string, cn?: string, days?: string, 'key-size'?: string, force?: boolean }>(argv, {
    dir: { type: 'string' }, cn: { type: 'string' }, days: { type: 'string' }, 'key-size': { type: 'string' }, force: { type: 'boolean' }
  })
  if (typeof values === 'string') return usageError(values)
  if (values.dir === undefined || values.dir === '') return usageError('init needs --dir DIR.')
  if (values.cn !== undefined && values.cn.trim() === '') return usageError('--cn needs a name.')
  const { parseDays, parseKeySize } = await import('../certs/options.ts')
  const days = parseDays(values.days)
  const keySize = parseKeySize(values['key-size'])
  const { initCa } = await import('../certs/init-ca.ts')
  printPaths(await initCa({ dir: values.dir, commonName: values.cn, days, keySize, force: values.force === true }))
  return 0
}

async function issue (argv: string[]): Promise<number> {
  const values = parse<{ ca?: string, name?: string[], server?: boolean, client?: boolean, san?: string[], days?: string, 'key-size'?: string, out?: string, force?: boolean }>(argv, {
    ca: { type: 'string' },
    name: { type: 'string', multiple: true },
    server: { type: 'boolean' },
    client: { type: 'boolean' },
    san: { type: 'string', multiple: true },
    days: { type: 'string' },
    'key-size': { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' }
  })
  if (typeof values === 'string') return usageError(values)
  if (values.ca === undefined || values.ca === '') return usageError('issue needs --ca DIR (a directory made by `kproxy certs init`).')
  if (values.name === undefined) return usageError('issue needs --name NAME (or several: --name a,b,c).')
  if (values.out === undefined || values.out === '') return usageError('issue needs --out DIR.')
  if (values.server !== true && values.client !== true) return usageError('issue needs --server, --client or both.')
  const { parseDays, parseKeySize, splitList } = await import('../certs/options.ts')
  const days = parseDays(values.days)
  const keySize = parseKeySize(values['key-size'])
  const { issueCerts } = await import('../certs/issue-certs.ts')
  const result = await issueCerts({
    caDir: values.ca,
    names: values.name,
    server: values.server,
    client: values.client,
    sans: splitList(values.san ?? []),
    days,
    keySize,
    outDir: values.out,
    force: values.force === true
  })
  printPaths(result.written)
  return 0
}

export const certsCommand: Command = {
  name: 'certs',
  summary: 'make a CA and issue TLS certificates (PEM) for kproxy, clients and brokers',
  usage,
  async run (argv) {
    const [sub, ...rest] = argv
    switch (sub) {
      case 'init': return await init(rest)
      case 'issue': return await issue(rest)
      case undefined: return usageError('missing subcommand.')
      default: return usageError(`unknown subcommand '${sub}'.`)
    }
  }
}
