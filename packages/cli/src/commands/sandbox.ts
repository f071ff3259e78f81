import { parseArgs } from 'node:util'
import type { Command } from '../command.ts'

const usage = `Usage: kproxy sandbox <up|classpath|fetch|lock> [options]

  up [--brokers 1|3] [--tls] [--dir DIR]   start a real Kafka (KRaft) on loopback, write DIR/sandbox.json
                                            and print it on stdout; stays in the foreground until
                                            SIGINT/SIGTERM, then tears everything down
     --sasl                                 also a SASL_PLAINTEXT listener per broker (PLAIN,
                                            SCRAM-SHA-256, SCRAM-SHA-512); sandbox.json gains sasl
                                            (bootstrap, users, mechanisms)
     --topology double-proxy-tls            also start two kproxy serve processes: client -> plaintext
                                            -> client-side kproxy -> mTLS -> broker-side kproxy -> TLS
                                            -> brokers (SSL listeners); sandbox.json gains
                                            clientBootstrap and proxies (logs in DIR/proxies/)
     --proxy-workers N                      worker threads of each kproxy (default 1)
  classpath                                 print the Java classpath of the pinned Kafka
  fetch                                     download (once) and verify the pinned Kafka jars, and
                                            the kafka-clients jar of the last 3.x release (its
                                            message definitions give the codecs the old versions)
                                            and the old Java clients 0.10.2.2 and 0.11.0.3 (the
                                            version bridge's acceptance tests)
  lock                                      maintainers: re-resolve the jars with Maven and rewrite
                                            the checksum lock files`

function usageError (message: string): number {
  process.stderr.write(`kproxy sandbox: ${message}\n\n${usage}\n`)
  return 2
}

function progress (message: string): void {
  process.stderr.write(`${message}\n`)
}

async function up (argv: string[]): Promise<number> {
  let values: { brokers?: string, tls?: boolean, sasl?: boolean, dir?: string, topology?: string, 'proxy-workers'?: string }
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        brokers: { type: 'string' },
        tls: { type: 'boolean' },
        sasl: { type: 'boolean' },
        dir: { type: 'string' },
        topology: { type: 'string' },
        'proxy-workers': { type: 'string' }
      },
      strict: true,
      allowPositionals: false
    }))
  } catch (err) {
    return usageError((err as Error).message)
  }
  const brokers = values.brokers === undefined ? 1 : Number(values.brokers)
  if (brokers !== 1 && brokers !== 3) return usageError(`--brokers must be 1 or 3, not '${values.brokers}'.`)
  if (values.dir === '') return usageError('--dir needs a directory.')
  const topology = values.topology
  if (topology !== undefined && topology !== 'double-proxy-tls') return usageError(`--topology must be double-proxy-tls, not '${topology}'.`)
  const proxyWorkers = values['proxy-workers'] === undefined ? 1 : Number(values['proxy-workers'])
  if (values['proxy-workers'] !== undefined && topology === undefined) return usageError('--proxy-workers needs --topology.')
  if (values.sasl === true && topology !== undefined) return usageError('--sasl cannot be combined with --topology.')
  if (!Number.isInteger(proxyWorkers) || proxyWorkers < 1 || proxyWorkers > 64) return usageError(`--proxy-workers must be 1 to 64, not '${values['proxy-workers']}'.`)

  // Until the cluster is up, a signal just exits: the process 'exit' hook kills the JVMs and
  // removes the directories. Afterwards it triggers an orderly stop.
  let stopRequested: (signal: NodeJS.Signals) => void = signal => {
    process.stderr.write(`kproxy: ${signal} during start-up; cleaning up\n`)
    process.exit(130)
  }
  const onSignal = (signal: NodeJS.Signals): void => stopRequested(signal)
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const s of signals) process.on(s, onSignal)
  try {
    const sandbox = topology === undefined
      ? await startPlain(brokers, values.tls === true, values.sasl === true, values.dir)
      : await startDoubleProxyTopology(brokers, proxyWorkers, values.dir)
    const stopped = new Promise<NodeJS.Signals>(resolve => { stopRequested = resolve })
    process.stdout.write(JSON.stringify(sandbox.info) + '\n')
    progress(`kproxy: sandbox running (${sandbox.info.dataDir}); press Ctrl-C to stop`)
    // Signal listeners do not keep Node alive; this timer does, and reports parts that die.
    const reported = new Set<string>()
    const watch = setInterval(() => {
      for (const part of sandbox.dead()) {
        if (reported.has(part)) continue
        reported.add(part)
        progress(`kproxy: ${part} exited unexpectedly`)
      }
    }, 1000)
    const signal = await stopped
    clearInterval(watch)
    // A second signal while stopping is ignored: the stop is already bounded.
    stopRequested = () => {}
    progress(`kproxy: ${signal} received; stopping the sandbox`)
    await sandbox.stop()
    progress('kproxy: sandbox stopped')
    return 0
  } finally {
    for (const s of signals) process.off(s, onSignal)
  }
}

interface RunningSandbox {
  info: { dataDir: string }
  dead (): string[]
  stop (): Promise<void>
}

async function startPlain (brokers: 1 | 3, tls: boolean, sasl: boolean, dir: string | undefined): Promise<RunningSandbox> {
  const { startCluster } = await import('../sandbox/cluster.ts')
  const cluster = await startCluster({ brokers, tls, sasl, dir, log: progress })
  return {
    info: cluster.info,
    dead: () => {
      const alive = cluster.pids()
      return cluster.info.brokers.filter(b => !alive.has(b.id)).map(b => `Kafka node ${b.id} (see ${cluster.logFile(b.id)})`)
    },
    stop: () => cluster.stop()
  }
}

async function startDoubleProxyTopology (brokers: 1 | 3, workers: number, dir: string | undefined): Promise<RunningSandbox> {
  const { startDoubleProxy } = await import('../sandbox/double-proxy.ts')
  return await startDoubleProxy({ brokers, dir, workers, log: progress })
}

async function classpath (): Promise<number> {
  const { ensureKafkaJars } = await import('../sandbox/jars.ts')
  const jars = await ensureKafkaJars({ log: progress })
  process.stdout.write(jars.classpath + '\n')
  return 0
}

async function fetch (): Promise<number> {
  const { ensureKafkaJars, readLock } = await import('../sandbox/jars.ts')
  const { BRIDGE_KAFKA_VERSION, OLD_CLIENT_VERSIONS } = await import('@kproxy/core/kafka-release')
  const jars = await ensureKafkaJars({ log: progress })
  const bridge = await ensureKafkaJars({ log: progress, lock: readLock(BRIDGE_KAFKA_VERSION) })
  progress(`kproxy: ${jars.jars.length} verified jars, and ${bridge.jars.length} of kafka-clients ${BRIDGE_KAFKA_VERSION} in ${bridge.libDir}`)
  // the old Java clients the version bridge is tested with, each on its own classpath
  for (const version of OLD_CLIENT_VERSIONS) {
    const old = await ensureKafkaJars({ log: progress, lock: readLock(version) })
    progress(`kproxy: ${old.jars.length} jars of kafka-clients ${version} in ${old.libDir}`)
  }
  process.stdout.write(jars.libDir + '\n')
  return 0
}

async function lock (): Promise<number> {
  const { BRIDGE_KAFKA_ARTIFACTS, createLock, writeLock } = await import('../sandbox/jars.ts')
  const { BRIDGE_KAFKA_VERSION, OLD_CLIENT_VERSIONS } = await import('@kproxy/core/kafka-release')
  progress('kproxy: resolving the Kafka classpath with Maven')
  const oldClients = OLD_CLIENT_VERSIONS.map(v => ({ artifacts: [`org.apache.kafka:kafka-clients:${v}`], kafkaVersion: v }))
  for (const options of [{}, { artifacts: BRIDGE_KAFKA_ARTIFACTS, kafkaVersion: BRIDGE_KAFKA_VERSION }, ...oldClients]) {
    const created = await createLock(options)
    const path = await writeLock(created)
    progress(`kproxy: ${Object.keys(created.jars).length} jars locked`)
    process.stdout.write(path + '\n')
  }
  return 0
}

export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'run a real Apache Kafka cluster on loopback (for tests, demos, benchmarks)',
  usage,
  async run (argv) {
    const [sub, ...rest] = argv
    const noArgs = (run: () => Promise<number>): Promise<number> =>
      rest.length === 0 ? run() : Promise.resolve(usageError(`'${sub}' takes no arguments.`))
    switch (sub) {
      case 'up': return await up(rest)
      case 'classpath': return await noArgs(classpath)
      case 'fetch': return await noArgs(fetch)
      case 'lock': return await noArgs(lock)
      case undefined: return usageError('missing subcommand.')
      default: return usageError(`unknown subcommand '${sub}'.`)
    }
  }
}
