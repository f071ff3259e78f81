// `kproxy sandbox up --topology mesh`: three real, independent single-node Kafka clusters (a, b,
// c), checked with Kafka's own tools; sandbox.json appears once, complete; everything goes away
// on SIGTERM and, through the reapers, on SIGKILL.
import t from 'tap'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runKafkaTool } from '@kproxy/cli'
import type { MeshSandboxInfo } from '@kproxy/cli/sandbox/mesh-topology'
import { javaPidsMentioning } from '../helpers/kafka.ts'
import { processesMentioning, sandboxUp } from '../helpers/sandbox-up.ts'
import { watchSandboxFile } from '../helpers/sandbox-file-watch.ts'

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-sandbox-mesh-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

async function topics (bootstrap: string): Promise<string[]> {
  const r = await runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', bootstrap, '--list'])
  if (r.code !== 0) throw new Error(`kafka-topics --list on ${bootstrap} failed: ${r.stderr}`)
  return r.stdout.split('\n').filter(l => l !== '' && !l.startsWith('__')).sort()
}

t.test('three independent clusters a, b, c', async t => {
  const dir = join(scratch, 'mesh')
  const watch = watchSandboxFile(dir)
  const run = await sandboxUp<MeshSandboxInfo>(['--topology', 'mesh', '--dir', dir])
  t.teardown(() => { run.child.kill('SIGKILL') })
  t.comment(`mesh sandbox ready in ${run.readyMs} ms`)
  const seen = await watch.stop()
  t.equal(seen.partial.length, 0, 'a watcher never read a partial sandbox.json')
  t.equal(seen.versions.length, 1, 'sandbox.json appeared once, complete')
  t.same(JSON.parse(seen.versions[0]!), run.info, 'and it is what was printed')

  const { info } = run
  t.equal(info.topology, 'mesh')
  t.same(info.clusters.map(c => c.name), ['a', 'b', 'c'])
  t.same(info.routes, [{ prefix: 'a', cluster: 'a' }, { prefix: 'b', cluster: 'b' }, { prefix: 'c', cluster: 'c' }])
  t.equal(new Set(info.clusters.map(c => c.bootstrap)).size, 3, 'three bootstraps')
  t.equal(new Set(info.clusters.map(c => c.clusterId)).size, 3, 'three cluster ids')
  t.match(info.clientBootstrap, /^127\.0\.0\.1:\d+$/, 'clientBootstrap: the mesh-mode kproxy')
  t.equal(info.kproxy.workers, 2)
  for (const c of info.clusters) {
    t.equal(c.brokers.length, 1, `cluster ${c.name} has one node`)
    t.equal(c.dataDir, join(dir, c.name))
  }
  t.equal(javaPidsMentioning(dir).length, 3, 'three JVMs')

  // Kafka's own view of each cluster id
  for (const c of info.clusters) {
    const id = await runKafkaTool('org.apache.kafka.tools.ClusterTool', ['cluster-id', '--bootstrap-server', c.bootstrap])
    t.equal(id.code, 0, id.stderr)
    t.match(id.stdout, `Cluster ID: ${c.clusterId}`, `cluster ${c.name} reports its own id`)
  }

  // The seed example's topics, each created on its own cluster with kafka-topics.
  const seed: Record<string, string> = { a: 'apples', b: 'berries', c: 'cherries' }
  for (const c of info.clusters) {
    const r = await runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', c.bootstrap, '--create', '--topic', seed[c.name]!, '--partitions', '2'])
    t.equal(r.code, 0, r.stderr)
  }
  for (const c of info.clusters) {
    t.same(await topics(c.bootstrap), [seed[c.name]], `cluster ${c.name} has only ${seed[c.name]}`)
  }

  run.child.kill('SIGTERM')
  t.same(await run.exited, { code: 0, signal: null }, run.stderr())
  t.same(javaPidsMentioning(dir), [], 'no JVM left')
  t.same(processesMentioning(dir), [], 'no kproxy left')
  t.notOk(existsSync(dir), 'the directory it created is gone')
})

t.test('--proxy-workers 1, then SIGKILL of the CLI: the reapers remove all three clusters', async t => {
  const run = await sandboxUp<MeshSandboxInfo>(['--topology', 'mesh', '--proxy-workers', '1'])
  t.teardown(() => { run.child.kill('SIGKILL') })
  const dir = run.info.dataDir
  t.match(dir, /kproxy-sandbox-mesh-/)
  t.equal(javaPidsMentioning(dir).length, 3)
  t.equal(run.info.kproxy.workers, 1, 'sandbox.json: the mesh kproxy has the workers asked for')
  const workers = await (await fetch(`${run.info.kproxy.adminUrl}/api/workers`)).json() as { configured: number, workers: unknown[] }
  t.same({ configured: workers.configured, running: workers.workers.length }, { configured: 1, running: 1 }, 'and runs them (its admin API)')
  run.child.kill('SIGKILL')
  await run.exited
  let clean = false
  for (let i = 0; i < 100 && !clean; i++) {
    clean = javaPidsMentioning(dir).length === 0 && processesMentioning(dir).length === 0 && !existsSync(dir)
    if (!clean) await sleep(100)
  }
  t.ok(clean, 'no JVM, no kproxy and no directory within 10 s')
})
