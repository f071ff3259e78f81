// The double-proxy topology (`kproxy sandbox up --topology double-proxy-tls`), the service-mesh
// picture at layer 7 without Docker:
//
//   client --plaintext--> client-side kproxy --mTLS (mesh CA)--> broker-side kproxy --TLS + client cert--> brokers (SSL)
//
// Both proxies are real `kproxy serve` processes. The broker-side kproxy rewrites the brokers'
// addresses to its own TLS ports; the client-side kproxy learns those as its upstream brokers and
// rewrites them again to its own plaintext ports, so every connection to every broker goes
// through the tunnel. The broker-side kproxy requires a mesh client certificate and logs the
// principal it maps to (CN=client-proxy) on each connection.
//
// Files under the sandbox directory D:
//   D/proxies/mesh/            ca.crt, ca.key, kproxy-broker-side.{crt,key}, client-proxy.{crt,key} (keys 0600)
//   D/proxies/broker-side.log  the broker-side kproxy's JSON log lines (stdout) and stderr
//   D/proxies/client-side.log  the same for the client-side kproxy
// The kproxy pid files live in a private temporary directory that a reaper (reaper.ts) watches:
// if this process dies without stop(), the reaper SIGKILLs both kproxies and removes D/proxies.
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { startCluster } from './cluster.ts'
import type { Cluster, SandboxInfo, StartClusterOptions } from './cluster.ts'
import { KproxyProcess } from './kproxy-process.ts'
import { CLIENT_SIDE_CN, writeMeshCerts } from './mesh-certs.ts'
import type { MeshCerts } from './mesh-certs.ts'
import { freePortBlock, freePorts } from './ports.ts'
import { writeSandboxFile } from './sandbox-file.ts'
import { spawnReaper } from './reaper.ts'
import type { Reaper } from './reaper.ts'

export const DOUBLE_PROXY_TOPOLOGY = 'double-proxy-tls'

export interface StartDoubleProxyOptions extends Omit<StartClusterOptions, 'tls'> {
  // worker threads of each kproxy (default 1)
  workers?: number
}

export interface BrokerSideInfo {
  // TLS, client certificates of the mesh CA required
  bootstrap: string
  adminUrl: string
  pid: number
  log: string
  upstream: string
  tlsCert: string
  tlsKey: string
  tlsCa: string
  upstreamTlsCa: string
  upstreamTlsCert: string
  upstreamTlsKey: string
}

export interface ClientSideInfo {
  // plaintext, for clients
  bootstrap: string
  adminUrl: string
  pid: number
  log: string
  upstream: string
  upstreamTlsCa: string
  upstreamTlsCert: string
  upstreamTlsKey: string
}

// sandbox.json of this topology: the cluster's info plus the proxies.
export interface DoubleProxyInfo extends SandboxInfo {
  topology: typeof DOUBLE_PROXY_TOPOLOGY
  clientBootstrap: string
  proxies: {
    meshCa: string
    // what the broker-side kproxy's connection logs carry for the client-side kproxy
    principal: string
    brokerSide: BrokerSideInfo
    clientSide: ClientSideInfo
  }
}

export interface DoubleProxy {
  readonly info: DoubleProxyInfo
  readonly cluster: Cluster
  // The kproxies that have died since the start, for reports (the brokers have their watchdog).
  dead (): string[]
  // Client-side kproxy, then broker-side kproxy (SIGTERM, SIGKILL after a bound), then the cluster.
  stop (): Promise<void>
}

const DEFAULT_TIMEOUT_MS = 120_000
// kproxy drains for up to shutdownTimeoutMs (10 s by default) after SIGTERM.
const PROXY_STOP_GRACE_MS = 12_000
const PORT_RETRIES = 3
// listen port L; brokers 1..3 on L+2..L+4 (kproxy's default base L+1, broker N at base + N)
const PORT_BLOCK = 5

const live = new Set<DoubleProxySandbox>()
let exitHookInstalled = false

export async function startDoubleProxy (options: StartDoubleProxyOptions = {}): Promise<DoubleProxy> {
  const workers = options.workers ?? 1
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `Each kproxy of the double proxy needs 1 to 64 workers, not ${String(workers)}.`)
  }
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  // sandbox.json is written once, below, when both proxies are ready too
  const cluster = await startCluster({ ...options, tls: true, writeInfoFile: false })
  const sandbox = new DoubleProxySandbox(cluster, options, workers)
  try {
    await sandbox.start(deadline)
  } catch (err) {
    await sandbox.stop()
    throw err
  }
  return sandbox
}

class DoubleProxySandbox implements DoubleProxy {
  info!: DoubleProxyInfo
  readonly cluster: Cluster
  private readonly options: StartDoubleProxyOptions
  private readonly workers: number
  private readonly proxiesDir: string
  private runDir = ''
  private reaper: Reaper | null = null
  private brokerSide: KproxyProcess | null = null
  private clientSide: KproxyProcess | null = null
  private stopping: Promise<void> | null = null

  constructor (cluster: Cluster, options: StartDoubleProxyOptions, workers: number) {
    this.cluster = cluster
    this.options = options
    this.workers = workers
    this.proxiesDir = join(cluster.dataDir, 'proxies')
  }

  async start (deadline: number): Promise<void> {
    const log = this.options.log ?? (() => {})
    const tls = this.cluster.info.tls
    if (tls === undefined) throw new KproxyError('KPROXY_ERR_SANDBOX_STATE', 'The double proxy needs a cluster with TLS listeners.')
    await rm(this.proxiesDir, { recursive: true, force: true })
    await mkdir(this.proxiesDir, { recursive: true })
    this.runDir = await mkdtemp(join(tmpdir(), 'kproxy-double-proxy-'))
    live.add(this)
    installExitHook()
    const pidFiles = { broker: join(this.runDir, 'broker-side.pid'), client: join(this.runDir, 'client-side.pid') }
    this.reaper = spawnReaper([pidFiles.broker, pidFiles.client], [this.proxiesDir, this.runDir])

    const mesh = await writeMeshCerts(join(this.proxiesDir, 'mesh'))
    log(`kproxy: mesh CA and certificates in ${mesh.dir}`)

    const brokerArgs = [
      '--upstream', tls.bootstrap,
      '--tls-cert', mesh.serverCert, '--tls-key', mesh.serverKey, '--tls-ca', mesh.ca, '--tls-client-auth', 'require',
      '--upstream-tls', '--upstream-tls-ca', tls.ca, '--upstream-tls-cert', tls.clientCert, '--upstream-tls-key', tls.clientKey
    ]
    let at = Date.now()
    const broker = await this.startSide('broker-side', brokerArgs, pidFiles.broker, deadline)
    log(`kproxy: broker-side kproxy (TLS, mTLS required) ready in ${Date.now() - at} ms on ${broker.bootstrap} -> ${tls.bootstrap}`)

    const clientArgs = [
      '--upstream', broker.bootstrap,
      '--upstream-tls', '--upstream-tls-ca', mesh.ca, '--upstream-tls-cert', mesh.clientCert, '--upstream-tls-key', mesh.clientKey
    ]
    at = Date.now()
    const client = await this.startSide('client-side', clientArgs, pidFiles.client, deadline)
    log(`kproxy: client-side kproxy (plaintext) ready in ${Date.now() - at} ms on ${client.bootstrap} -> ${broker.bootstrap}`)

    this.info = this.describe(mesh, broker, client)
    await writeSandboxFile(this.cluster.dataDir, this.info)
  }

  private describe (mesh: MeshCerts, broker: StartedSide, client: StartedSide): DoubleProxyInfo {
    const tls = this.cluster.info.tls!
    return {
      ...this.cluster.info,
      topology: DOUBLE_PROXY_TOPOLOGY,
      clientBootstrap: client.bootstrap,
      proxies: {
        meshCa: mesh.ca,
        principal: `CN=${CLIENT_SIDE_CN}`,
        brokerSide: {
          bootstrap: broker.bootstrap,
          adminUrl: broker.proc.spec.adminUrl,
          pid: broker.proc.pid!,
          log: broker.proc.spec.logFile,
          upstream: tls.bootstrap,
          tlsCert: mesh.serverCert,
          tlsKey: mesh.serverKey,
          tlsCa: mesh.ca,
          upstreamTlsCa: tls.ca,
          upstreamTlsCert: tls.clientCert,
          upstreamTlsKey: tls.clientKey
        },
        clientSide: {
          bootstrap: client.bootstrap,
          adminUrl: client.proc.spec.adminUrl,
          pid: client.proc.pid!,
          log: client.proc.spec.logFile,
          upstream: broker.bootstrap,
          upstreamTlsCa: mesh.ca,
          upstreamTlsCert: mesh.clientCert,
          upstreamTlsKey: mesh.clientKey
        }
      }
    }
  }

  // Ports are chosen here and bound by the child: another process may take one in between, so a
  // child that fails with EADDRINUSE is started again on new ports.
  private async startSide (name: string, args: readonly string[], pidFile: string, deadline: number): Promise<StartedSide> {
    for (let attempt = 1; ; attempt++) {
      const listen = await freePortBlock(PORT_BLOCK)
      const [admin] = await freePorts(1)
      const proc = new KproxyProcess({
        name,
        args: ['--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin!}`, '--workers', String(this.workers), ...args],
        adminUrl: `http://127.0.0.1:${admin!}`,
        logFile: join(this.proxiesDir, `${name}.log`),
        pidFile,
        env: this.options.env ?? process.env
      })
      if (name === 'broker-side') this.brokerSide = proc
      else this.clientSide = proc
      try {
        await proc.waitReady(deadline)
        return { proc, bootstrap: `127.0.0.1:${listen}` }
      } catch (err) {
        await proc.stop(2_000)
        if (proc.logMentions('EADDRINUSE') && attempt < PORT_RETRIES && Date.now() < deadline) {
          this.options.log?.(`kproxy: a port of the ${name} kproxy was taken; retrying with new ports`)
          continue
        }
        throw err
      }
    }
  }

  dead (): string[] {
    const out: string[] = []
    for (const p of [this.brokerSide, this.clientSide]) {
      if (p !== null && !p.running) out.push(`the ${p.spec.name} kproxy (see ${p.spec.logFile})`)
    }
    return out
  }

  stop (): Promise<void> {
    this.stopping ??= (async () => {
      // client side first: the broker side then has no tunnel connections left to drain
      await this.clientSide?.stop(PROXY_STOP_GRACE_MS)
      await this.brokerSide?.stop(PROXY_STOP_GRACE_MS)
      await this.cluster.stop()
      await Promise.all([this.proxiesDir, this.runDir].filter(p => p !== '').map(p => rm(p, { recursive: true, force: true, maxRetries: 5 })))
      this.reaper?.stop()
      live.delete(this)
    })()
    return this.stopping
  }

  // Synchronous last resort from the process 'exit' hook; the cluster has its own.
  destroyNow (): void {
    this.clientSide?.killNow()
    this.brokerSide?.killNow()
    for (const p of [this.proxiesDir, this.runDir]) {
      if (p === '') continue
      try { rmSync(p, { recursive: true, force: true, maxRetries: 5 }) } catch {}
    }
  }
}

interface StartedSide {
  proc: KproxyProcess
  bootstrap: string
}

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const s of live) s.destroyNow()
  })
}
