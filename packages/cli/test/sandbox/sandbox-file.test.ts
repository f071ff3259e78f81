// sandbox.json is replaced atomically: a reader polling it as fast as it can never sees a part.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SANDBOX_FILE, SANDBOX_TEMP_FILE, writeSandboxFile } from '../../src/sandbox/sandbox-file.ts'

const dir = mkdtempSync(join(tmpdir(), 'kproxy-sandbox-file-test-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('written under a temporary name, then renamed', async t => {
  const path = await writeSandboxFile(dir, { bootstrap: '127.0.0.1:1' })
  t.equal(path, join(dir, SANDBOX_FILE))
  t.same(JSON.parse(readFileSync(path, 'utf8')), { bootstrap: '127.0.0.1:1' })
  t.same(readdirSync(dir), [SANDBOX_FILE], `no ${SANDBOX_TEMP_FILE} left behind`)
})

t.test('a reader never sees a partial file while it is rewritten', async t => {
  // ~1 MiB per version: a plain writeFile would be seen half-written by the reader
  const version = (n: number): object => ({ n, padding: 'x'.repeat(1 << 20) })
  let reads = 0
  let partial = 0
  let writing = true
  const reader = (async () => {
    while (writing) {
      if (existsSync(join(dir, SANDBOX_FILE))) {
        const text = readFileSync(join(dir, SANDBOX_FILE), 'utf8')
        reads++
        try {
          JSON.parse(text)
        } catch {
          partial++
        }
      }
      await new Promise(resolve => setImmediate(resolve))
    }
  })()
  for (let n = 0; n < 50; n++) await writeSandboxFile(dir, version(n))
  writing = false
  await reader
  t.ok(reads > 0, `the reader read ${reads} times`)
  t.equal(partial, 0, 'no read saw a partial file')
  t.equal((JSON.parse(readFileSync(join(dir, SANDBOX_FILE), 'utf8')) as { n: number }).n, 49)
})

t.test('a write that fails leaves no temporary file', async t => {
  await t.rejects(writeSandboxFile(join(dir, 'missing-subdir'), {}))
  t.notOk(existsSync(join(dir, 'missing-subdir', SANDBOX_TEMP_FILE)))
})
