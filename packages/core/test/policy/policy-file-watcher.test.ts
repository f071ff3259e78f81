import t from 'tap'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadPolicyFile, watchPolicyFile } from '../../src/policy/policy-file-watcher.ts'
import { KproxyError } from '../../src/kproxy-error.ts'

const parse = (text: string, file: string): number => {
  const n = Number(text.trim())
  if (!Number.isInteger(n)) throw new KproxyError('KPROXY_ERR_POLICY_FILE_READ', `${file}:1:1: not a whole number`)
  return n
}

async function until (cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

t.test('load: a missing file is a coded error', async t => {
  t.throws(() => loadPolicyFile(join(t.testdir(), 'nope.yaml'), parse), { code: 'KPROXY_ERR_POLICY_FILE_READ', message: /ENOENT/ })
})

t.test('a rename-replaced file is picked up; a bad version keeps the running value; the next good one wins', async t => {
  const dir = t.testdir()
  const file = join(dir, 'n.txt')
  writeFileSync(file, '1\n')
  const changes: number[] = []
  const errors: string[] = []
  const w = watchPolicyFile({ path: file, parse, intervalMs: 50, onChange: v => changes.push(v), onError: e => errors.push(e.code) })
  t.teardown(() => w.close())
  t.equal(w.current, 1)
  t.equal(w.version, 1)

  writeFileSync(join(dir, 'tmp'), '2\n')
  renameSync(join(dir, 'tmp'), file)
  await until(() => w.current === 2)
  t.equal(w.version, 2)

  writeFileSync(file, 'two\n')
  await until(() => errors.length === 1)
  t.equal(w.current, 2, 'the running value stays')
  t.same(errors, ['KPROXY_ERR_POLICY_FILE_READ'], 'the parser\'s own error')

  rmSync(file)
  await until(() => errors.length === 2)
  t.equal(errors[1], 'KPROXY_ERR_POLICY_FILE_READ')
  t.equal(w.current, 2)

  writeFileSync(file, '3\n')
  t.equal(await w.reload(), true, 'reload() reads now')
  t.equal(w.current, 3)
  t.equal(await w.reload(), false, 'same content: no change')
  t.same(changes, [2, 3])
  t.equal(w.version, 3)
})

t.test('changes written right after the watcher starts, and of the same size in the same instant, are seen', async t => {
  const file = join(t.testdir(), 'n.txt')
  writeFileSync(file, '1\n')
  const changes: number[] = []
  const w = watchPolicyFile({ path: file, parse, intervalMs: 20, onChange: v => changes.push(v) })
  t.teardown(() => w.close())
  // before anything asynchronous could run: a watcher that takes its first look later would
  // count this content as the starting point and never report it (fs.watchFile did, in CI on a
  // loaded machine; on a quiet one its first stat usually wins the race, so this test passed
  // with it too and guards the behaviour rather than reproducing that failure)
  writeFileSync(file, '2\n')
  await until(() => w.current === 2)
  // same length, written at once: a stat-based watcher can see the same size and mtime
  writeFileSync(file, '3\n')
  writeFileSync(file, '4\n')
  await until(() => w.current === 4)
  t.equal(changes.at(-1), 4)
  t.ok(changes.every((v, i) => i === 0 || v > changes[i - 1]!), `in order: ${changes.join(', ')}`)
})
