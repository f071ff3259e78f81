// A 3-node sandbox with the default broker heap holds 500 topics (`pnpm test:full`; 100 in
// `pnpm test`) of 6 partitions (replication 3)
// written to by kafkajs and read back by one consumer group of Kafka's console consumer across
// all of them (the workload that kept up to 400 MiB live per broker and would have filled the old
// 512 MiB heap), without a broker running out of heap: the same JVMs serve from start to end,
// the sandbox's watchdog had nothing to restart, and no log mentions OutOfMemoryError.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { runKafkaTool } from '@kproxy/cli'
import type { SandboxInfo } from '../helpers/kafka.ts'
import { javaPidsMentioning } from '../helpers/kafka.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { sandboxUp } from '../helpers/sandbox-up.ts'
import { scaled } from '../helpers/scale.ts'

const TOPICS = scaled(500, 100)
const PARTITIONS = 6
const RECORDS_PER_TOPIC = 12 // two per partition on average, 1 KiB each
const BATCH = 50

t.test(`${TOPICS} topics x ${PARTITIONS} partitions on 3 brokers with the default heap`, async t => {
  const run = await sandboxUp<SandboxInfo>(['--brokers', '3'])
  t.teardown(() => { run.child.kill('SIGKILL') })
  const dir = run.info.dataDir
  const jvms = javaPidsMentioning(dir).sort()
  t.equal(jvms.length, 3)

  const kafka = new Kafka({ clientId: 'many-topics', brokers: run.info.bootstrap.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const names = Array.from({ length: TOPICS }, (_, i) => `many-${String(i).padStart(3, '0')}`)
  let at = Date.now()
  for (let i = 0; i < names.length; i += BATCH) {
    await createTopicsAndWait(admin, names.slice(i, i + BATCH).map(topic => ({ topic, numPartitions: PARTITIONS, replicationFactor: 3 })), 120_000)
  }
  t.comment(`created ${TOPICS} topics (${TOPICS * PARTITIONS} partitions, ${TOPICS * PARTITIONS * 3} replicas) in ${Date.now() - at} ms`)

  const producer = kafka.producer()
  await producer.connect()
  const value = Buffer.alloc(1024, 'k')
  at = Date.now()
  for (let i = 0; i < names.length; i += 25) {
    await producer.sendBatch({
      acks: -1,
      topicMessages: names.slice(i, i + 25).map(topic => ({ topic, messages: Array.from({ length: RECORDS_PER_TOPIC }, (_, k) => ({ key: String(k), value })) }))
    })
  }
  await producer.disconnect()
  t.comment(`produced ${TOPICS * RECORDS_PER_TOPIC} records with acks=all in ${Date.now() - at} ms`)

  // One group across every topic: a fetch that names all 3000 partitions, on every broker.
  at = Date.now()
  const consumed = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', run.info.bootstrap, '--include', 'many-.*', '--group', 'many-topics-group',
    '--from-beginning', '--max-messages', String(TOPICS * RECORDS_PER_TOPIC), '--timeout-ms', '120000',
    '--formatter-property', 'print.value=false', '--formatter-property', 'print.partition=true'
  ], { timeoutMs: 180_000 })
  t.equal(consumed.code, 0, consumed.stderr.slice(-2000))
  t.equal(consumed.stdout.split('\n').filter(l => l !== '').length, TOPICS * RECORDS_PER_TOPIC, 'the group read every record back')
  t.comment(`consumed them in one group in ${Date.now() - at} ms`)

  t.same(javaPidsMentioning(dir).sort(), jvms, 'the same three broker JVMs are alive')
  t.notMatch(run.stderr(), /exited|killed|restarting/, 'the watchdog saw no broker die')
  for (const node of readdirSync(dir).filter(n => n.startsWith('node-'))) {
    const logs = ['server.log', 'jvm.out'].map(f => { try { return readFileSync(join(dir, node, f), 'utf8') } catch { return '' } }).join('\n')
    t.notMatch(logs, /OutOfMemoryError/, `${node}: no OutOfMemoryError`)
  }

  run.child.kill('SIGTERM')
  t.same(await run.exited, { code: 0, signal: null }, run.stderr())
})
