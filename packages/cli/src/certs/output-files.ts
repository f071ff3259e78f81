// Writing certificate files all-or-nothing: every file goes to a temporary name in its target
// directory first and is renamed into place only once all of them are written, so a failure
// (disk full, permissions, a signal) never leaves a key without its certificate or a truncated PEM.
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'

export interface OutputFile {
  path: string
  // Unknown while checking before the keys exist.
  content?: string
  mode: number
}

// Private keys: owner read/write only. Certificates are public.
export const KEY_MODE = 0o600
export const CERT_MODE = 0o644

// Refuses existing files unless forced. A file that already holds exactly the new content is not
// being overwritten (e.g. ca.crt when issuing a second batch into the same directory).
export async function refuseExisting (files: readonly OutputFile[], force: boolean): Promise<void> {
  if (force) return
  for (const file of files) {
    let existing: string
    try {
      existing = await readFile(file.path, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') continue
      // Unreadable or a directory: it exists all the same.
      existing = '\0'
    }
    if (file.content !== undefined && existing === file.content) continue
    throw new KproxyError('KPROXY_ERR_CERTS_EXISTS', `${file.path} already exists; pass --force to overwrite it.`)
  }
}

// Returns the paths written, in order.
export async function writeAllOrNothing (files: readonly OutputFile[], force: boolean): Promise<string[]> {
  await refuseExisting(files, force)
  const staged: Array<{ tmp: string, path: string }> = []
  let renamed = 0
  try {
    for (const file of files) {
      const tmp = join(dirname(file.path), `.${basename(file.path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`)
      // 'wx' with the final mode: the key is never readable by others, not even for a moment.
      await writeFile(tmp, file.content ?? '', { mode: file.mode, flag: 'wx' })
      staged.push({ tmp, path: file.path })
      // The umask may have removed bits from a certificate's mode.
      await chmod(tmp, file.mode)
    }
    for (const { tmp, path } of staged) {
      await rename(tmp, path)
      renamed++
    }
  } catch (err) {
    await Promise.all(staged.slice(renamed).map(s => rm(s.tmp, { force: true })))
    const code = (err as NodeJS.ErrnoException).code
    const done = renamed === 0 ? 'nothing was written' : `only ${staged.slice(0, renamed).map(s => s.path).join(', ')} were written`
    throw new KproxyError('KPROXY_ERR_CERTS_WRITE', `Cannot write the certificate files in ${dirname(files[0]?.path ?? '.')} (${code ?? String(err)}); ${done}.`, { cause: err })
  }
  return staged.map(s => s.path)
}

export async function makeOutputDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_CERTS_WRITE', `Cannot create the directory ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)}); nothing was written.`, { cause: err })
  }
}
