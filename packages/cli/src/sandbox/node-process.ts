import type { ChildProcess } from 'node:child_process'
import { readFileSync, rmSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { KproxyError } from '@kproxy/core'
import { spawnDetached } from './detached-child.ts'
import type { ExitStatus } from './detached-child.ts'
import type { NodeLayout } from './node-config.ts'
import { canConnect } from './ports.ts'

export interface NodeProcessSpec {
  java: string
  classpath: string
  jvmArgs: readonly string[]
  // Put on the JVM command line (-Dkproxy.sandbox=...) so that `ps` shows which sandbox a JVM belongs to.
  sandboxDir: string
  env: NodeJS.ProcessEnv
}

// KafkaRaftServer logs this once the broker and controller are up and serving.
const STARTED_LINE = 'Kafka Server started'
const POLL_MS = 100

export type { ExitStatus } from './detached-child.ts'

// One Kafka JVM: spawn, readiness by its log, bounded stop.
export class KafkaNodeProcess {
  readonly layout: NodeLayout
  private readonly spec: NodeProcessSpec
  private child: ChildProcess | null = null
  private exitStatus: ExitStatus | null = null
  private exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null })
  // Size of the log when this JVM was spawned: a restarted node's "started" line must be a new one.
  private logOffset = 0

  constructor (layout: NodeLayout, spec: NodeProcessSpec) {
    this.layout = layout
    this.spec = spec
  }

  get running (): boolean {
    return this.child !== null && this.exitStatus === null
  }

  get pid (): number | null {
    return this.running ? this.child!.pid ?? null : null
  }

  // extraArgs: per-start JVM flags (class-data sharing), placed after the spec's flags.
  start (extraArgs: readonly string[] = []): void {
    if (this.running) throw new KproxyError('KPROXY_ERR_SANDBOX_STATE', `Kafka node ${this.layout.id} is already running.`)
    this.logOffset = fileSize(this.layout.logFile)
    this.exitStatus = null
    const args = [...this.spec.jvmArgs, ...extraArgs, `-Dkproxy.sandbox=${this.spec.sandboxDir}`, `-Dlog4j2.configurationFile=${this.layout.log4jFile}`,
      '-cp', this.spec.classpath, 'kafka.Kafka', this.layout.configFile]
    // kproxy stops the JVMs in order; see detached-child.ts
    const { child, exited } = spawnDetached({
      command: this.spec.java,
      args,
      env: this.spec.env,
      outFile: this.layout.outFile,
      pidFile: this.layout.pidFile,
      onExit: status => { this.exitStatus = status }
    })
    this.child = child
    this.exited = exited
  }

  // Resolves when the log says started and the client ports accept connections; rejects when
  // the JVM exits first or the deadline passes.
  async waitStarted (deadline: number): Promise<void> {
    const { port, tlsPort } = this.layout
    let seen = ''
    let offset = this.logOffset
    for (;;) {
      if (!this.running) throw this.exitError()
      const chunk = await readFrom(this.layout.logFile, offset)
      offset += chunk.length
      seen = (seen + chunk.toString('utf8')).slice(-4096)
      if (seen.includes(STARTED_LINE)) break
      if (Date.now() > deadline) throw this.timeoutError()
      await sleep(POLL_MS)
    }
    for (const p of tlsPort === undefined ? [port] : [port, tlsPort]) {
      while (!(await canConnect('127.0.0.1', p))) {
        if (!this.running) throw this.exitError()
        if (Date.now() > deadline) throw this.timeoutError(`its port ${p} does not accept connections`)
        await sleep(POLL_MS)
      }
    }
  }

  // SIGTERM (Kafka's orderly shutdown) or SIGKILL; escalates to SIGKILL after graceMs.
  async stop (signal: NodeJS.Signals, graceMs: number): Promise<ExitStatus | null> {
    if (!this.running) return this.exitStatus
    const child = this.child!
    try { child.kill(signal) } catch {}
    let status = await within(this.exited, graceMs)
    if (status === null) {
      try { child.kill('SIGKILL') } catch {}
      status = await within(this.exited, 10_000)
    }
    rmSync(this.layout.pidFile, { force: true })
    return status
  }

  // For process 'exit' hooks, where nothing asynchronous runs any more.
  killNow (): void {
    const pid = this.pid
    if (pid === null) return
    try { process.kill(pid, 'SIGKILL') } catch {}
  }

  logTail (lines = 12): string {
    const pick = (file: string, n: number): string[] => {
      try {
        return readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '' && !l.startsWith('\t')).slice(-n)
      } catch {
        return []
      }
    }
    return [...pick(this.layout.logFile, lines), ...pick(this.layout.outFile, 6)].join('\n')
  }

  logMentions (text: string): boolean {
    try {
      return readFileSync(this.layout.logFile, 'utf8').includes(text) || readFileSync(this.layout.outFile, 'utf8').includes(text)
    } catch {
      return false
    }
  }

  exitError (): KproxyError {
    const s = this.exitStatus
    const how = s === null ? 'exited' : s.signal !== null ? `was killed by ${s.signal}` : `exited with code ${s.code}`
    return new KproxyError('KPROXY_ERR_SANDBOX_START', `Kafka node ${this.layout.id} ${how} during startup; ${this.layout.logFile} ends with:\n${this.logTail()}`)
  }

  timeoutError (detail = 'its log does not say it started'): KproxyError {
    return new KproxyError('KPROXY_ERR_SANDBOX_TIMEOUT', `Kafka node ${this.layout.id} was not ready in time (${detail}); ${this.layout.logFile} ends with:\n${this.logTail()}`)
  }
}

// The promise's value, or null after ms; the timer is cleared so it cannot hold the process open.
function within<T> (promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>(resolve => { timer = setTimeout(resolve, ms, null) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function fileSize (path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

async function readFrom (path: string, offset: number): Promise<Buffer> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch {
    return Buffer.alloc(0)
  }
  try {
    const { size } = await handle.stat()
    if (size <= offset) return Buffer.alloc(0)
    const buf = Buffer.alloc(size - offset)
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset)
    return buf.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}
