// How the sandbox starts its long-lived children (Kafka JVMs, kproxy processes): detached, so a
// terminal's Ctrl-C reaches only the CLI, which stops them in order; output appended to a file,
// not a pipe, so a SIGKILLed CLI leaves no broken pipe behind; not keeping the event loop
// alive (the exit hook or the reaper ends them); the pid in a file for the reaper.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, openSync, writeFileSync } from 'node:fs'

export interface ExitStatus {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface DetachedSpec {
  command: string
  args: readonly string[]
  env: NodeJS.ProcessEnv
  // stdout and stderr are appended here
  outFile: string
  pidFile: string
  // called with the exit status before `exited` resolves (a spawn failure is code -1)
  onExit (status: ExitStatus): void
}

export function spawnDetached (spec: DetachedSpec): { child: ChildProcess, exited: Promise<ExitStatus> } {
  const out = openSync(spec.outFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', out, out], env: spec.env })
  } finally {
    closeSync(out)
  }
  const exited = new Promise<ExitStatus>(resolve => {
    child.once('error', err => {
      const status = { code: -1, signal: null }
      spec.onExit(status)
      writeFileSync(spec.outFile, `spawn failed: ${err.message}\n`, { flag: 'a' })
      resolve(status)
    })
    child.once('exit', (code, signal) => {
      const status = { code, signal }
      spec.onExit(status)
      resolve(status)
    })
  })
  child.unref()
  if (child.pid !== undefined) writeFileSync(spec.pidFile, `${child.pid}\n`)
  return { child, exited }
}

// The promise's value, or null after ms; the timer is cleared so it cannot hold the process open.
export function within<T> (promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>(resolve => { timer = setTimeout(resolve, ms, null) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
