import type { Command } from '../command.ts'

const usage = `Usage: kproxy sandbox <up|classpath|fetch> [options]

  up [--brokers 1|3] [--tls] [--dir DIR]   start a real Kafka (KRaft) on loopback; stays in the
                                            foreground until SIGINT/SIGTERM, then tears down
  classpath                                 print the Java classpath of the pinned Kafka
  fetch                                     download the pinned Kafka jars into the cache`

export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'run a real Apache Kafka cluster on loopback (for tests, demos, benchmarks)',
  usage,
  async run (argv) {
    process.stderr.write(`kproxy sandbox: not implemented yet (${argv.join(' ')})\n`)
    return 1
  }
}
