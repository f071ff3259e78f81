import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { AclState } from '../../src/policy/acl-state.ts'
import { section } from './acl-test-kit.ts'

function logged (): { logger: pino.Logger, lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = []
  return { logger: pino({ level: 'debug' }, { write (s: string) { lines.push(JSON.parse(s)) } }), lines }
}

const RULES = 'rules:\n  - allow: [Write]\n    principal: User:alice\n    topic: orders\n    partitions: [0-3]\n'

t.test('inline rules and a rules file together; the file is reloaded live; a bad file is refused whole with file:line, the running rules stay', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-acl-'))
  const file = join(dir, 'acl.yaml')
  writeFileSync(file, RULES)
  const { logger, lines } = logged()
  const state = new AclState(logger)
  t.teardown(() => state.close())
  state.apply(section({ rulesFile: 'acl.yaml', rules: [{ allow: ['Read'], principal: 'User:bob', topic: 'orders' }] }, dir), true)
  const first = state.authorizer!
  t.equal(first.authorize('User:alice', 'Write', 'topic', 'orders', 2).allowed, true)
  t.equal(first.authorize('User:bob', 'Read', 'topic', 'orders', 5).allowed, true, 'the inline rule')
  t.equal(first.authorize('User:alice', 'Write', 'topic', 'orders', 4).allowed, false)

  writeFileSync(file, RULES.replace('0-3', '0-7'))
  state.apply(section({ rulesFile: 'acl.yaml', rules: [{ allow: ['Read'], principal: 'User:bob', topic: 'orders' }] }, dir))
  await new Promise(resolve => setTimeout(resolve, 100))
  const second = state.authorizer!
  t.not(second, first, 'a new authorizer')
  t.ok(second.version > first.version)
  t.equal(second.authorize('User:alice', 'Write', 'topic', 'orders', 4).allowed, true)

  writeFileSync(file, RULES + '  - allow: [Wrtie]\n    principal: User:bob\n    topic: x\n')
  state.apply(section({ rulesFile: 'acl.yaml', rules: [{ allow: ['Read'], principal: 'User:bob', topic: 'orders' }] }, dir))
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(state.authorizer, second, 'the running rules stay')
  const error = lines.find(l => l.code === 'KPROXY_ERR_ACL_RULES')
  t.ok(error, 'logged with its code')
  t.match(error!.err, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:13`), 'with file:line:column')
  t.match(error!.err, /Wrtie/)
})

t.test('a bad rules file at start stops the start; no policy.acl means no authorizer', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-acl-'))
  writeFileSync(join(dir, 'acl.yaml'), 'rules: [ {')
  const state = new AclState(logged().logger)
  t.throws(() => state.apply(section({ rulesFile: 'acl.yaml' }, dir), true), { code: 'KPROXY_ERR_ACL_RULES' })
  state.apply({ file: null, baseDir: '.' }, true)
  t.equal(state.authorizer, null)
  t.equal(state.enabled, false)
})
