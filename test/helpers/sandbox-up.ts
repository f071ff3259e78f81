// `kproxy sandbox up ...` as a user runs it, for tests: the real CLI process, resolved with the
// JSON it prints once everything is ready; and a look at which processes still belong to a
// sandbox directory (JVMs and kproxy children name files under it on their command lines).
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))

export interface SandboxUp<T> {
  child: ChildProcess
  info: T
  readyMs: number
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export function sandboxUp<T> (args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<SandboxUp<T>> {
  const started = Date.now()
  const child = spawn(KPROXY, ['sandbox', 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString()
      const nl = stdout.indexOf('\n')
      if (nl >= 0) resolve({ child, info: JSON.parse(stdout.slice(0, nl)) as T, readyMs: Date.now() - started, stderr: () => stderr, exited })
    })
    void exited.then(status => reject(new Error(`kproxy sandbox up exited early (${status.code ?? status.signal}):\n${stderr}`)))
  })
}

// sandboxUp for a whole test file: stopped with SIGTERM (its exit awaited) when `t` tears down,
// and its start-up time reported
export async function sandboxForTest<T> (t: { teardown (fn: () => unknown): void, comment (...message: unknown[]): void }, args: readonly string[]): Promise<SandboxUp<T>> {
  const run = await sandboxUp<T>(args)
  t.teardown(async () => {
    run.child.kill('SIGTERM')
    await run.exited
  })
  t.comment(`sandbox (${args.join(' ')}) ready in ${run.readyMs} ms`)
  return run
}

export interface ProcessLine {
  pid: number
  args: string
}

// Live processes whose command line mentions `text`, except sandbox reapers (their arguments
// name the directories they will remove) and `ps` itself.
export function processesMentioning (text: string): ProcessLine[] {
  const ps = spawnSync('ps', ['-ww', '-eo', 'pid,args', '--no-headers'], { encoding: 'utf8' })
  return ps.stdout.split('\n')
    .map(line => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[2]!.includes(text) && !m[2]!.includes('kproxy-sandbox-reaper') && Number(m[1]) !== ps.pid)
    .map(m => ({ pid: Number(m[1]), args: m[2]! }))
}
