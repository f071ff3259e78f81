import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KproxyProcess } from '../../src/sandbox/kproxy-process.ts'

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-process-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('a kproxy that exits during start-up: the error names it and quotes its log', async t => {
  const logFile = join(scratch, 'bad.log')
  const pidFile = join(scratch, 'bad.pid')
  // no --upstream: kproxy serve refuses the configuration and exits 1
  const proc = new KproxyProcess({ name: 'broker-side', args: ['--listen', '127.0.0.1:1'], adminUrl: 'http://127.0.0.1:1', logFile, pidFile, env: process.env })
  t.ok(existsSync(pidFile), 'pid file written at spawn')
  t.equal(readFileSync(pidFile, 'utf8').trim(), String(proc.pid))
  const err = await proc.waitReady(Date.now() + 30_000).then(() => null, (e: Error & { code?: string }) => e)
  t.equal(err?.code, 'KPROXY_ERR_SANDBOX_START')
  t.match(err?.message ?? '', /The broker-side kproxy exited with code 1 during start-up; .*bad\.log ends with:\n.*upstream/s)
  t.equal(proc.running, false)
  t.same(await proc.stop(1000), { code: 1, signal: null })
  t.notOk(existsSync(pidFile), 'stop() removes the pid file')
})
