import t from 'tap'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CERT_MODE, KEY_MODE, makeOutputDir, refuseExisting, writeAllOrNothing } from '../../src/certs/output-files.ts'

t.test('writes every file with its mode and leaves no temporary files', async t => {
  const dir = t.testdir()
  const old = process.umask(0o077)
  t.teardown(() => { process.umask(old) })
  const written = await writeAllOrNothing([
    { path: join(dir, 'x.key'), content: 'KEY', mode: KEY_MODE },
    { path: join(dir, 'x.crt'), content: 'CERT', mode: CERT_MODE }
  ], false)
  t.same(written, [join(dir, 'x.key'), join(dir, 'x.crt')])
  t.equal(readFileSync(join(dir, 'x.key'), 'utf8'), 'KEY')
  t.equal(statSync(join(dir, 'x.key')).mode & 0o777, 0o600)
  // Despite the umask 077 the certificate is readable by everyone.
  t.equal(statSync(join(dir, 'x.crt')).mode & 0o777, 0o644)
  t.same(readdirSync(dir).sort(), ['x.crt', 'x.key'])
})

t.test('refuses an existing file, naming it, unless forced', async t => {
  const dir = t.testdir({ 'x.crt': 'OLD' })
  const files = [{ path: join(dir, 'y.key'), content: 'NEW KEY', mode: KEY_MODE }, { path: join(dir, 'x.crt'), content: 'NEW', mode: CERT_MODE }]
  await t.rejects(writeAllOrNothing(files, false), { code: 'KPROXY_ERR_CERTS_EXISTS', message: `${join(dir, 'x.crt')} already exists; pass --force to overwrite it.` })
  t.equal(readFileSync(join(dir, 'x.crt'), 'utf8'), 'OLD')
  t.notOk(existsSync(join(dir, 'y.key')), 'nothing of the batch was written')
  await t.rejects(refuseExisting([{ path: join(dir, 'x.crt'), mode: CERT_MODE }], false), { code: 'KPROXY_ERR_CERTS_EXISTS' }, 'unknown content counts as different')
  await writeAllOrNothing(files, true)
  t.equal(readFileSync(join(dir, 'x.crt'), 'utf8'), 'NEW')
  t.equal(readFileSync(join(dir, 'y.key'), 'utf8'), 'NEW KEY')
})

t.test('a file that already holds the same content is not an overwrite', async t => {
  const dir = t.testdir({ 'ca.crt': 'SAME' })
  await refuseExisting([{ path: join(dir, 'ca.crt'), content: 'SAME', mode: CERT_MODE }], false)
  t.same(await writeAllOrNothing([{ path: join(dir, 'ca.crt'), content: 'SAME', mode: CERT_MODE }], false), [join(dir, 'ca.crt')])
})

t.test('a directory in the way counts as existing', async t => {
  const dir = t.testdir({ 'x.crt': {} })
  await t.rejects(refuseExisting([{ path: join(dir, 'x.crt'), content: 'X', mode: CERT_MODE }], false), { code: 'KPROXY_ERR_CERTS_EXISTS' })
})

t.test('a failure part-way (rename onto a directory) cleans up its temporary files', async t => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'b.crt'))
  writeFileSync(join(dir, 'b.crt', 'inside'), 'x')
  await t.rejects(writeAllOrNothing([
    { path: join(dir, 'b.crt'), content: 'B', mode: CERT_MODE },
    { path: join(dir, 'c.crt'), content: 'C', mode: CERT_MODE }
  ], true), { code: 'KPROXY_ERR_CERTS_WRITE', message: /nothing was written/ })
  t.same(readdirSync(dir), ['b.crt'], 'no temporary files, c.crt not written')
})

t.test('makeOutputDir: a file in the way is a coded error', async t => {
  const dir = t.testdir({ file: 'x' })
  await makeOutputDir(join(dir, 'new', 'deeper'))
  t.ok(statSync(join(dir, 'new', 'deeper')).isDirectory())
  await t.rejects(makeOutputDir(join(dir, 'file')), { code: 'KPROXY_ERR_CERTS_WRITE' })
})
