import t from 'tap'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CredentialSet, watchCredentials } from '../../src/policy/credential-set.ts'
import { setPassword } from '../../src/policy/credential-builder.ts'
import { formatCredentialsFile } from '../../src/policy/credentials-file.ts'
import type { CredentialEntries } from '../../src/policy/credentials-file.ts'
import type { SaslMechanismName } from '../../src/sasl/sasl-mechanism.ts'
import { PlainServer } from '../../src/sasl/plain-server.ts'
import { formatPlain } from '../../src/sasl/plain-messages.ts'
import { scramLogin } from '../sasl/scram-login.ts'
import type { SaslCredentials } from '../../src/sasl/sasl-credentials.ts'

const FAST = { scrypt: { N: 16384, r: 8, p: 1 } }
const BOTH: SaslMechanismName[] = ['PLAIN', 'SCRAM-SHA-512']

async function entries (users: Record<string, string>): Promise<CredentialEntries> {
  const out: CredentialEntries = new Map()
  for (const [name, password] of Object.entries(users)) {
    const entry = { scram: {} }
    await setPassword(entry, BOTH, password, FAST)
    out.set(name, entry)
  }
  return out
}

// as `kproxy users` writes it: a temporary file renamed over the old one
function replace (file: string, users: CredentialEntries): void {
  writeFileSync(`${file}.tmp`, formatCredentialsFile(users))
  renameSync(`${file}.tmp`, file)
}

// a SCRAM-SHA-512 login against the set worked
async function scramOk (set: SaslCredentials, username: string, password: string): Promise<boolean> {
  return await scramLogin(set, username, password) === 'complete'
}

async function plainLogin (set: SaslCredentials, username: string, password: string): Promise<boolean> {
  return (await new PlainServer(set).evaluate(formatPlain(username, password))).kind === 'complete'
}

t.test('a changed valid file replaces the set, found by the poll: a new user is in, a removed one is out, a changed password is the only one', async t => {
  const dir = t.testdir()
  const file = join(dir, 'users.yaml')
  replace(file, await entries({ alice: 'alice-1', bob: 'bob-1' }))
  const changes: Array<{ set: CredentialSet, version: number }> = []
  const errors: string[] = []
  const w = watchCredentials(file, { onChange: (set, version) => changes.push({ set, version }), onError: e => errors.push(e.code) })
  t.teardown(() => w.close())
  const first = w.current
  t.same(first.list().map(u => u.name), ['alice', 'bob'])
  t.ok(await scramOk(first, 'bob', 'bob-1'), 'bob logs in before the change')
  t.ok(await plainLogin(first, 'alice', 'alice-1'), 'alice (PLAIN) before the change; the verifier remembers the password')

  replace(file, await entries({ alice: 'alice-2', carol: 'carol-1' }))
  // no reload() call: the watcher's own poll (every second) finds the new version
  const deadline = Date.now() + 10_000
  while (changes.length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  t.same(errors, [])
  t.equal(changes.length, 1, 'one change reported')
  t.equal(changes[0]?.version, 2)
  t.equal(w.version, 2)
  const next = w.current
  t.equal(changes[0]?.set, next, 'onChange hands out the set now current')
  t.not(next, first, 'a new set, not the old one edited')
  t.same(next.list().map(u => u.name), ['alice', 'carol'])

  t.ok(await scramOk(next, 'carol', 'carol-1'), 'SCRAM-SHA-512: the new user logs in')
  t.ok(await plainLogin(next, 'carol', 'carol-1'), 'PLAIN: the new user logs in')
  t.equal(next.scram('SCRAM-SHA-512', 'bob'), undefined, 'the removed user has no SCRAM credential')
  t.equal(next.plain('bob'), undefined, 'nor a PLAIN one')
  t.notOk(await scramOk(next, 'bob', 'bob-1'), 'the removed user is refused')
  t.notOk(await plainLogin(next, 'bob', 'bob-1'), 'the removed user is refused (PLAIN)')
  t.notOk(await scramOk(next, 'alice', 'alice-1'), 'SCRAM: the old password of a changed user is refused')
  t.notOk(await plainLogin(next, 'alice', 'alice-1'), 'PLAIN: the old password is refused (the old verifier\'s memory is gone)')
  t.ok(await scramOk(next, 'alice', 'alice-2'), 'the new password works')

  t.ok(await scramOk(first, 'bob', 'bob-1'), 'the set an exchange started with is unchanged')
  t.equal(await w.reload(), false, 'the same content again is no change')
  t.equal(w.version, 2)
})
