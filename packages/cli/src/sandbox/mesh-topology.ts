// The mesh topology (`kproxy sandbox up --topology mesh`): the seed example of issue 10, three
// independent Kafka clusters behind one endpoint, topics routed by prefix:
//
//   client --> kproxy (mesh mode) --> cluster a (topics a*, e.g. apples)
//                                 --> cluster b (topics b*, e.g. berries)
//                                 --> cluster c (topics c*, e.g. cherries)
//
// Each cluster is a real single-node KRaft cluster of its own (own cluster id, ports and data).
// The mesh-mode kproxy does not exist yet. When it does, starting it is one step in start()
// below, between "clusters ready" and "write sandbox.json": a KproxyProcess (kproxy-process.ts)
// given a mesh config built from MESH_ROUTES and the clusters' bootstraps, whose bootstrap
// becomes `clientBootstrap` in sandbox.json. Until then sandbox.json has no clientBootstrap, and
// clients use each cluster's own `bootstrap`.
//
// Files under the sandbox directory D: D/a, D/b, D/c (each a sandbox cluster's directory:
// node-1/, its logs and data), D/sandbox.json.
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { startCluster } from './cluster.ts'
import type { Cluster, SandboxBrokerInfo, StartClusterOptions } from './cluster.ts'
import { nodeLayout } from './node-config.ts'
import { spawnReaper } from './reaper.ts'
import type { Reaper } from './reaper.ts'
import { SANDBOX_FILE, SANDBOX_TEMP_FILE, writeSandboxFile } from './sandbox-file.ts'

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
  clusters: MeshClusterInfo[]
  // which topics kproxy in mesh mode will send to which cluster
  routes: Array<{ prefix: string, cluster: string }>
  kafkaVersion: string
  dataDir: string
  libDir: string
}

export interface StartMeshOptions extends Omit<StartClusterOptions, 'brokers' | 'tls' | 'sasl' | 'dir' | 'writeInfoFile'> {
  dir?: string
}

export interface MeshSandbox {
  readonly info: MeshSandboxInfo
  readonly clusters: ReadonlyArray<{ name: string, cluster: Cluster }>
  // Every cluster (each removes its own directory), then the sandbox directory if it made it.
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
    this.reaper = spawnReaper(pidFiles, this.owned)
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
    // (The mesh-mode kproxy starts here once it exists; see the top of this file.)
    const first = this.clusters[0]!.cluster.info
    this.info = {
      topology: MESH_TOPOLOGY,
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

  stop (): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.clusters.map(c => c.cluster.stop()))
      await Promise.all(this.owned.map(p => rm(p, { recursive: true, force: true, maxRetries: 5 })))
      this.reaper?.stop()
      live.delete(this)
    })()
    return this.stopping
  }

  // Synchronous last resort from the process 'exit' hook; the clusters have their own.
  destroyNow (): void {
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
