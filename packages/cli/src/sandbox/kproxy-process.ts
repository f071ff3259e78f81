// One `kproxy serve` child of the sandbox: spawned from packages/cli/bin/kproxy with the Node
// running this process, its JSON log (stdout) and stderr appended to one file, ready once its
// admin /ready answers 200, stopped with SIGTERM and then SIGKILL after a bound.
import type { ChildProcess } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { spawnDetached, within } from './detached-child.ts'
import type { ExitStatus } from './detached-child.ts'

const KPROXY_BIN = fileURLToPath(new URL('../../bin/kproxy', import.meta.url))
const POLL_MS = 100

export interface KproxyProcessSpec {
  // 'broker-side', 'client-side', 'replica-2': messages name it
  name: string
  args: readonly string[]
  adminUrl: string
  logFile: string
  // Holds the pid while the child runs; the reaper reads it if this process dies first.
  pidFile: string
  env: NodeJS.ProcessEnv
}

export type KproxyExit = ExitStatus

export class KproxyProcess {
  readonly spec: KproxyProcessSpec
  private readonly child: ChildProcess
  private exitStatus: KproxyExit | null = null
  private readonly exited: Promise<KproxyExit>

  constructor (spec: KproxyProcessSpec) {
    this.spec = spec
    // the CLI stops the proxies in order (client side first); see detached-child.ts
    const { child, exited } = spawnDetached({
      command: KPROXY_BIN,
      args: ['serve', ...spec.args],
      env: { ...spec.env, KPROXY_NODE: process.execPath },
      outFile: spec.logFile,
      pidFile: spec.pidFile,
      onExit: status => { this.exitStatus = status }
    })
    this.child = child
    this.exited = exited
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
