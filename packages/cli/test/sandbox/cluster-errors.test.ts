// Start-up failures of real JVMs surface as coded errors and leave nothing behind.
import t from 'tap'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { startCluster } from '../../src/sandbox/cluster.ts'
import { runKafkaTool } from '../../src/sandbox/kafka-tool.ts'
import { freePort } from '../../../workers/test/free-port.ts'

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-cluster-errors-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

function javaMentioning (text: string): string[] {
  return spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').filter(l => /^\S*java\s/.test(l) && l.includes(text))
}

t.test('a JVM that exits early rejects with the tail of its output', async t => {
  const dir = join(scratch, 'bad-jvm')
  const err = await startCluster({ dir, jvmArgs: ['-XX:+UseSerialGC', '-XX:+UseG1GC'] }).catch((e: unknown) => e)
  t.match(err, { code: 'KPROXY_ERR_SANDBOX_START', message: /Kafka node 1 exited with code 1 during startup[^]*Multiple garbage collectors selected/ })
  t.notOk(existsSync(dir), 'the directory it created is removed')
  t.same(javaMentioning(dir), [])
})

t.test('a bad setting fails the storage format with Kafka\'s message, not a stack trace', async t => {
  const dir = join(scratch, 'bad-config')
  const err = await startCluster({ dir, brokerConfig: { 'num.network.threads': 0 } }).catch((e: unknown) => e)
  t.match(err, { code: 'KPROXY_ERR_SANDBOX_START', message: /Formatting the storage of Kafka node 1 failed/ })
  t.match((err as Error).message, /num\.network\.threads/)
  t.notMatch((err as Error).message, /\n\s+at /)
  t.notOk(existsSync(dir))
})

t.test('a port taken by someone else: retried with new ports, then reported with Kafka\'s log', async t => {
  const held = createServer()
  held.listen(0, '127.0.0.1')
  await once(held, 'listening')
  t.teardown(() => held.close())
  const { port } = held.address() as AddressInfo
  const dir = join(scratch, 'port-taken')
  const messages: string[] = []
  // The client listener is forced onto the held port, so every attempt collides.
  const controllerPort = await freePort()
  const err = await startCluster({
    dir,
    brokerConfig: {
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`
    },
    log: m => messages.push(m)
  }).catch((e: unknown) => e)
  t.match(err, { code: 'KPROXY_ERR_SANDBOX_START', message: /Kafka node 1 exited[^]*Address already in use/ })
  t.equal(messages.filter(m => /retrying with new ports/.test(m)).length, 2, 'three attempts in all')
  t.notOk(existsSync(dir))
  t.same(javaMentioning(dir), [])
})

t.test('an existing directory is kept; only the sandbox entries are removed', async t => {
  const dir = mkdtempSync(join(scratch, 'existing-'))
  const cluster = await startCluster({ dir, brokers: 1 })
  t.same(readdirSync(dir).sort(), ['node-1', 'sandbox.json'])
  await cluster.stop()
  t.ok(existsSync(dir))
  t.same(readdirSync(dir), [])
})

t.test('bad options', async t => {
  await t.rejects(startCluster({ brokers: 2 as 1 }), { code: 'KPROXY_ERR_SANDBOX_OPTIONS' })
})

t.test('runKafkaTool runs a Kafka main class and keeps stdout clean', async t => {
  const r = await runKafkaTool('kafka.tools.StorageTool', ['random-uuid'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^[A-Za-z0-9_-]{22}\n$/)
  const slow = await runKafkaTool('kafka.tools.StorageTool', ['random-uuid'], { timeoutMs: 1 })
  t.equal(slow.timedOut, true)
  t.equal(slow.code, null)
})
