// The mesh topology (`kproxy sandbox up --topology mesh`): the seed example of issue 10, three
// independent Kafka clusters behind one endpoint, topics routed by prefix:
//
//   client --> kproxy (mesh mode) --> cluster a (topics a*, e.g. apples)
//                                 --> cluster b (topics b*, e.g. berries)
//                                 --> cluster c (topics c*, e.g. cherries)
//
// Each cluster is a real single-node KRaft cluster of its own (own cluster id, ports and data).
// Once they are ready, a `kproxy serve --config D/kproxy/mesh.yaml --workers 2` in mesh mode
// (docs/mesh.md) starts in front of them, with MESH_ROUTES as its rules; its address is
// `clientBootstrap` in sandbox.json, each cluster's own `bootstrap` is there too.
//
// Files under the sandbox directory D: D/a, D/b, D/c (each a sandbox cluster's directory:
// node-1/, its logs and data), D/kproxy (mesh.yaml, kproxy.log, kproxy.pid), D/sandbox.json.
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { startCluster } from './cluster.ts'
import type { Cluster, SandboxBrokerInfo, StartClusterOptions } from './cluster.ts'
import { nodeLayout } from './node-config.ts'
import { spawnReaper } from './reaper.ts'
import type { Reaper } from './reaper.ts'
import { SANDBOX_FILE, SANDBOX_TEMP_FILE, writeSandboxFile } from './sandbox-file.ts'
import { KproxyProcess } from './kproxy-process.ts'
import { freePorts } from './ports.ts'

export const MESH_TOPOLOGY = 'mesh'

// The seed example's routing: a topic goes to the cluster named by its prefix.
export const MESH_ROUTES: ReadonlyArray<{ prefix: string, cluster: string }> = [
  { prefix: 'a', cluster: 'a' },
  { prefix: 'b', cluster: 'b' },
  { prefix: 'c', cluster: 'c' }
]

export interface MeshClusterInfo {
  name: string
  // the cluster's own brokers, direct (not through kproxy)
  bootstrap: string
  brokers: SandboxBrokerInfo[]
  clusterId: string
  dataDir: string
}

// sandbox.json of this topology.
export interface MeshSandboxInfo {
  topology: typeof MESH_TOPOLOGY
  // kproxy in mesh mode: what clients bootstrap from
  clientBootstrap: string
  kproxy: { adminUrl: string, pid: number, log: string, config: string, workers: number }
  clusters: MeshClusterInfo[]
  // which topics kproxy in mesh mode will send to which cluster
  routes: Array<{ prefix: string, cluster: string }>
  kafkaVersion: string
  dataDir: string
  libDir: string
}

export interface StartMeshOptions extends Omit<StartClusterOptions, 'brokers' | 'tls' | 'sasl' | 'dir' | 'writeInfoFile'> {
  dir?: string
  // worker threads of the mesh kproxy (default 2)
  workers?: number
}

const PROXY_STOP_GRACE_MS = 12_000
const PROXY_READY_MS = 60_000

// The mesh section of the sandbox's kproxy (docs/mesh.md).
export function meshConfigYaml (listen: string, admin: string, clusters: ReadonlyArray<{ name: string, bootstrap: string }>): string {
  const lines = [
    'mesh:',
    `  listen: ${listen}`,
    '  clusters:',
    ...clusters.flatMap(c => [`    - name: ${c.name}`, `      bootstrap: [${c.bootstrap}]`]),
    '  routes:',
    ...MESH_ROUTES.flatMap(r => [`    - prefix: ${r.prefix}`, `      cluster: ${r.cluster}`]),
    `admin: ${admin}`,
    ''
  ]
  return lines.join('\n')
}

export interface MeshSandbox {
  readonly info: MeshSandboxInfo
  readonly clusters: ReadonlyArray<{ name: string, cluster: Cluster }>
  // what died while it ran (the mesh kproxy), for the CLI to report
  dead (): string[]
  // The kproxy, every cluster (each removes its own directory), then the sandbox directory if it
  // made it.
  stop (): Promise<void>
}

export async function startMesh (options: StartMeshOptions = {}): Promise<MeshSandbox> {
  const sandbox = new Mesh(options)
  try {
    await sandbox.start()
  } catch (err) {
    await sandbox.stop()
    throw err
  }
  return sandbox
}

const live = new Set<Mesh>()
let exitHookInstalled = false

class Mesh implements MeshSandbox {
  info!: MeshSandboxInfo
  clusters: Array<{ name: string, cluster: Cluster }> = []
  private readonly options: StartMeshOptions
  private base = ''
  // the base directory if this sandbox created it, else only its own file names in it
  private owned: string[] = []
  private reaper: Reaper | null = null
  private kproxy: KproxyProcess | null = null
  private stopping: Promise<void> | null = null

  constructor (options: StartMeshOptions) {
    this.options = options
  }

  async start (): Promise<void> {
    const log = this.options.log ?? (() => {})
    const started = Date.now()
    await this.makeBase()
    live.add(this)
    installExitHook()
    const names = MESH_ROUTES.map(r => r.cluster)
    // The clusters have reapers of their own. This one removes the base, so it must first kill
    // every JVM itself: removing the base also removes the pid files the others read.
    const pidFiles = names.map(name => nodeLayout(join(this.base, name), 1, { port: 0, controllerPort: 0 }).pidFile)
    const proxyDir = join(this.base, 'kproxy')
    const proxyPid = join(proxyDir, 'kproxy.pid')
    this.reaper = spawnReaper([proxyPid, ...pidFiles], this.owned.length === 1 ? this.owned : [...this.owned, proxyDir])
    if (this.owned.length !== 1) this.owned.push(proxyDir)
    const startOne = async (name: string): Promise<void> => {
      const cluster = await startCluster({ ...this.options, brokers: 1, dir: join(this.base, name), writeInfoFile: false, log: m => log(`[cluster ${name}] ${m}`) })
      this.clusters.push({ name, cluster })
    }
    // The first alone: a sandbox without a class-data archive yet records one from it, and the
    // others then start from that archive.
    await startOne(names[0]!)
    // allSettled: a failure must not leave the other cluster starting unseen by stop()
    const results = await Promise.allSettled(names.slice(1).map(startOne))
    const failed = results.find(r => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    this.clusters.sort((x, y) => names.indexOf(x.name) - names.indexOf(y.name))
    const first = this.clusters[0]!.cluster.info
    const workers = this.options.workers ?? 2
    await mkdir(proxyDir, { recursive: true })
    const [listenPort, adminPort] = await freePorts(2)
    const configFile = join(proxyDir, 'mesh.yaml')
    await writeFile(configFile, meshConfigYaml(`127.0.0.1:${listenPort!}`, `127.0.0.1:${adminPort!}`, this.clusters.map(c => ({ name: c.name, bootstrap: c.cluster.info.bootstrap }))))
    const at = Date.now()
    this.kproxy = new KproxyProcess({
      name: 'mesh',
      args: ['--config', configFile, '--workers', String(workers)],
      adminUrl: `http://127.0.0.1:${adminPort!}`,
      logFile: join(proxyDir, 'kproxy.log'),
      pidFile: proxyPid,
      env: this.options.env ?? process.env
    })
    await this.kproxy.waitReady(Date.now() + PROXY_READY_MS)
    log(`kproxy: mesh-mode kproxy ready in ${Date.now() - at} ms on 127.0.0.1:${listenPort!} (${workers} workers; log ${this.kproxy.spec.logFile})`)
    this.info = {
      topology: MESH_TOPOLOGY,
      clientBootstrap: `127.0.0.1:${listenPort!}`,
      kproxy: { adminUrl: this.kproxy.spec.adminUrl, pid: this.kproxy.pid!, log: this.kproxy.spec.logFile, config: configFile, workers },
      clusters: this.clusters.map(({ name, cluster }) => ({
        name,
        bootstrap: cluster.info.bootstrap,
        brokers: cluster.info.brokers,
        clusterId: cluster.info.clusterId,
        dataDir: cluster.dataDir
      })),
      routes: MESH_ROUTES.map(r => ({ ...r })),
      kafkaVersion: KAFKA_VERSION,
      dataDir: this.base,
      libDir: first.libDir
    }
    await writeSandboxFile(this.base, this.info)
    log(`kproxy: mesh of ${this.clusters.length} clusters ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${this.info.clusters.map(c => `${c.name}=${c.bootstrap}`).join(' ')}`)
  }

  private async makeBase (): Promise<void> {
    if (this.options.dir === undefined) {
      this.base = await mkdtemp(join(tmpdir(), 'kproxy-sandbox-mesh-'))
      this.owned = [this.base]
      return
    }
    this.base = resolve(this.options.dir)
    const exists = await stat(this.base).then(s => s.isDirectory(), () => false)
    if (!exists) {
      await mkdir(this.base, { recursive: true })
      this.owned = [this.base]
      return
    }
    // The clusters clear their own directories; leftovers of an earlier sandbox.json go here.
    this.owned = [join(this.base, SANDBOX_FILE), join(this.base, SANDBOX_TEMP_FILE)]
    await Promise.all(this.owned.map(p => rm(p, { force: true })))
  }

  dead (): string[] {
    return this.kproxy !== null && !this.kproxy.running ? [`the mesh kproxy (see ${this.kproxy.spec.logFile})`] : []
  }

  stop (): Promise<void> {
    this.stopping ??= (async () => {
      await this.kproxy?.stop(PROXY_STOP_GRACE_MS)
      await Promise.all(this.clusters.map(c => c.cluster.stop()))
      await Promise.all(this.owned.map(p => rm(p, { recursive: true, force: true, maxRetries: 5 })))
      this.reaper?.stop()
      live.delete(this)
    })()
    return this.stopping
  }

  // Synchronous last resort from the process 'exit' hook; the clusters have their own.
  destroyNow (): void {
    this.kproxy?.killNow()
    for (const p of this.owned) {
      try { rmSync(p, { recursive: true, force: true, maxRetries: 5 }) } catch {}
    }
  }
}

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const s of live) s.destroyNow()
  })
}
