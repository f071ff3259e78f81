import t from 'tap'
import { formatCredentialsFile, parseCredentialsFile } from '../../src/policy/credentials-file.ts'
import type { CredentialEntries } from '../../src/policy/credentials-file.ts'
import { CredentialSet, parseCredentialSet } from '../../src/policy/credential-set.ts'
import { setPassword } from '../../src/policy/credential-builder.ts'
import { PlainServer } from '../../src/sasl/plain-server.ts'
import { scramLogin } from '../sasl/scram-login.ts'
import { formatPlain } from '../../src/sasl/plain-messages.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'

const FAST = { scrypt: { N: 16384, r: 8, p: 1 } }

async function sample (): Promise<CredentialEntries> {
  const entries: CredentialEntries = new Map()
  const alice = { scram: {} }
  await setPassword(alice, ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'], 'alice-pw', FAST)
  entries.set('alice', alice)
  const odd = { scram: {} }
  await setPassword(odd, ['SCRAM-SHA-256'], 'odd-pw', { iterations: 8192 })
  entries.set('svc: "x", y=z', odd)
  return entries
}

t.test('written and read back: same verifiers, no password anywhere', async t => {
  const entries = await sample()
  const text = formatCredentialsFile(entries)
  t.notMatch(text, /alice-pw|odd-pw/)
  t.match(text, /^version: 1$/m)
  const back = parseCredentialsFile(text, '/etc/kproxy/users.yaml')
  t.same([...back.keys()].sort(), ['alice', 'svc: "x", y=z'])
  t.same(back.get('alice')!.scram['SCRAM-SHA-512']!.storedKey, entries.get('alice')!.scram['SCRAM-SHA-512']!.storedKey)
  t.equal(back.get('svc: "x", y=z')!.scram['SCRAM-SHA-256']!.iterations, 8192)
  t.same(back.get('alice')!.plain!.hash, entries.get('alice')!.plain!.hash)
  t.equal(formatCredentialsFile(back), text, 'stable output')

  const set = new CredentialSet(back)
  t.same(set.list(), [{ name: 'alice', mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] }, { name: 'svc: "x", y=z', mechanisms: ['SCRAM-SHA-256'] }])
  t.same(await new PlainServer(set).evaluate(formatPlain('alice', 'alice-pw')), { kind: 'complete', token: Buffer.alloc(0), user: 'alice' })
  t.equal(await scramLogin(set, 'alice', 'alice-pw'), 'complete', 'a SCRAM login against the file read back')
  t.equal(parseCredentialSet('version: 1\nusers: {}\n', 'x').size, 0)
  t.equal(parseCredentialsFile('', 'x').size, 0, 'an empty file holds no users')
})

t.test('a bad file: one coded error listing every problem with file, line and what is allowed', async t => {
  const good = formatCredentialsFile(await sample())
  const cases: Array<[string, RegExp[]]> = [
    ['version: 2\nusers: {}\n', [/users\.yaml:1:10: version: got 2; allowed: 1/]],
    ['version: 1\nusers:\n  bob:\n    SCRAM-SHA-1: { salt: AAAA }\n', [/users\.yaml:4:5: users\.bob\.SCRAM-SHA-1: unknown mechanism 'SCRAM-SHA-1'; allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/]],
    ['version: 1\nusers:\n  bob:\n    SCRAM-SHA-256: { salt: AAAA, iterations: 100, storedKey: AAAA, serverKey: AAAA }\n', [
      /:4:46: users\.bob\.SCRAM-SHA-256\.iterations: got 100; allowed: a whole number from 4096/,
      /storedKey: expected 32 bytes, got 3/,
      /serverKey: expected 32 bytes, got 3/
    ]],
    ['version: 1\nusers:\n  bob:\n    PLAIN: { kdf: bcrypt, N: 3, r: 8, p: 1, salt: "!!", hash: AAAA, extra: 1 }\n', [/kdf: got 'bcrypt'; allowed: scrypt/, /salt: expected base64/, /extra: unknown key 'extra'/]],
    ['version: 1\nusers:\n  bob:\n    PLAIN: { kdf: scrypt, N: 1024, r: 8, p: 1, salt: AAAAAAAAAAAAAAAAAAAAAA==, hash: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= }\n', [/users\.bob\.PLAIN: N must be a power of two from 2\^14/]],
    ['version: 1\nusers:\n  "b\\u00f6b":\n    SCRAM-SHA-256: { salt: AAAA, iterations: 4096, storedKey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=, serverKey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= }\n', [/users\.böb: a SCRAM user name must be 7-bit ASCII/]],
    ['version: 1\nusers:\n  bob: {}\n', [/users\.bob: expected a mapping of mechanism/]],
    ['version: 1\nusers: [a]\nextra: 1\n', [/:2:8: users: expected a mapping/, /:3:1: extra: unknown key/]],
    ['version: 1\nusers:\n  a: 1\n  a: 2\n', [/users\.yaml:4:3: Map keys must be unique/]],
    ['version: 1\nusers: {\n', [/users\.yaml:\d+:\d+: /]],
    [good.replace('users:', 'users:\n  x: [\n'), [/users\.yaml:/]]
  ]
  for (const [text, patterns] of cases) {
    try {
      parseCredentialsFile(text, 'users.yaml')
      t.fail(`accepted: ${text}`)
    } catch (err) {
      t.ok(isKproxyError(err, 'KPROXY_ERR_CREDENTIALS_FILE'), (err as Error).message)
      for (const p of patterns) t.match((err as Error).message, p)
      t.equal((err as { errors: string[] }).errors.length >= patterns.length, true)
    }
  }
})
