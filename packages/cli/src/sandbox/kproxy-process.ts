// One `kproxy serve` child of the sandbox: spawned from packages/cli/bin/kproxy with the Node
// running this process, its JSON log (stdout) and stderr appended to one file, ready once its
// admin /ready answers 200, stopped with SIGTERM and then SIGKILL after a bound.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { KproxyError } from '@kproxy/core'

const KPROXY_BIN = fileURLToPath(new URL('../../bin/kproxy', import.meta.url))
const POLL_MS = 100

export interface KproxyProcessSpec {
  // 'broker-side' or 'client-side': messages name it
  name: string
  args: readonly string[]
  adminUrl: string
  logFile: string
  // Holds the pid while the child runs; the reaper reads it if this process dies first.
  pidFile: string
  env: NodeJS.ProcessEnv
}

export interface KproxyExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class KproxyProcess {
  readonly spec: KproxyProcessSpec
  private readonly child: ChildProcess
  private exitStatus: KproxyExit | null = null
  private readonly exited: Promise<KproxyExit>

  constructor (spec: KproxyProcessSpec) {
    this.spec = spec
    const out = openSync(spec.logFile, 'a')
    let child: ChildProcess
    try {
      // Detached: a terminal's Ctrl-C reaches only the sandbox CLI, which stops the proxies in
      // order (client side first). A file, not a pipe: a SIGKILLed CLI leaves no broken pipe.
      child = spawn(KPROXY_BIN, ['serve', ...spec.args], {
        detached: true,
        stdio: ['ignore', out, out],
        env: { ...spec.env, KPROXY_NODE: process.execPath }
      })
    } finally {
      closeSync(out)
    }
    this.child = child
    this.exited = new Promise(resolve => {
      child.once('error', err => {
        this.exitStatus = { code: -1, signal: null }
        writeFileSync(spec.logFile, `spawn failed: ${err.message}\n`, { flag: 'a' })
        resolve(this.exitStatus)
      })
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal }
        resolve(this.exitStatus)
      })
    })
    child.unref()
    if (child.pid !== undefined) writeFileSync(spec.pidFile, `${child.pid}\n`)
  }

  get running (): boolean {
    return this.exitStatus === null && this.child.pid !== undefined
  }

  get pid (): number | null {
    return this.running ? this.child.pid! : null
  }

  // Resolves once GET /ready answers 200; rejects when the child exits first or time runs out.
  async waitReady (deadline: number): Promise<void> {
    for (;;) {
      if (!this.running) throw this.exitError()
      try {
        const res = await fetch(`${this.spec.adminUrl}/ready`, { signal: AbortSignal.timeout(1000) })
        await res.arrayBuffer()
        if (res.status === 200) return
      } catch {}
      if (Date.now() > deadline) {
        throw new KproxyError('KPROXY_ERR_SANDBOX_TIMEOUT', `The ${this.spec.name} kproxy was not ready in time (${this.spec.adminUrl}/ready is not 200); ${this.spec.logFile} ends with:\n${this.logTail()}`)
      }
      await sleep(POLL_MS)
    }
  }

  // SIGTERM (kproxy drains), then SIGKILL after graceMs.
  async stop (graceMs: number): Promise<KproxyExit | null> {
    if (this.running) {
      try { this.child.kill('SIGTERM') } catch {}
      let status = await within(this.exited, graceMs)
      if (status === null) {
        try { this.child.kill('SIGKILL') } catch {}
        status = await within(this.exited, 5_000)
      }
    }
    rmSync(this.spec.pidFile, { force: true })
    return this.exitStatus
  }

  // For process 'exit' hooks, where nothing asynchronous runs any more.
  killNow (): void {
    const pid = this.pid
    if (pid === null) return
    try { process.kill(pid, 'SIGKILL') } catch {}
  }

  logMentions (text: string): boolean {
    try {
      return readFileSync(this.spec.logFile, 'utf8').includes(text)
    } catch {
      return false
    }
  }

  logTail (lines = 12): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').split('\n').filter(l => l.trim() !== '').slice(-lines).join('\n')
    } catch {
      return ''
    }
  }

  exitError (): KproxyError {
    const s = this.exitStatus
    const how = s === null ? 'did not start' : s.signal !== null ? `was killed by ${s.signal}` : `exited with code ${String(s.code)}`
    return new KproxyError('KPROXY_ERR_SANDBOX_START', `The ${this.spec.name} kproxy ${how} during start-up; ${this.spec.logFile} ends with:\n${this.logTail()}`)
  }
}

function within<T> (promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>(resolve => { timer = setTimeout(resolve, ms, null) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
