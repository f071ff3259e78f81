// `kproxy certs init`: a new CA in DIR/ca.crt and DIR/ca.key.
import { createCa } from '@kproxy/core/certs/x509'
import { caPaths } from './ca-dir.ts'
import { CERT_MODE, KEY_MODE, makeOutputDir, refuseExisting, writeAllOrNothing } from './output-files.ts'
import type { OutputFile } from './output-files.ts'

export const DEFAULT_CA_NAME = 'kproxy CA'

export interface InitCaOptions {
  dir: string
  commonName?: string
  days?: number
  keySize?: number
  force?: boolean
}

// Returns the paths written: the key first, then the certificate.
export async function initCa (options: InitCaOptions): Promise<string[]> {
  const force = options.force === true
  const paths = caPaths(options.dir)
  const files: OutputFile[] = [{ path: paths.key, mode: KEY_MODE }, { path: paths.cert, mode: CERT_MODE }]
  // Before the key generation, so that a refusal is immediate.
  await refuseExisting(files, force)
  const ca = await createCa({ commonName: options.commonName ?? DEFAULT_CA_NAME, days: options.days, keySize: options.keySize })
  await makeOutputDir(options.dir)
  return await writeAllOrNothing([{ ...files[0]!, content: ca.key }, { ...files[1]!, content: ca.cert }], force)
}
