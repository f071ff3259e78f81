// `kproxy certs issue`: leaf certificates signed by a CA directory, written as O/N.crt (leaf, then
// CA), O/N.key (PKCS#8) and O/ca.crt. One name is signed here; several go to a piscina pool.
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { issueCertificate } from '@kproxy/core/certs/x509'
import type { IssueCertificateOptions } from '@kproxy/core/certs/x509'
import { CA_CERT_FILE, readCaDir } from './ca-dir.ts'
import { issueOnPool } from './issue-pool.ts'
import type { PoolIssued } from './issue-pool.ts'
import { parseNames, sansFor } from './options.ts'
import { CERT_MODE, KEY_MODE, makeOutputDir, refuseExisting, writeAllOrNothing } from './output-files.ts'
import type { OutputFile } from './output-files.ts'

export interface IssueCertsOptions {
  caDir: string
  names: readonly string[]
  server?: boolean
  client?: boolean
  // 'DNS:x' / 'IP:y', where '{name}' stands for each name.
  sans?: readonly string[]
  days?: number
  keySize?: number
  outDir: string
  force?: boolean
  // Pool size for bulk issuing; defaults to availableParallelism() - 1 (at least 1).
  threads?: number
}

export interface IssueCertsResult {
  // Per name: N.key, N.crt; then ca.crt.
  written: string[]
  // The thread that signed each name's certificate, in name order (0 = the main thread).
  threadIds: number[]
}

export function outputPaths (outDir: string, name: string): { cert: string, key: string } {
  return { cert: join(outDir, `${name}.crt`), key: join(outDir, `${name}.key`) }
}

export async function issueCerts (options: IssueCertsOptions): Promise<IssueCertsResult> {
  const names = parseNames(options.names)
  if (names.length === 0) throw new KproxyError('KPROXY_ERR_CERTS_NAME', 'Give at least one certificate name.')
  if (options.server !== true && options.client !== true) {
    throw new KproxyError('KPROXY_ERR_CERTS_USAGE', 'A certificate must be issued for server use, client use, or both (--server, --client).')
  }
  const requests: IssueCertificateOptions[] = names.map(name => ({
    name,
    server: options.server === true,
    client: options.client === true,
    sans: sansFor(options.sans ?? [], name),
    days: options.days,
    keySize: options.keySize
  }))
  const ca = await readCaDir(options.caDir)
  const force = options.force === true
  const caCopy: OutputFile = { path: join(options.outDir, CA_CERT_FILE), content: ca.cert, mode: CERT_MODE }
  await refuseExisting([...names.flatMap(name => {
    const paths = outputPaths(options.outDir, name)
    return [{ path: paths.key, mode: KEY_MODE }, { path: paths.cert, mode: CERT_MODE }]
  }), caCopy], force)

  const results: PoolIssued[] = requests.length === 1
    ? [{ issued: await issueCertificate(ca, requests[0]!), threadId }]
    : await issueOnPool(ca, requests, options.threads)

  const files: OutputFile[] = names.flatMap((name, i) => {
    const paths = outputPaths(options.outDir, name)
    const { issued } = results[i]!
    return [{ path: paths.key, content: issued.key, mode: KEY_MODE }, { path: paths.cert, content: issued.chain, mode: CERT_MODE }]
  })
  files.push(caCopy)
  await makeOutputDir(options.outDir)
  const written = await writeAllOrNothing(files, force)
  return { written, threadIds: results.map(r => r.threadId) }
}
