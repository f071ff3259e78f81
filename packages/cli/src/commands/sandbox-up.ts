// `kproxy sandbox up`: parse the flags, start the chosen topology, print sandbox.json, then stay
// in the foreground keeping it whole (a broker that dies is restarted by its watchdog) until
// SIGINT/SIGTERM, and tear everything down.
import { parseArgs } from 'node:util'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import type { KproxyError } from '@kproxy/core/kproxy-error'
import type { Cluster } from '../sandbox/cluster.ts'
import type { PropertyValue } from '../sandbox/node-config.ts'

export const upUsage = `  up [--brokers 1|3] [--tls] [--dir DIR]   start a real Kafka (KRaft) on loopback, write DIR/sandbox.json
                                            (once, complete, when everything is ready) and print it on
                                            stdout; stays in the foreground until SIGINT/SIGTERM, then
                                            tears everything down
     --sasl                                 also a SASL_PLAINTEXT listener per broker (PLAIN,
                                            SCRAM-SHA-256, SCRAM-SHA-512); sandbox.json gains sasl
                                            (bootstrap, users, mechanisms); with --tls also a SASL_SSL
                                            listener (sasl.sslBootstrap, certificate from tls.ca)
     --broker-heap SIZE                     maximum heap of each broker JVM (default 1g; e.g. 768m, 2g)
     --broker-config KEY=VALUE              a server.properties entry for every broker (repeatable),
                                            e.g. num.partitions=4; node.id, listeners, log.dirs,
                                            process.roles and controller.* are the sandbox's own
     --no-restart                           a broker JVM that dies ends the sandbox (exit 1) instead of
                                            being restarted
     --topology double-proxy-tls            also start two kproxy serve processes: client -> plaintext
                                            -> client-side kproxy -> mTLS -> broker-side kproxy -> TLS
                                            -> brokers (SSL listeners); sandbox.json gains
                                            clientBootstrap and proxies (logs in DIR/proxies/)
     --topology mesh                        three independent single-node clusters a, b, c and a kproxy
                                            in mesh mode in front (topics a*, b*, c* routed to them;
                                            docs/mesh.md); sandbox.json has clientBootstrap and clusters
                                            (each with its direct bootstrap); --proxy-workers default 2
     --replicas N                           N kproxy serve processes behind HAProxy (Debian haproxy)
                                            in front of the cluster (3 brokers unless --brokers);
                                            sandbox.json gains clientBootstrap, loadBalancer, replicas
     --proxy-workers N                      worker threads of each kproxy (default 1, mesh 2)`

const EXIT_BROKER_DIED = 1

type Topology = 'plain' | 'double-proxy-tls' | 'mesh' | 'replicas'

export interface UpOptions {
  topology: Topology
  brokers: 1 | 3
  tls: boolean
  sasl: boolean
  dir: string | undefined
  brokerHeap: string | undefined
  brokerConfig: Record<string, PropertyValue>
  restart: boolean
  replicas: number
  proxyWorkers: number
}

// What the foreground loop needs of any topology.
interface RunningSandbox {
  info: { dataDir: string }
  // the clusters whose brokers the watchdog keeps alive ('a', 'b', 'c' in the mesh)
  clusters: ReadonlyArray<{ name?: string, cluster: Cluster }>
  // children other than brokers (kproxies, HAProxy) that have died
  dead (): string[]
  stop (): Promise<void>
}

function progress (message: string): void {
  process.stderr.write(`${message}\n`)
}

export async function up (argv: string[], usageError: (message: string) => number): Promise<number> {
  let options: UpOptions
  try {
    const parsed = await parseUpArgs(argv)
    if (typeof parsed === 'string') return usageError(parsed)
    options = parsed
  } catch (err) {
    if (isKproxyError(err, 'KPROXY_ERR_SANDBOX_OPTIONS')) return usageError(err.message)
    throw err
  }

  // Until everything is up, a signal just exits: the process 'exit' hooks kill the children and
  // remove the directories. Afterwards it triggers an orderly stop.
  let stopRequested: (reason: NodeJS.Signals | KproxyError) => void = signal => {
    process.stderr.write(`kproxy: ${String(signal)} during start-up; cleaning up\n`)
    process.exit(130)
  }
  const onSignal = (signal: NodeJS.Signals): void => stopRequested(signal)
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const s of signals) process.on(s, onSignal)
  try {
    const sandbox = await start(options)
    const stopped = new Promise<NodeJS.Signals | KproxyError>(resolve => { stopRequested = resolve })
    const { watchBrokers } = await import('../sandbox/broker-watchdog.ts')
    const watchdogs = sandbox.clusters.map(({ name, cluster }) => watchBrokers(cluster, {
      restart: options.restart,
      log: progress,
      onGiveUp: err => stopRequested(err),
      ...(name === undefined ? {} : { name: `cluster ${name}` })
    }))
    process.stdout.write(JSON.stringify(sandbox.info) + '\n')
    progress(`kproxy: sandbox running (${sandbox.info.dataDir}); press Ctrl-C to stop`)
    // Signal listeners do not keep Node alive; this timer does, and reports children that die.
    const reported = new Set<string>()
    const watch = setInterval(() => {
      for (const part of sandbox.dead()) {
        if (reported.has(part)) continue
        reported.add(part)
        progress(`kproxy: ${part} exited unexpectedly`)
      }
    }, 1000)
    const reason = await stopped
    clearInterval(watch)
    for (const w of watchdogs) w.stop()
    // A second signal while stopping is ignored: the stop is already bounded.
    stopRequested = () => {}
    if (typeof reason === 'string') {
      progress(`kproxy: ${reason} received; stopping the sandbox`)
    } else {
      progress(`kproxy: ${reason.message} [${reason.code}]`)
    }
    await sandbox.stop()
    progress('kproxy: sandbox stopped')
    return typeof reason === 'string' ? 0 : EXIT_BROKER_DIED
  } finally {
    for (const s of signals) process.off(s, onSignal)
  }
}

// A UpOptions, or the sentence of a usage error.
export async function parseUpArgs (argv: string[]): Promise<UpOptions | string> {
  let values: {
    brokers?: string, tls?: boolean, sasl?: boolean, dir?: string, topology?: string, 'proxy-workers'?: string,
    'broker-heap'?: string, 'broker-config'?: string[], 'no-restart'?: boolean, replicas?: string
  }
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        brokers: { type: 'string' },
        tls: { type: 'boolean' },
        sasl: { type: 'boolean' },
        dir: { type: 'string' },
        topology: { type: 'string' },
        'proxy-workers': { type: 'string' },
        'broker-heap': { type: 'string' },
        'broker-config': { type: 'string', multiple: true },
        'no-restart': { type: 'boolean' },
        replicas: { type: 'string' }
      },
      strict: true,
      allowPositionals: false
    }))
  } catch (err) {
    return (err as Error).message
  }
  if (values.dir === '') return '--dir needs a directory.'
  const t = values.topology
  if (t !== undefined && t !== 'double-proxy-tls' && t !== 'mesh') return `--topology must be double-proxy-tls or mesh, not '${t}'.`
  if (values.replicas !== undefined && t !== undefined) return '--replicas cannot be combined with --topology.'
  const topology: Topology = values.replicas !== undefined ? 'replicas' : t ?? 'plain'
  const replicas = values.replicas === undefined ? 0 : Number(values.replicas)
  if (topology === 'replicas' && (!Number.isInteger(replicas) || replicas < 1 || replicas > 8)) return `--replicas must be 1 to 8, not '${values.replicas}'.`
  if (values.brokers !== undefined && topology === 'mesh') return '--brokers cannot be combined with --topology mesh (its clusters have one node each).'
  const brokers = values.brokers === undefined ? (topology === 'replicas' ? 3 : 1) : Number(values.brokers)
  if (brokers !== 1 && brokers !== 3) return `--brokers must be 1 or 3, not '${values.brokers}'.`
  if (values.sasl === true && topology !== 'plain') return '--sasl cannot be combined with --topology or --replicas.'
  if (values.tls === true && (topology === 'mesh' || topology === 'replicas')) return `--tls cannot be combined with ${topology === 'mesh' ? '--topology mesh' : '--replicas'}.`
  if (values['proxy-workers'] !== undefined && topology === 'plain') return '--proxy-workers needs --topology double-proxy-tls, --topology mesh or --replicas (a plain sandbox runs no kproxy).'
  const proxyWorkers = values['proxy-workers'] === undefined ? (topology === 'mesh' ? 2 : 1) : Number(values['proxy-workers'])
  if (!Number.isInteger(proxyWorkers) || proxyWorkers < 1 || proxyWorkers > 64) return `--proxy-workers must be 1 to 64, not '${values['proxy-workers']}'.`
  const [{ parseBrokerConfig }, { parseHeapSize }] = await Promise.all([import('../sandbox/broker-config.ts'), import('../sandbox/broker-heap.ts')])
  // both throw KPROXY_ERR_SANDBOX_OPTIONS, a usage error
  if (values['broker-heap'] !== undefined) parseHeapSize(values['broker-heap'])
  const brokerConfig = parseBrokerConfig(values['broker-config'] ?? [])
  return {
    topology,
    brokers,
    tls: values.tls === true,
    sasl: values.sasl === true,
    dir: values.dir,
    brokerHeap: values['broker-heap'],
    brokerConfig,
    restart: values['no-restart'] !== true,
    replicas,
    proxyWorkers
  }
}

async function start (o: UpOptions): Promise<RunningSandbox> {
  const common = {
    dir: o.dir,
    log: progress,
    brokerConfig: o.brokerConfig,
    ...(o.brokerHeap === undefined ? {} : { brokerHeap: o.brokerHeap })
  }
  switch (o.topology) {
    case 'plain': {
      const { startCluster } = await import('../sandbox/cluster.ts')
      const cluster = await startCluster({ ...common, brokers: o.brokers, tls: o.tls, sasl: o.sasl })
      return { info: cluster.info, clusters: [{ cluster }], dead: () => [], stop: () => cluster.stop() }
    }
    case 'double-proxy-tls': {
      const { startDoubleProxy } = await import('../sandbox/double-proxy.ts')
      const s = await startDoubleProxy({ ...common, brokers: o.brokers, workers: o.proxyWorkers })
      return { info: s.info, clusters: [{ cluster: s.cluster }], dead: () => s.dead(), stop: () => s.stop() }
    }
    case 'mesh': {
      const { startMesh } = await import('../sandbox/mesh-topology.ts')
      const s = await startMesh({ ...common, workers: o.proxyWorkers })
      return { info: s.info, clusters: s.clusters, dead: () => s.dead(), stop: () => s.stop() }
    }
    case 'replicas': {
      const { startReplicas } = await import('../sandbox/replicas.ts')
      const s = await startReplicas({ ...common, brokers: o.brokers, replicas: o.replicas, workers: o.proxyWorkers })
      return { info: s.info, clusters: [{ cluster: s.cluster }], dead: () => s.dead(), stop: () => s.stop() }
    }
  }
}
