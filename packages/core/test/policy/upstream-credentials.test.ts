import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { upstreamCredentials } from '../../src/policy/upstream-credentials.ts'
import { watchCredentials } from '../../src/policy/credential-set.ts'

t.test('from a file or the environment; missing or empty is a coded error naming where, never the value', async t => {
  const dir = t.testdir()
  const file = join(dir, 'pw')
  writeFileSync(file, 's3cret\n')
  t.same(upstreamCredentials({ mechanism: 'PLAIN', username: 'kproxy', passwordFile: file, passwordEnv: null }), { username: 'kproxy', password: 's3cret' })
  t.same(upstreamCredentials({ mechanism: 'PLAIN', username: 'kproxy', passwordFile: null, passwordEnv: 'PW' }, { PW: 'x' }), { username: 'kproxy', password: 'x' })
  t.throws(() => upstreamCredentials({ mechanism: 'PLAIN', username: 'kproxy', passwordFile: null, passwordEnv: 'PW' }, {}), { code: 'KPROXY_ERR_UPSTREAM_PASSWORD', message: /environment variable PW/ })
  t.throws(() => upstreamCredentials({ mechanism: 'PLAIN', username: 'kproxy', passwordFile: join(dir, 'nope'), passwordEnv: null }), { code: 'KPROXY_ERR_UPSTREAM_PASSWORD', message: /ENOENT/ })
})

t.test('the credentials watcher hands out new sets and keeps the running one on a bad file', async t => {
  const dir = t.testdir()
  const file = join(dir, 'users.yaml')
  writeFileSync(file, 'version: 1\nusers: {}\n')
  const errors: string[] = []
  const w = watchCredentials(file, { onError: e => errors.push(e.code) })
  t.teardown(() => w.close())
  t.equal(w.current.size, 0)
  writeFileSync(file, 'version: 7\n')
  t.equal(await w.reload(), false)
  t.same(errors, ['KPROXY_ERR_CREDENTIALS_FILE'])
  t.equal(w.version, 1)
})
