// `kproxy sandbox up` as a user runs it: a real process, real signals, real Kafka.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SandboxInfo } from '../helpers/kafka.ts'
import { javaPidsMentioning, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { sandboxUp } from '../helpers/sandbox-up.ts'
import { eventually } from '../helpers/eventually.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))
const READY_BUDGET_MS = 30_000

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-sandbox-cli-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('up --brokers 3: ready in time, serves kcat, SIGTERM tears down and exits 0', async t => {
  const dir = join(scratch, 'three')
  const run = await sandboxUp<SandboxInfo>(['--brokers', '3', '--dir', dir])
  t.teardown(() => { run.child.kill('SIGKILL') })
  t.comment(`kproxy sandbox up --brokers 3: ready after ${run.readyMs} ms`)
  t.ok(run.readyMs <= READY_BUDGET_MS, `ready within ${READY_BUDGET_MS} ms (took ${run.readyMs} ms)`)
  t.same(run.info.brokers.map(b => b.id), [1, 2, 3])
  t.equal(run.info.dataDir, dir)
  t.same(JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')), run.info, 'DIR/sandbox.json is what was printed')

  const meta = await kcat(['-L', '-b', run.info.bootstrap, '-m', '10'])
  t.equal(meta.code, 0, meta.stderr)
  t.same(kcatBrokers(meta.stdout).map(b => b.id), [1, 2, 3], 'kcat lists exactly 3 brokers')
  t.equal(javaPidsMentioning(dir).length, 3, 'three JVMs')

  const stopAt = Date.now()
  run.child.kill('SIGTERM')
  const status = await run.exited
  t.comment(`stopped ${Date.now() - stopAt} ms after SIGTERM`)
  t.same(status, { code: 0, signal: null }, `exit code 0\n${run.stderr()}`)
  t.same(javaPidsMentioning(dir), [], 'no JVM left')
  t.notOk(existsSync(dir), 'the directory it created is gone')
})

t.test('SIGKILL of the CLI: the reaper removes JVMs and directories', async t => {
  const run = await sandboxUp<SandboxInfo>(['--brokers', '1'])
  t.teardown(() => { run.child.kill('SIGKILL') })
  const dir = run.info.dataDir
  t.match(dir, /kproxy-sandbox-/)
  t.equal(javaPidsMentioning(dir).length, 1)
  const killedAt = Date.now()
  run.child.kill('SIGKILL')
  await run.exited
  const clean = await eventually(() => javaPidsMentioning(dir).length === 0 && !existsSync(dir), 10_000)
  t.comment(`reaper finished ${Date.now() - killedAt} ms after SIGKILL`)
  t.ok(clean, 'no JVM and no directory within 10 s')
})

t.test('bad flags are usage errors (exit 2)', async t => {
  for (const args of [['--brokers', '2'], ['--nope'], ['--brokers'], ['--replicas', '0'], ['--replicas', '9'], ['--replicas', '2', '--topology', 'mesh'],
    ['--topology', 'mesh', '--brokers', '3'], ['--tls', '--replicas', '2'], ['--sasl', '--topology', 'mesh'], ['--proxy-workers', '2'], ['--topology', 'star']]) {
    const child = spawn(KPROXY, ['sandbox', 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    const code = await new Promise(resolve => child.on('exit', resolve))
    t.equal(code, 2, `${args.join(' ')} -> exit 2`)
    t.match(stderr, /Usage: kproxy sandbox/)
    t.equal(stdout, '')
  }
})
