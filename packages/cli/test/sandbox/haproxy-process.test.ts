import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHaproxyConfig, findHaproxy } from '../../src/sandbox/haproxy-process.ts'

t.test('a missing HAProxy is named with what to install', async t => {
  await t.rejects(findHaproxy({ ...process.env, KPROXY_HAPROXY: '/nonexistent/haproxy' }), {
    code: 'KPROXY_ERR_HAPROXY_MISSING',
    message: /HAProxy was not found \('\/nonexistent\/haproxy' did not run\); install it \(Debian: apt-get install haproxy/
  })
  t.equal(await findHaproxy(), 'haproxy', 'the one on PATH (scripts/setup.sh installs it)')
})

t.test('a configuration HAProxy refuses: its own alert, without the notices', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-haproxy-process-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'bad.cfg')
  writeFileSync(file, 'frontend x\n  bind 127.0.0.1:abc\n')
  const err = await checkHaproxyConfig('haproxy', file, process.env).catch((e: unknown) => e as Error & { code: string })
  t.equal(err?.code, 'KPROXY_ERR_SANDBOX_START')
  t.match(err?.message, /HAProxy refuses the generated configuration .*bad\.cfg:\n\[ALERT\].*invalid character 'a' in port number 'abc'/)
  t.notMatch(err?.message, /NOTICE/)
})
