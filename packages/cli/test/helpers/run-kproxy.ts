// The real `kproxy` binary as a user runs it: exit code, stdout and stderr of one command.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const KPROXY = fileURLToPath(new URL('../../bin/kproxy', import.meta.url))

export interface Run { code: number | null, stdout: string, stderr: string }

export function kproxy (...args: string[]): Promise<Run> {
  return new Promise(resolve => {
    execFile(KPROXY, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}
