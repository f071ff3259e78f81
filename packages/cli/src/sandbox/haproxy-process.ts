// HAProxy as a child of the sandbox: found on PATH (Debian's `haproxy` package), its config
// checked with `haproxy -c` first (a clear error instead of a child that exits), run in the
// foreground (-db) as a detached child with its log on stderr appended to a file, ready once
// every server of every backend is UP in its statistics.
import type { ChildProcess } from 'node:child_process'
import { execFile } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { spawnDetached, within } from './detached-child.ts'
import type { ExitStatus } from './detached-child.ts'
import { describeExit } from './exit-reason.ts'
import { parseHaproxyStats } from './haproxy-config.ts'
import type { ServerStat } from './haproxy-config.ts'

const POLL_MS = 200

export interface HaproxySpec {
  configFile: string
  logFile: string
  pidFile: string
  statsUrl: string
  env: NodeJS.ProcessEnv
}

// The haproxy binary: $KPROXY_HAPROXY, else `haproxy` on PATH.
export async function findHaproxy (env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const command = env.KPROXY_HAPROXY ?? 'haproxy'
  const version = await new Promise<string | null>(resolve => {
    execFile(command, ['-v'], { env, timeout: 10_000 }, (err, stdout) => resolve(err === null ? stdout : null))
  })
  if (version === null) {
    throw new KproxyError('KPROXY_ERR_HAPROXY_MISSING', `HAProxy was not found ('${command}' did not run); install it (Debian: apt-get install haproxy, or scripts/setup.sh) or point KPROXY_HAPROXY at the binary.`)
  }
  return command
}

export async function checkHaproxyConfig (command: string, configFile: string, env: NodeJS.ProcessEnv): Promise<void> {
  const problem = await new Promise<string | null>(resolve => {
    execFile(command, ['-c', '-f', configFile], { env, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve(err === null ? null : (stderr + stdout).split('\n').filter(l => l.trim() !== '' && !l.startsWith('[NOTICE]')).join('\n')))
  })
  if (problem !== null) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_START', `HAProxy refuses the generated configuration ${configFile}:\n${problem}`)
  }
}

export class HaproxyProcess {
  readonly spec: HaproxySpec
  private readonly child: ChildProcess
  private exitStatus: ExitStatus | null = null
  private readonly exited: Promise<ExitStatus>

  constructor (command: string, spec: HaproxySpec) {
    this.spec = spec
    const { child, exited } = spawnDetached({
      command,
      args: ['-db', '-f', spec.configFile],
      env: spec.env,
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

  // Every server in its statistics (null while the stats page does not answer).
  async servers (): Promise<ServerStat[] | null> {
    try {
      const res = await fetch(`${this.spec.statsUrl};csv`, { signal: AbortSignal.timeout(1000) })
      const text = await res.text()
      return res.status === 200 ? parseHaproxyStats(text).filter(s => s.server !== 'FRONTEND' && s.server !== 'BACKEND') : null
    } catch {
      return null
    }
  }

  // Resolves once every server of every backend is UP; rejects when HAProxy exits or time runs out.
  async waitReady (deadline: number): Promise<void> {
    let last: ServerStat[] | null = null
    for (;;) {
      if (!this.running) {
        throw new KproxyError('KPROXY_ERR_SANDBOX_START', `HAProxy ${describeExit(this.exitStatus)} during start-up; ${this.spec.logFile} ends with:\n${this.logTail()}`)
      }
      last = await this.servers()
      if (last !== null && last.length > 0 && last.every(s => s.status === 'UP')) return
      if (Date.now() > deadline) {
        const states = last === null ? 'its statistics page does not answer' : last.filter(s => s.status !== 'UP').map(s => `${s.proxy}/${s.server} ${s.status}`).join(', ')
        throw new KproxyError('KPROXY_ERR_SANDBOX_TIMEOUT', `HAProxy was not ready in time (${states}); ${this.spec.logFile} ends with:\n${this.logTail()}`)
      }
      await sleep(POLL_MS)
    }
  }

  async stop (graceMs: number): Promise<void> {
    if (this.running) {
      // SIGUSR1 would wait for every session to end (soft stop); the sandbox is going away
      try { this.child.kill('SIGTERM') } catch {}
      let status = await within(this.exited, graceMs)
      if (status === null) {
        try { this.child.kill('SIGKILL') } catch {}
        status = await within(this.exited, 5_000)
      }
    }
    rmSync(this.spec.pidFile, { force: true })
  }

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
}
