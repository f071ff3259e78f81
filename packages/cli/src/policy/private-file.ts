// Replacing a private file atomically: the new content goes to a temporary file in the same
// directory (created with mode 0600, so it is never readable by others, not even briefly),
// is flushed to disk, then renamed over the target. A reader (kproxy's watcher) sees the old
// file or the new one, never half of it.
import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'

export const PRIVATE_MODE = 0o600

export async function writePrivateFile (path: string, content: string): Promise<void> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const handle = await open(tmp, 'wx', PRIVATE_MODE)
    try {
      await handle.writeFile(content, 'utf8')
      // The umask could have narrowed the mode, never widened it; set it exactly.
      await handle.chmod(PRIVATE_MODE)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    const code = (err as NodeJS.ErrnoException).code
    throw new KproxyError('KPROXY_ERR_USERS_WRITE', `Cannot write ${path} (${code ?? (err as Error).message}); check that the directory exists and is writable. The file was not changed.`)
  }
  try {
    const d = await open(dir, 'r')
    try { await d.sync() } finally { await d.close() }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself has happened.
  }
}
