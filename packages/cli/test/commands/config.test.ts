// `kproxy config schema` as a user runs it, and serve's flags as the schema defines them.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CONFIG_FLAGS } from '@kproxy/core/config/schema/config-keys'
import { serveCommand } from '../../src/commands/serve.ts'
import { kproxy } from '../helpers/run-kproxy.ts'

t.test('kproxy config schema prints the committed JSON Schema', async t => {
  const r = await kproxy('config', 'schema')
  t.equal(r.code, 0, r.stderr)
  const committed = readFileSync(fileURLToPath(new URL('../../../../docs/kproxy.schema.json', import.meta.url)), 'utf8')
  t.equal(r.stdout, committed)
  t.equal((JSON.parse(r.stdout) as { $schema: string }).$schema, 'http://json-schema.org/draft-07/schema#')
  const bad = await kproxy('config', 'nope')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /expected 'schema'/)
})

t.test("serve's usage lists every flag of the schema", async t => {
  for (const flag of CONFIG_FLAGS.keys()) t.match(serveCommand.usage, `--${flag} `, flag)
})
