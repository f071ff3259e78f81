// DIR/sandbox.json, the one file scripts wait for. It is written once, when the whole topology
// is ready, under a temporary name in the same directory and then renamed: rename(2) replaces
// the name atomically, so a reader sees no file or the complete file, never a part of it.
import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export const SANDBOX_FILE = 'sandbox.json'
// A dot name, so that a watcher globbing for *.json never picks it up.
export const SANDBOX_TEMP_FILE = '.sandbox.json.tmp'

export async function writeSandboxFile (dir: string, info: unknown): Promise<string> {
  const temp = join(dir, SANDBOX_TEMP_FILE)
  const path = join(dir, SANDBOX_FILE)
  try {
    await writeFile(temp, JSON.stringify(info, null, 2) + '\n')
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  return path
}
