// The replicas topology (`kproxy sandbox up --replicas N`): several kproxy processes behind one
// TCP load balancer, as in production behind a Kubernetes Service or a cloud load balancer.
//
//   client --> HAProxy 127.0.0.1:L (bootstrap), 127.0.0.1:L+1+id (broker id)
//                --> replica i: kproxy serve on 127.0.11.i, the same ports L and L+1+id --> brokers
//
// Every replica listens on the same ports on its own loopback address (Linux routes all of
// 127.0.0.0/8 to lo) and advertises HAProxy's address: the broker port mapping is the same in all
// of them (brokerPorts base L+1), so every replica gives every client the same Metadata, and a
// client whose replica dies reconnects through HAProxy to another one that tells it the same.
// This needs no per-replica address rewriting: the advertised port equals the listen port, as
// with pods behind a Service. HAProxy checks each replica's admin /ready (the admin API of
// replica i is on 127.0.11.i:A, the same port A for all).
//
// Files under the sandbox directory D:
//   D/proxies/haproxy.cfg, D/proxies/haproxy.log  the load balancer's config and log
//   D/proxies/replica-N.log                       each kproxy's JSON log lines and stderr
// Pid files live in a private temporary directory watched by a reaper (reaper.ts).
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { startCluster } from './cluster.ts'
import type { Cluster, SandboxInfo, StartClusterOptions } from './cluster.ts'
import { haproxyConfig } from './haproxy-config.ts'
import type { LoadBalancerPlan } from './haproxy-config.ts'
import { HaproxyProcess, checkHaproxyConfig, findHaproxy } from './haproxy-process.ts'
import { KproxyProcess } from './kproxy-process.ts'
import { probeBrokerIds } from './metadata-probe.ts'
import { freePortBlock, portFree } from './ports.ts'
import { spawnReaper } from './reaper.ts'
import type { Reaper } from './reaper.ts'
import { writeSandboxFile } from './sandbox-file.ts'

export const REPLICAS_TOPOLOGY = 'replicas'
export const MAX_REPLICAS = 8
// HAProxy listens here, and every replica advertises it.
const LOAD_BALANCER_HOST = '127.0.0.1'
const DEFAULT_TIMEOUT_MS = 120_000
// kproxy drains for up to shutdownTimeoutMs (10 s by default) after SIGTERM.
const PROXY_STOP_GRACE_MS = 12_000
const PORT_RETRIES = 3

export function replicaHost (index: number): string {
  return `127.0.11.${index}`
}

export interface StartReplicasOptions extends Omit<StartClusterOptions, 'tls' | 'sasl' | 'writeInfoFile'> {
  replicas: number
  // worker threads of each kproxy (default 1)
  workers?: number
}

export interface ReplicaInfo {
  name: string
  // where this replica listens (clients never use it: they go through the load balancer)
  listen: string
  adminUrl: string
  pid: number
  log: string
}

// sandbox.json of this topology: the cluster's info plus the load balancer and the replicas.
export interface ReplicasInfo extends SandboxInfo {
  topology: typeof REPLICAS_TOPOLOGY
  // HAProxy's bootstrap: what clients use
  clientBootstrap: string
  loadBalancer: {
    kind: 'haproxy'
    bootstrap: string
    // broker id -> HAProxy's port for it (what every replica advertises)
    brokerPorts: Record<string, number>
    statsUrl: string
    config: string
    log: string
    pid: number
  }
  replicas: ReplicaInfo[]
}

export interface ReplicasSandbox {
  readonly info: ReplicasInfo
  readonly cluster: Cluster
  // The kproxies and HAProxy that have died since the start, for reports.
  dead (): string[]
  // HAProxy, then the replicas (SIGTERM: they drain), then the cluster.
  stop (): Promise<void>
}

export async function startReplicas (options: StartReplicasOptions): Promise<ReplicasSandbox> {
  const count = options.replicas
  if (!Number.isInteger(count) || count < 1 || count > MAX_REPLICAS) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `--replicas must be 1 to ${MAX_REPLICAS}, not ${String(count)}.`)
  }
  const workers = options.workers ?? 1
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `Each kproxy replica needs 1 to 64 workers, not ${String(workers)}.`)
  }
  const env = options.env ?? process.env
  // before any JVM starts: a missing HAProxy or loopback range is known at once
  const haproxy = await findHaproxy(env)
  await checkLoopbackRange(count)
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const cluster = await startCluster({ ...options, writeInfoFile: false })
  const sandbox = new Replicas(cluster, options, haproxy, count, workers)
  try {
    await sandbox.start(deadline)
  } catch (err) {
    await sandbox.stop()
    throw err
  }
  return sandbox
}

// Each replica binds its own 127.0.11.i; a system without the loopback range (not Linux) cannot.
async function checkLoopbackRange (count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    if (!(await portFree(replicaHost(i), 0))) {
      throw new KproxyError('KPROXY_ERR_SANDBOX_START', `Cannot listen on ${replicaHost(i)}: the replicas topology gives each kproxy its own loopback address in 127.0.0.0/8, which this system does not route (Linux does).`)
    }
  }
}

class Replicas implements ReplicasSandbox {
  info!: ReplicasInfo
  readonly cluster: Cluster
  private readonly options: StartReplicasOptions
  private readonly haproxyCommand: string
  private readonly count: number
  private readonly workers: number
  private readonly proxiesDir: string
  private runDir = ''
  private reaper: Reaper | null = null
  private replicas: KproxyProcess[] = []
  private haproxy: HaproxyProcess | null = null
  private stopping: Promise<void> | null = null

  constructor (cluster: Cluster, options: StartReplicasOptions, haproxyCommand: string, count: number, workers: number) {
    this.cluster = cluster
    this.options = options
    this.haproxyCommand = haproxyCommand
    this.count = count
    this.workers = workers
    this.proxiesDir = join(cluster.dataDir, 'proxies')
  }

  async start (deadline: number): Promise<void> {
    const log = this.options.log ?? (() => {})
    await rm(this.proxiesDir, { recursive: true, force: true })
    await mkdir(this.proxiesDir, { recursive: true })
    this.runDir = await mkdtemp(join(tmpdir(), 'kproxy-replicas-'))
    live.add(this)
    installExitHook()
    const names = Array.from({ length: this.count }, (_, i) => `replica-${i + 1}`)
    const pidFiles = [...names, 'haproxy'].map(n => join(this.runDir, `${n}.pid`))
    this.reaper = spawnReaper(pidFiles, [this.proxiesDir, this.runDir])

    const ids = this.cluster.info.brokers.map(b => b.id)
    // listen port L; brokers on L+1+id (kproxy's default base L+1); admin on L+span, stats on L+span+1
    const span = 2 + Math.max(...ids)
    for (let attempt = 1; ; attempt++) {
      const hosts = [LOAD_BALANCER_HOST, ...names.map((_, i) => replicaHost(i + 1))]
      const listen = await freePortBlock(span + 2, hosts)
      const plan: LoadBalancerPlan = {
        host: LOAD_BALANCER_HOST,
        ports: [{ name: 'bootstrap', port: listen }, ...ids.map(id => ({ name: `broker-${id}`, port: listen + 1 + id }))],
        replicas: names.map((name, i) => ({ name, host: replicaHost(i + 1) })),
        adminPort: listen + span,
        statsPort: listen + span + 1
      }
      try {
        let at = Date.now()
        await this.startReplicas(plan, listen, pidFiles, deadline)
        log(`kproxy: ${this.count} kproxy replica(s) ready in ${Date.now() - at} ms on ${plan.replicas.map(r => `${r.host}:${listen}`).join(', ')}`)
        at = Date.now()
        await this.startHaproxy(plan, pidFiles[this.count]!, deadline)
        log(`kproxy: HAProxy ready in ${Date.now() - at} ms on ${LOAD_BALANCER_HOST}:${listen} (statistics on http://${LOAD_BALANCER_HOST}:${plan.statsPort}/)`)
        await this.waitThroughLoadBalancer(listen, ids, deadline)
        this.info = this.describe(plan, listen)
        break
      } catch (err) {
        const taken = this.replicas.some(r => r.logMentions('EADDRINUSE')) || this.haproxy?.logMentions('cannot bind socket') === true
        await this.stopProxies()
        if (taken && attempt < PORT_RETRIES && Date.now() < deadline) {
          log('kproxy: a port of the load balancer or a replica was taken; retrying with new ports')
          continue
        }
        throw err
      }
    }
    await writeSandboxFile(this.cluster.dataDir, this.info)
  }

  private async startReplicas (plan: LoadBalancerPlan, listen: number, pidFiles: readonly string[], deadline: number): Promise<void> {
    this.replicas = plan.replicas.map((r, i) => new KproxyProcess({
      name: r.name,
      args: [
        '--listen', `${r.host}:${listen}`,
        '--advertised-host', plan.host,
        '--admin', `${r.host}:${plan.adminPort}`,
        '--upstream', this.cluster.info.bootstrap,
        '--workers', String(this.workers)
      ],
      adminUrl: `http://${r.host}:${plan.adminPort}`,
      logFile: join(this.proxiesDir, `${r.name}.log`),
      pidFile: pidFiles[i]!,
      env: this.options.env ?? process.env
    }))
    await Promise.all(this.replicas.map(r => r.waitReady(deadline)))
  }

  private async startHaproxy (plan: LoadBalancerPlan, pidFile: string, deadline: number): Promise<void> {
    const configFile = join(this.proxiesDir, 'haproxy.cfg')
    await writeFile(configFile, haproxyConfig(plan))
    const env = this.options.env ?? process.env
    await checkHaproxyConfig(this.haproxyCommand, configFile, env)
    this.haproxy = new HaproxyProcess(this.haproxyCommand, {
      configFile,
      logFile: join(this.proxiesDir, 'haproxy.log'),
      pidFile,
      statsUrl: `http://${plan.host}:${plan.statsPort}/`,
      env
    })
    await this.haproxy.waitReady(deadline)
  }

  // A client's view: Metadata through HAProxy's bootstrap lists every broker.
  private async waitThroughLoadBalancer (listen: number, ids: readonly number[], deadline: number): Promise<void> {
    const expected = ids.join(',')
    let last: number[] | null = null
    for (;;) {
      last = await probeBrokerIds(LOAD_BALANCER_HOST, listen)
      if (last !== null && last.join(',') === expected) return
      if (Date.now() > deadline) {
        throw new KproxyError('KPROXY_ERR_SANDBOX_TIMEOUT', `Metadata through HAProxy (${LOAD_BALANCER_HOST}:${listen}) lists brokers [${last?.join(',') ?? 'none'}] instead of [${expected}]; see ${this.proxiesDir}.`)
      }
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }

  private describe (plan: LoadBalancerPlan, listen: number): ReplicasInfo {
    const bootstrap = `${plan.host}:${listen}`
    return {
      ...this.cluster.info,
      topology: REPLICAS_TOPOLOGY,
      clientBootstrap: bootstrap,
      loadBalancer: {
        kind: 'haproxy',
        bootstrap,
        brokerPorts: Object.fromEntries(this.cluster.info.brokers.map(b => [String(b.id), listen + 1 + b.id])),
        statsUrl: this.haproxy!.spec.statsUrl,
        config: this.haproxy!.spec.configFile,
        log: this.haproxy!.spec.logFile,
        pid: this.haproxy!.pid!
      },
      replicas: this.replicas.map((r, i) => ({
        name: r.spec.name,
        listen: `${replicaHost(i + 1)}:${listen}`,
        adminUrl: r.spec.adminUrl,
        pid: r.pid!,
        log: r.spec.logFile
      }))
    }
  }

  dead (): string[] {
    const out: string[] = []
    for (const r of this.replicas) if (!r.running) out.push(`the ${r.spec.name} kproxy (see ${r.spec.logFile})`)
    if (this.haproxy !== null && !this.haproxy.running) out.push(`HAProxy (see ${this.haproxy.spec.logFile})`)
    return out
  }

  private async stopProxies (): Promise<void> {
    // the load balancer first: no new connections reach a draining replica
    await this.haproxy?.stop(2_000)
    await Promise.all(this.replicas.map(r => r.stop(PROXY_STOP_GRACE_MS)))
    this.haproxy = null
    this.replicas = []
  }

  stop (): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopProxies()
      await this.cluster.stop()
      await Promise.all([this.proxiesDir, this.runDir].filter(p => p !== '').map(p => rm(p, { recursive: true, force: true, maxRetries: 5 })))
      this.reaper?.stop()
      live.delete(this)
    })()
    return this.stopping
  }

  // Synchronous last resort from the process 'exit' hook; the cluster has its own.
  destroyNow (): void {
    this.haproxy?.killNow()
    for (const r of this.replicas) r.killNow()
    for (const p of [this.proxiesDir, this.runDir]) {
      if (p === '') continue
      try { rmSync(p, { recursive: true, force: true, maxRetries: 5 }) } catch {}
    }
  }
}

const live = new Set<Replicas>()
let exitHookInstalled = false

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const s of live) s.destroyNow()
  })
}
