// `kproxy sandbox up` keeps its cluster whole: a broker JVM killed with SIGKILL is restarted on
// the same ports and data and the sandbox says why it died; --no-restart ends the sandbox
// instead; a broker that cannot come back ends it after a few tries, naming Kafka's error.
// Real CLI process, real Kafka (one node: the restart logic does not depend on the size).
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SandboxInfo } from '../helpers/kafka.ts'
import { javaPidsMentioning, kcat } from '../helpers/kafka.ts'
import { sandboxUp } from '../helpers/sandbox-up.ts'
import { watchSandboxFile } from '../helpers/sandbox-file-watch.ts'

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-sandbox-stays-up-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

async function until (what: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (what()) return true
    await sleep(100)
  }
  return what()
}

function jvmPid (dir: string): number {
  return Number(readFileSync(join(dir, 'node-1', 'jvm.pid'), 'utf8'))
}

t.test('SIGKILL of a broker: restarted with its data, the reason logged, the cluster serves again', async t => {
  const dir = join(scratch, 'restart')
  const watch = watchSandboxFile(dir)
  const run = await sandboxUp<SandboxInfo>(['--dir', dir, '--broker-config', 'num.partitions=4', '--broker-config', 'log.retention.hours=1'])
  t.teardown(() => { run.child.kill('SIGKILL') })
  const seen = await watch.stop()
  t.equal(seen.partial.length, 0, 'a watcher never read a partial sandbox.json')
  t.equal(seen.versions.length, 1, 'sandbox.json appeared once')
  t.same(JSON.parse(seen.versions[0]!), run.info, 'and it is what was printed')

  const properties = readFileSync(join(dir, 'node-1', 'server.properties'), 'utf8')
  t.match(properties, /^num\.partitions=4$/m, '--broker-config reaches server.properties')
  t.match(properties, /^log\.retention\.hours=1$/m)
  const produced = await kcat(['-P', '-b', run.info.bootstrap, '-t', 'stays-up', '-m', '15'], { input: 'one\ntwo\nthree\n' })
  t.equal(produced.code, 0, produced.stderr)
  const meta = await kcat(['-L', '-b', run.info.bootstrap, '-t', 'stays-up', '-m', '10'])
  t.match(meta.stdout, /topic "stays-up" with 4 partitions/, 'num.partitions=4 applies to an auto-created topic')

  const before = jvmPid(dir)
  process.kill(before, 'SIGKILL')
  const killedAt = Date.now()
  t.ok(await until(() => /Kafka node 1 is back/.test(run.stderr()), 90_000), `restarted within 90 s\n${run.stderr()}`)
  t.comment(`back ${Date.now() - killedAt} ms after SIGKILL`)
  t.match(run.stderr(), /Kafka node 1 was killed by SIGKILL; its log has no error line \(.*server\.log\)/, 'says how it died')
  t.match(run.stderr(), /restarting Kafka node 1 \(same node id, ports and data\)/)
  const after = javaPidsMentioning(dir)
  t.equal(after.length, 1, 'one JVM again')
  t.not(after[0], before, 'a new JVM')

  const again = await kcat(['-C', '-b', run.info.bootstrap, '-t', 'stays-up', '-o', 'beginning', '-c', '3', '-e', '-m', '20'])
  t.equal(again.code, 0, again.stderr)
  t.same(again.stdout.trim().split('\n').sort(), ['one', 'three', 'two'], 'the records are still there (same data directory)')
  const ports = await kcat(['-L', '-b', run.info.bootstrap, '-m', '10'])
  t.match(ports.stdout, `broker 1 at 127.0.0.1:${run.info.brokers[0]!.port}`, 'same port')

  run.child.kill('SIGTERM')
  t.same(await run.exited, { code: 0, signal: null }, run.stderr())
  t.same(javaPidsMentioning(dir), [])
  t.notOk(existsSync(dir))
})

t.test('--no-restart: a dead broker ends the sandbox with exit code 1 and a clean-up', async t => {
  const dir = join(scratch, 'no-restart')
  const run = await sandboxUp<SandboxInfo>(['--dir', dir, '--no-restart'])
  t.teardown(() => { run.child.kill('SIGKILL') })
  process.kill(jvmPid(dir), 'SIGKILL')
  const status = await run.exited
  t.same(status, { code: 1, signal: null }, run.stderr())
  t.match(run.stderr(), /Kafka node 1 was killed by SIGKILL \(its log has no error line\); --no-restart was given, so the sandbox stops\. .*\[KPROXY_ERR_SANDBOX_BROKER_DIED\]/)
  t.notMatch(run.stderr(), /restarting/)
  t.same(javaPidsMentioning(dir), [], 'no JVM left')
  t.notOk(existsSync(dir), 'directory removed')
})

t.test('a broker that cannot come back: a few tries naming Kafka\'s error, then exit 1', async t => {
  const dir = join(scratch, 'broken')
  const run = await sandboxUp<SandboxInfo>(['--dir', dir])
  t.teardown(() => { run.child.kill('SIGKILL') })
  // Without meta.properties the node refuses to start: every restart fails the same way.
  rmSync(join(dir, 'node-1', 'data', 'meta.properties'))
  process.kill(jvmPid(dir), 'SIGKILL')
  const status = await run.exited
  t.same(status, { code: 1, signal: null }, run.stderr())
  t.match(run.stderr(), /restarting Kafka node 1 failed: Kafka node 1 exited with code 1 during startup; last error in its log: .*ERROR Exiting Kafka due to fatal exception.*No readable meta\.properties files found/,
    'each failed restart names the error from the broker\'s log')
  t.match(run.stderr(), /Kafka node 1 died or failed to restart more than 5 times within 10 minutes; stopping the sandbox\..*\[KPROXY_ERR_SANDBOX_BROKER_DIED\]/)
  t.same(javaPidsMentioning(dir), [])
  t.notOk(existsSync(dir))
})

t.test('bad --broker-config and --broker-heap are usage errors (exit 2) before anything starts', async t => {
  for (const [args, message] of [
    [['--broker-config', 'listeners=PLAINTEXT://:9092'], /listeners is set by the sandbox itself/],
    [['--broker-config', 'controller.quorum.voters=1@x:1'], /controller\.quorum\.voters is set by the sandbox itself/],
    [['--broker-config', 'no_equals_sign'], /'no_equals_sign' is not KEY=VALUE/],
    [['--broker-config', 'white space=1'], /'white space' is not a Kafka configuration key/],
    [['--broker-heap', '64m'], /--broker-heap 64m is outside/],
    [['--broker-heap', 'lots'], /--broker-heap 'lots' is not a size/]
  ] as const) {
    const err = await sandboxUp<SandboxInfo>([...args]).then(() => null, (e: unknown) => e as Error)
    t.match(err?.message, /exited early \(2\)/, args.join(' '))
    t.match(err?.message, message)
  }
})
