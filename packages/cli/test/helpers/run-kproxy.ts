// The real `kproxy` binary as a user runs it: exit code, stdout and stderr of one command.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const KPROXY = fileURLToPath(new URL('../../bin/kproxy', import.meta.url))

export interface Run { code: number | null, stdout: string, stderr: string }

function run (args: readonly string[], input: string | null): Promise<Run> {
  return new Promise(resolve => {
    const child = execFile(KPROXY, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
    if (input !== null) child.stdin!.end(input)
  })
}

export function kproxy (...args: string[]): Promise<Run> {
  return run(args, null)
}

// the same with `input` on stdin, which is then closed (a password for --password-stdin; '' for a
// command that must not wait for a terminal)
export function kproxyWithInput (args: readonly string[], input = ''): Promise<Run> {
  return run(args, input)
}
