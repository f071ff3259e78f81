import type { Command } from '../command.ts'
import { up, upUsage } from './sandbox-up.ts'

const usage = `Usage: kproxy sandbox <up|classpath|fetch|lock> [options]

${upUsage}
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
      case 'up': return await up(rest, usageError)
      case 'classpath': return await noArgs(classpath)
      case 'fetch': return await noArgs(fetch)
      case 'lock': return await noArgs(lock)
      case undefined: return usageError('missing subcommand.')
      default: return usageError(`unknown subcommand '${sub}'.`)
    }
  }
}
