import type { ChildProcess } from 'node:child_process'
import { closeSync, fstatSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { spawnDetached, within } from './detached-child.ts'
import type { ExitStatus } from './detached-child.ts'
import { lastErrorLine } from './exit-reason.ts'
import type { NodeLayout } from './node-config.ts'
import { canConnect } from './ports.ts'

export interface NodeProcessSpec {
  java: string
  classpath: string
  jvmArgs: readonly string[]
  // Put on the JVM command line (-Dkproxy.sandbox=...) so that `ps` shows which sandbox a JVM belongs to.
  sandboxDir: string
  env: NodeJS.ProcessEnv
  // Called when the JVM exits without stop() having asked it to (a crash, an OOM, a kill -9).
  onUnexpectedExit?: (id: number, status: ExitStatus) => void
}

// KafkaRaftServer logs this once the broker and controller are up and serving.
const STARTED_LINE = 'Kafka Server started'
const POLL_MS = 100
const TAIL_BYTES = 1 << 20

export type { ExitStatus } from './detached-child.ts'

// One Kafka JVM: spawn, readiness by its log, bounded stop.
export class KafkaNodeProcess {
  readonly layout: NodeLayout
  private readonly spec: NodeProcessSpec
  private child: ChildProcess | null = null
  private exitStatus: ExitStatus | null = null
  private exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null })
  // Sizes of the log and of the JVM output when this JVM was spawned: a restarted node's
  // "started" line, and the error that explains its death, must be new ones.
  private logOffset = 0
  private outOffset = 0
  // stop() was called for this run: its exit is expected.
  private stopRequested = false

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
    this.outOffset = fileSize(this.layout.outFile)
    this.exitStatus = null
    this.stopRequested = false
    const args = [...this.spec.jvmArgs, ...extraArgs, `-Dkproxy.sandbox=${this.spec.sandboxDir}`, `-Dlog4j2.configurationFile=${this.layout.log4jFile}`,
      '-cp', this.spec.classpath, 'kafka.Kafka', this.layout.configFile]
    // kproxy stops the JVMs in order; see detached-child.ts
    const { child, exited } = spawnDetached({
      command: this.spec.java,
      args,
      env: this.spec.env,
      outFile: this.layout.outFile,
      pidFile: this.layout.pidFile,
      onExit: status => {
        this.exitStatus = status
        if (!this.stopRequested) this.spec.onUnexpectedExit?.(this.layout.id, status)
      }
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
    this.stopRequested = true
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
    this.stopRequested = true
    try { process.kill(pid, 'SIGKILL') } catch {}
  }

  get lastExit (): ExitStatus | null {
    return this.exitStatus
  }

  // The line of this run's output that best explains why it ended (see exit-reason.ts).
  lastErrorLine (): string | null {
    return lastErrorLine(readTail(this.layout.logFile, this.logOffset), readTail(this.layout.outFile, this.outOffset))
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


// What a file holds from `offset` on, at most the last 1 MiB of it (the end says why a JVM died).
function readTail (path: string, offset: number): string {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return ''
  }
  try {
    const size = fstatSync(fd).size
    const from = Math.max(offset, size - TAIL_BYTES)
    if (size <= from) return ''
    const buf = Buffer.alloc(size - from)
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, from)).toString('utf8')
  } finally {
    closeSync(fd)
  }
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
