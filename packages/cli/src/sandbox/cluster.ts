import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { createCa, issueCertificate, pemKeystore } from '@kproxy/core/certs/x509'
import { KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { ArchiveRecorder, useArchiveArgs } from './class-data.ts'
import { javaContext, runJavaMain } from './kafka-tool.ts'
import { LEAN_JIT_ARGS } from './jvm-profile.ts'
import type { JavaContext, KafkaToolOptions, KafkaToolResult } from './kafka-tool.ts'
import { probeBrokerIds } from './metadata-probe.ts'
import { SASL_MECHANISMS, SASL_USERS, clientSslProperties, formatProperties, nodeLayout, nodeLog4j, scramFormatArgs, serverProperties, tlsLayout } from './node-config.ts'
import type { NodeLayout, PropertyValue, SaslUser, TlsFiles } from './node-config.ts'
import { KafkaNodeProcess } from './node-process.ts'
import type { ExitStatus } from './node-process.ts'
import { DEFAULT_BROKER_HEAP, heapArgs, parseHeapSize } from './broker-heap.ts'
import { SANDBOX_FILE, SANDBOX_TEMP_FILE, writeSandboxFile } from './sandbox-file.ts'
import { freePorts } from './ports.ts'
import { spawnReaper } from './reaper.ts'
import type { Reaper } from './reaper.ts'

export interface StartClusterOptions {
  brokers?: 1 | 3
  tls?: boolean
  // An extra SASL_PLAINTEXT listener per broker (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; users in
  // SandboxInfo.sasl). The PLAINTEXT listener stays, and brokers talk to each other over it.
  // With `tls` too, also a SASL_SSL listener per broker (the same users over TLS, the sandbox's
  // CA, no client certificate; SandboxInfo.sasl.sslBootstrap).
  sasl?: boolean
  // Where node data, configs, logs and certificates go; a fresh mkdtemp directory by default.
  dir?: string
  // Overall budget for formatting, starting and waiting for readiness.
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  cacheDir?: string
  // Maximum heap of each broker JVM in Java's syntax ('1g', '768m'); DEFAULT_BROKER_HEAP if unset.
  brokerHeap?: string
  // Replaces the heap flags and DEFAULT_JVM_ARGS for the broker JVMs.
  jvmArgs?: readonly string[]
  // Write DIR/sandbox.json once the cluster is ready (default true). A topology that puts more in
  // front of the cluster writes the file itself once everything is ready.
  writeInfoFile?: boolean
  // Extra or overriding server.properties entries, applied to every node.
  brokerConfig?: Record<string, PropertyValue>
  // Progress messages (the CLI writes them to stderr).
  log?: (message: string) => void
}

export interface SandboxBrokerInfo {
  id: number
  host: string
  port: number
  tlsPort?: number
  saslPort?: number
  saslSslPort?: number
}

export interface SandboxSaslInfo {
  // The SASL_PLAINTEXT listeners.
  bootstrap: string
  // The SASL_SSL listeners (same users and mechanisms; their certificate is signed by tls.ca),
  // when the sandbox has TLS too.
  sslBootstrap?: string
  users: SaslUser[]
  mechanisms: string[]
}

export interface SandboxTlsInfo {
  bootstrap: string
  ca: string
  clientCert: string
  clientKey: string
  // Key + chain in one file, and a Java client config using it (for Kafka's tools).
  clientKeystore: string
  clientProperties: string
}

// The content of sandbox.json.
export interface SandboxInfo {
  bootstrap: string
  brokers: SandboxBrokerInfo[]
  tls?: SandboxTlsInfo
  sasl?: SandboxSaslInfo
  kafkaVersion: string
  clusterId: string
  dataDir: string
  libDir: string
}

// Kafka's own server defaults (kafka-run-class.sh); the heap comes from broker-heap.ts. An
// OutOfMemoryError ends the JVM instead of leaving a broker that half works: the sandbox notices
// the exit, says why and restarts the node (broker-watchdog.ts). Start-up speed comes from
// class-data sharing (class-data.ts), not from weaker JIT flags. Measured on this 2-core machine,
// one node, ProducerPerformance 10M x 100 B records, acks=1, producer on the same machine:
//   these flags                  ready 2.3 s, 550k rec/s overall, last interval 645k rec/s at 20 ms avg latency
//   + -XX:TieredStopAtLevel=1    ready 2.0 s, 631k rec/s overall, last interval 633k rec/s at 227 ms avg latency
// C1-only wins short runs (no C2 compiler competing for the 2 cores) but its steady-state
// latency is ten times worse, which would distort proxy benchmarks. 3 nodes: ready in 6.5–11 s.
export const DEFAULT_JVM_ARGS: readonly string[] = [
  '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent', '-XX:MaxInlineLevel=15',
  '-XX:-UsePerfData', '-Djava.awt.headless=true', '-XX:+ExitOnOutOfMemoryError'
]

// KPROXY_SANDBOX_JVM=lean (jvm-profile.ts): C1 only and the serial collector; the rest as above.
export const LEAN_BROKER_JVM_ARGS: readonly string[] = [
  ...LEAN_JIT_ARGS, '-XX:-UsePerfData', '-Djava.awt.headless=true', '-XX:+ExitOnOutOfMemoryError'
]

// StorageTool runs for a second: C1 only and the serial collector start fastest.
const SHORT_LIVED_JVM_ARGS: readonly string[] = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-UsePerfData', '-Xmx256m']

const DEFAULT_TIMEOUT_MS = 120_000
// stop(): the data is thrown away, so a node that has not finished after this is killed.
const STOP_GRACE_MS = 3_000
// killBroker(id, 'SIGTERM'): an orderly shutdown with the quorum intact takes well under a second.
const KILL_GRACE_MS = 15_000
const PORT_RETRIES = 3

export interface Cluster {
  readonly info: SandboxInfo
  readonly bootstrap: string
  readonly classpath: string
  readonly dataDir: string
  // Orderly stop (SIGTERM, then SIGKILL after a grace period), then removes everything it created.
  stop (): Promise<void>
  // Ends one node (broker + controller); SIGKILL by default, like a crash.
  killBroker (id: number, signal?: NodeJS.Signals): Promise<void>
  // Restarts a node on the same ports and data; resolves once the cluster sees it again.
  startBroker (id: number): Promise<void>
  runKafkaTool (mainClass: string, args: readonly string[], options?: KafkaToolOptions): Promise<KafkaToolResult>
  // Live JVM pids by node id (a stopped node is absent).
  pids (): Map<number, number>
  logFile (id: number): string
  // Node ids 1..N.
  readonly nodeIds: readonly number[]
  // `listener` hears of every JVM that exits without stop()/killBroker() having asked it to.
  onUnexpectedExit (listener: (id: number, status: ExitStatus) => void): () => void
  // The line of the node's latest run that best explains why it ended (null: none found).
  lastErrorLine (id: number): string | null
}

// Clusters still running when the process exits are killed synchronously from an 'exit' hook.
const live = new Set<SandboxCluster>()
let exitHookInstalled = false

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const cluster of live) cluster.destroyNow()
  })
}

export async function startCluster (options: StartClusterOptions = {}): Promise<Cluster> {
  const brokers = options.brokers ?? 1
  if (brokers !== 1 && brokers !== 3) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `A sandbox has 1 or 3 brokers, not ${String(brokers)}.`)
  }
  const heapMiB = parseHeapSize(options.brokerHeap ?? DEFAULT_BROKER_HEAP)
  const env = options.env ?? process.env
  const log = options.log ?? (() => {})
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const ctx = await javaContext({ env, cacheDir: options.cacheDir, log })
  for (let attempt = 1; ; attempt++) {
    const cluster = new SandboxCluster(ctx, env, options, brokers, heapMiB)
    try {
      await cluster.start(deadline, log)
      return cluster
    } catch (err) {
      const portTaken = cluster.portTaken()
      await cluster.stop()
      if (portTaken && attempt < PORT_RETRIES && Date.now() < deadline) {
        log(`kproxy: a port was taken by another process; retrying with new ports (attempt ${attempt + 1})`)
        continue
      }
      throw err
    }
  }
}

// Kafka prints ids as 22 base64url characters; one starting with '-' would read as a flag.
function randomClusterId (): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

class SandboxCluster implements Cluster {
  info!: SandboxInfo
  private readonly ctx: JavaContext
  private readonly env: NodeJS.ProcessEnv
  private readonly options: StartClusterOptions
  private readonly size: number
  private readonly heapMiB: number
  private readonly exitListeners = new Set<(id: number, status: ExitStatus) => void>()
  private base = ''
  // What stop() removes: the base directory if we created it, else only our entries in it.
  private owned: string[] = []
  private nodes: KafkaNodeProcess[] = []
  private reaper: Reaper | null = null
  private recorder: { nodeId: number, recorder: ArchiveRecorder } | null = null
  private stopping: Promise<void> | null = null

  constructor (ctx: JavaContext, env: NodeJS.ProcessEnv, options: StartClusterOptions, size: number, heapMiB: number) {
    this.ctx = ctx
    this.env = env
    this.options = options
    this.size = size
    this.heapMiB = heapMiB
  }

  get nodeIds (): number[] { return Array.from({ length: this.size }, (_, i) => i + 1) }

  get bootstrap (): string { return this.info.bootstrap }
  get classpath (): string { return this.ctx.classpath }
  get dataDir (): string { return this.base }

  async start (deadline: number, log: (message: string) => void): Promise<void> {
    const started = Date.now()
    await this.makeBase()
    const tls = this.options.tls === true ? tlsLayout(this.base) : null
    const sasl = this.options.sasl === true ? SASL_USERS : null
    const saslSsl = tls !== null && sasl !== null
    const perNode = 2 + (tls === null ? 0 : 1) + (sasl === null ? 0 : 1) + (saslSsl ? 1 : 0)
    const ports = await freePorts(this.size * perNode)
    const layouts: NodeLayout[] = []
    for (let i = 0; i < this.size; i++) {
      const [port, controllerPort, ...extraPorts] = ports.slice(i * perNode, (i + 1) * perNode)
      layouts.push(nodeLayout(this.base, i + 1, {
        port: port!,
        controllerPort: controllerPort!,
        ...(tls === null ? {} : { tlsPort: extraPorts.shift()! }),
        ...(sasl === null ? {} : { saslPort: extraPorts.shift()! }),
        ...(saslSsl ? { saslSslPort: extraPorts.shift()! } : {})
      }))
    }
    const spec = {
      java: this.ctx.java,
      classpath: this.ctx.classpath,
      jvmArgs: this.options.jvmArgs ?? [...heapArgs(this.heapMiB), ...(this.ctx.profile === 'lean' ? LEAN_BROKER_JVM_ARGS : DEFAULT_JVM_ARGS)],
      sandboxDir: this.base,
      env: this.env,
      onUnexpectedExit: (id: number, status: ExitStatus) => { for (const l of this.exitListeners) l(id, status) }
    }
    this.nodes = layouts.map(l => new KafkaNodeProcess(l, spec))
    live.add(this)
    installExitHook()
    this.reaper = spawnReaper(layouts.map(l => l.pidFile), this.owned)

    const clusterId = randomClusterId()
    for (const node of layouts) {
      await mkdir(node.dataDir, { recursive: true })
      await writeFile(node.configFile, formatProperties(serverProperties(node, layouts, tls, this.options.brokerConfig, sasl)))
      await writeFile(node.log4jFile, nodeLog4j(node.logFile))
    }
    log(`kproxy: formatting ${this.size} KRaft node(s) in ${this.base}`)
    await Promise.all([
      ...layouts.map(node => this.format(node, clusterId, sasl === null ? [] : scramFormatArgs(sasl))),
      ...(tls === null ? [] : [writeTlsFiles(tls)])
    ])
    log(`kproxy: starting Kafka ${KAFKA_VERSION} (${this.size} node(s)${tls === null ? '' : ', TLS'}${sasl === null ? '' : ', SASL'}${saslSsl ? ', SASL_SSL' : ''})`)
    for (const node of this.nodes) this.startNode(node)
    await Promise.all(this.nodes.map(node => node.waitStarted(deadline)))
    await this.waitForBrokers(this.nodes, deadline)

    this.info = {
      bootstrap: layouts.map(l => `127.0.0.1:${l.port}`).join(','),
      brokers: layouts.map(l => ({
        id: l.id,
        host: '127.0.0.1',
        port: l.port,
        ...(tls === null ? {} : { tlsPort: l.tlsPort! }),
        ...(sasl === null ? {} : { saslPort: l.saslPort! }),
        ...(saslSsl ? { saslSslPort: l.saslSslPort! } : {})
      })),
      ...(tls === null
        ? {}
        : {
            tls: {
              bootstrap: layouts.map(l => `127.0.0.1:${l.tlsPort!}`).join(','),
              ca: tls.ca,
              clientCert: tls.clientCert,
              clientKey: tls.clientKey,
              clientKeystore: tls.clientKeystore,
              clientProperties: tls.clientProperties
            }
          }),
      ...(sasl === null
        ? {}
        : {
            sasl: {
              bootstrap: layouts.map(l => `127.0.0.1:${l.saslPort!}`).join(','),
              ...(saslSsl ? { sslBootstrap: layouts.map(l => `127.0.0.1:${l.saslSslPort!}`).join(',') } : {}),
              users: sasl.map(u => ({ ...u })),
              mechanisms: [...SASL_MECHANISMS]
            }
          }),
      kafkaVersion: KAFKA_VERSION,
      clusterId,
      dataDir: this.base,
      libDir: this.ctx.libDir
    }
    if (this.options.writeInfoFile !== false) await writeSandboxFile(this.base, this.info)
    log(`kproxy: ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${this.info.bootstrap}`)
  }

  private async makeBase (): Promise<void> {
    if (this.options.dir === undefined) {
      this.base = await mkdtemp(join(tmpdir(), 'kproxy-sandbox-'))
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
    // An existing directory: own (and first clear leftovers of) only the names the sandbox uses.
    this.owned = [...Array.from({ length: this.size }, (_, i) => join(this.base, `node-${i + 1}`)), join(this.base, 'tls'), join(this.base, SANDBOX_FILE), join(this.base, SANDBOX_TEMP_FILE)]
    await Promise.all(this.owned.map(p => rm(p, { recursive: true, force: true })))
  }

  // extraArgs: SCRAM credentials (--add-scram), which KRaft can only have from the start this way.
  private async format (node: NodeLayout, clusterId: string, extraArgs: readonly string[]): Promise<void> {
    const result = await runJavaMain(this.ctx, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', node.configFile, ...extraArgs],
      { jvmArgs: [...useArchiveArgs(this.ctx.archive), ...SHORT_LIVED_JVM_ARGS], env: this.env, timeoutMs: 60_000 })
    if (result.code !== 0) {
      // The exception's message, not its stack frames.
      const tail = (result.stderr + result.stdout).split('\n')
        .filter(l => l.trim() !== '' && !/^\s+at |^\s*\.\.\. \d+ more|^Bootstrap metadata:/.test(l)).slice(-6).join('\n')
      throw new KproxyError('KPROXY_ERR_SANDBOX_START', `Formatting the storage of Kafka node ${node.id} failed (${result.code ?? result.signal}):\n${tail}`)
    }
  }

  // Every running node must report every running broker as alive (registered and unfenced).
  private async waitForBrokers (nodes: readonly KafkaNodeProcess[], deadline: number): Promise<void> {
    const expected = this.nodes.filter(n => n.running).map(n => n.layout.id).join(',')
    for (const node of nodes) {
      let last: number[] | null = null
      for (;;) {
        if (!node.running) throw node.exitError()
        last = await probeBrokerIds('127.0.0.1', node.layout.port)
        if (last !== null && last.join(',') === expected) break
        if (Date.now() > deadline) {
          throw new KproxyError('KPROXY_ERR_SANDBOX_TIMEOUT', `Kafka node ${node.layout.id} still reports brokers [${last?.join(',') ?? 'none'}] instead of [${expected}]; ${node.layout.logFile} ends with:\n${node.logTail()}`)
        }
        await sleep(200)
      }
    }
  }

  // Uses the class-data archive when there is one; otherwise node 1 records it (see class-data.ts).
  private startNode (node: KafkaNodeProcess): void {
    const archive = this.ctx.archive
    let extra = useArchiveArgs(archive)
    if (archive !== null && extra.length === 0 && (this.recorder === null || this.recorder.nodeId === node.layout.id)) {
      this.recorder ??= { nodeId: node.layout.id, recorder: new ArchiveRecorder(archive, node.layout.dir) }
      extra = this.recorder.recorder.args()
    }
    node.start(extra)
  }

  private async stopNode (node: KafkaNodeProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const status = await node.stop(signal, graceMs)
    if (this.recorder !== null && this.recorder.nodeId === node.layout.id && status !== null) {
      await this.recorder.recorder.publish(status.code, status.signal)
    }
  }

  portTaken (): boolean {
    return this.nodes.some(n => n.logMentions('Address already in use'))
  }

  private node (id: number): KafkaNodeProcess {
    const node = this.nodes.find(n => n.layout.id === id)
    if (node === undefined) throw new KproxyError('KPROXY_ERR_SANDBOX_STATE', `This sandbox has no broker ${id} (ids 1..${this.size}).`)
    return node
  }

  async killBroker (id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.stopNode(this.node(id), signal, KILL_GRACE_MS)
  }

  async startBroker (id: number): Promise<void> {
    const node = this.node(id)
    if (this.stopping !== null) throw new KproxyError('KPROXY_ERR_SANDBOX_STATE', 'This sandbox has been stopped.')
    this.startNode(node)
    const deadline = Date.now() + (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    await node.waitStarted(deadline)
    await this.waitForBrokers(this.nodes.filter(n => n.running), deadline)
  }

  runKafkaTool (mainClass: string, args: readonly string[], options: KafkaToolOptions = {}): Promise<KafkaToolResult> {
    return runJavaMain(this.ctx, mainClass, args, { env: this.env, ...options })
  }

  pids (): Map<number, number> {
    const map = new Map<number, number>()
    for (const n of this.nodes) {
      const pid = n.pid
      if (pid !== null) map.set(n.layout.id, pid)
    }
    return map
  }

  logFile (id: number): string {
    return this.node(id).layout.logFile
  }

  onUnexpectedExit (listener: (id: number, status: ExitStatus) => void): () => void {
    this.exitListeners.add(listener)
    return () => { this.exitListeners.delete(listener) }
  }

  lastErrorLine (id: number): string | null {
    return this.node(id).lastErrorLine()
  }

  stop (): Promise<void> {
    this.stopping ??= (async () => {
      // The node recording a class-data archive must exit cleanly, and a 3-node cluster still has
      // its quorum while that one node stops. The others may then be cut short: once the quorum
      // is gone, a broker waits in vain for the controller to approve its controlled shutdown.
      const first = this.nodes.find(n => n.layout.id === this.recorder?.nodeId)
      if (first !== undefined) await this.stopNode(first, 'SIGTERM', KILL_GRACE_MS)
      await Promise.all(this.nodes.filter(n => n !== first).map(n => this.stopNode(n, 'SIGTERM', STOP_GRACE_MS)))
      await Promise.all(this.owned.map(p => rm(p, { recursive: true, force: true, maxRetries: 5 })))
      this.reaper?.stop()
      live.delete(this)
    })()
    return this.stopping
  }

  // Synchronous last resort from the process 'exit' hook; the reaper double-checks afterwards.
  destroyNow (): void {
    for (const n of this.nodes) n.killNow()
    for (const p of this.owned) {
      try { rmSync(p, { recursive: true, force: true, maxRetries: 5 }) } catch {}
    }
  }
}

async function writeTlsFiles (tls: TlsFiles): Promise<void> {
  mkdirSync(tls.dir, { recursive: true })
  const ca = await createCa({ commonName: 'kproxy sandbox CA', days: 30 })
  const sans = ['DNS:localhost', 'IP:127.0.0.1']
  const [broker, client] = await Promise.all([
    issueCertificate(ca, { name: 'kproxy-sandbox-broker', server: true, client: true, sans, days: 30 }),
    issueCertificate(ca, { name: 'kproxy-sandbox-client', client: true, days: 30 })
  ])
  await writeFile(tls.ca, ca.cert)
  await writeFile(tls.brokerKeystore, pemKeystore(broker), { mode: 0o600 })
  await writeFile(tls.clientCert, client.chain)
  await writeFile(tls.clientKey, client.key, { mode: 0o600 })
  await writeFile(tls.clientKeystore, pemKeystore(client), { mode: 0o600 })
  await writeFile(tls.clientProperties, formatProperties(clientSslProperties(tls)))
}
