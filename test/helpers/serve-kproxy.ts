// `kproxy serve` as a user runs it, for end-to-end tests: the real CLI process with N worker
// threads on free ports in front of a sandbox cluster, ready once GET /ready answers 200, stopped
// with SIGTERM (then SIGKILL) when the test ends.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { freePort, freePortRange } from './broker-proxy.ts'
import type { TeardownHost } from './kafka.ts'
import { collectOutput } from './process-output.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))

// kproxy serve took 26 s to be ready in a full CI run on 2 cores, and once more than 30 s
const READY_TIMEOUT_MS = 90_000

export interface ServeOptions {
  // null: the config file (--config in args) says where everything is: a mesh config, whose
  // listen address is `listenPort` (no --upstream or --listen flag is passed)
  upstream: string | null
  listenPort?: number
  workers?: number
  // Extra `kproxy serve` flags, e.g. ['--log-level', 'debug'].
  args?: readonly string[]
  env?: Record<string, string>
  readyTimeoutMs?: number
  // Wait for GET /ready (default) or only GET /healthz (a kproxy whose upstream cannot answer)
  waitFor?: 'ready' | 'healthz'
  // How long SIGTERM may take at teardown before SIGKILL.
  stopTimeoutMs?: number
}

export interface ServedKproxy {
  readonly child: ChildProcess
  // Clients bootstrap here; broker N is served on listenPort + 1 + N.
  readonly bootstrap: string
  readonly listenPort: number
  readonly adminUrl: string
  // Parsed JSON log lines from stdout (a line that is not JSON is kept as { raw }).
  readonly logs: Array<Record<string, unknown>>
  stderr (): string
  metrics (): Promise<string>
  // Exit status after SIGTERM, or null if the process was still running after timeoutMs.
  stop (timeoutMs?: number): Promise<{ code: number | null, signal: NodeJS.Signals | null } | null>
}

export async function serveKproxy (t: TeardownHost, options: ServeOptions): Promise<ServedKproxy> {
  // Broker ports are listen + 1 + node id (ids 1..3 in the sandbox).
  const listenPort = options.listenPort ?? await freePortRange(8)
  const adminPort = await freePort()
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const upstream = options.upstream === null ? [] : ['--upstream', options.upstream, '--listen', `127.0.0.1:${listenPort}`]
  const args = ['serve', '--workers', String(options.workers ?? 2), ...upstream, '--admin', `127.0.0.1:${adminPort}`, ...(options.args ?? [])]
  const child = spawn(KPROXY, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
  const { logs, stderr: readStderr } = collectOutput(child)
  let exitStatus: { code: number | null, signal: NodeJS.Signals | null } | null = null
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('exit', (code, signal) => {
      exitStatus = { code, signal }
      resolve(exitStatus)
    })
  })

  const stop = async (timeoutMs = options.stopTimeoutMs ?? 15_000): Promise<{ code: number | null, signal: NodeJS.Signals | null } | null> => {
    if (exitStatus !== null) return exitStatus
    child.kill('SIGTERM')
    const result = await Promise.race([exited, sleep(timeoutMs).then(() => null)])
    if (result === null) child.kill('SIGKILL')
    return result
  }
  t.teardown(async () => { await stop() })

  const started = Date.now()
  const deadline = started + (options.readyTimeoutMs ?? READY_TIMEOUT_MS)
  for (;;) {
    if (exitStatus !== null) throw new Error(`kproxy serve exited during start-up (${JSON.stringify(exitStatus)}): ${readStderr()}`)
    try {
      if ((await fetch(`${adminUrl}/${options.waitFor ?? 'ready'}`)).status === 200) break
    } catch {}
    if (Date.now() > deadline) throw new Error(`kproxy serve: /ready not 200 after ${options.readyTimeoutMs ?? READY_TIMEOUT_MS} ms; stderr: ${readStderr()}`)
    await sleep(100)
  }
  t.comment?.(`kproxy serve --workers ${options.workers ?? 2} ready in ${Date.now() - started} ms on 127.0.0.1:${listenPort}`)

  return {
    child,
    bootstrap: `127.0.0.1:${listenPort}`,
    listenPort,
    adminUrl,
    logs,
    stderr: readStderr,
    metrics: async () => await (await fetch(`${adminUrl}/metrics`)).text(),
    stop
  }
}

// Sum of a Prometheus counter's samples whose labels contain `labels` (all samples when '').
export function metricSum (metrics: string, name: string, labels = ''): number {
  let total = 0
  for (const line of metrics.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return total
}
