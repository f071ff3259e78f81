import t from 'tap'
import { PlainServer } from '../../src/sasl/plain-server.ts'
import { PlainClient } from '../../src/sasl/plain-client.ts'
import { formatPlain, parsePlain } from '../../src/sasl/plain-messages.ts'
import { hashPassword, PasswordVerifier } from '../../src/sasl/password-hash.ts'
import type { SaslCredentials } from '../../src/sasl/sasl-credentials.ts'
import { ErrorCode } from '../../src/protocol/codec.ts'

const FAST = { N: 16384, r: 8, p: 1 }

t.test('messages: authzid NUL user NUL password', async t => {
  t.same(parsePlain(formatPlain('alice', 'pw')), { ok: true, message: { authzid: '', username: 'alice', password: 'pw' } })
  t.same(parsePlain(formatPlain('alice', 'pw', 'alice')), { ok: true, message: { authzid: 'alice', username: 'alice', password: 'pw' } })
  t.match(parsePlain(Buffer.from('alice')), { ok: false, reason: /got 1/ })
  t.match(parsePlain(Buffer.from('\0alice')), { ok: false, reason: /got 2/ })
  t.match(parsePlain(Buffer.from('\0alice\0pw\0more')), { ok: false, reason: /got more/ })
})

t.test('server: right password, wrong password, unknown user, authzid, empty fields', async t => {
  const alice = new PasswordVerifier(await hashPassword('s3cret', FAST))
  const credentials: SaslCredentials = { scram: () => undefined, plain: u => u === 'alice' ? alice : undefined }
  const run = async (token: Buffer): Promise<Awaited<ReturnType<PlainServer['evaluate']>>> => await new PlainServer(credentials).evaluate(token)

  const ok = await run(formatPlain('alice', 's3cret'))
  t.same(ok, { kind: 'complete', token: Buffer.alloc(0), user: 'alice' })
  t.same(await run(formatPlain('alice', 's3cret')), ok, 'again (the memo path)')
  for (const [token, message] of [
    [formatPlain('alice', 'Xyzzy9'), 'Authentication failed: Invalid username or password'],
    [formatPlain('bob', 's3cret'), 'Authentication failed: Invalid username or password'],
    [formatPlain('alice', 's3cret', 'bob'), 'Authentication failed: Client requested an authorization id that is different from username'],
    [formatPlain('', 's3cret'), 'Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN'],
    [formatPlain('alice', ''), 'Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN'],
    [Buffer.from('garbage'), 'Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN']
  ] as const) {
    const step = await run(token)
    t.equal(step.kind, 'failed')
    if (step.kind !== 'failed') continue
    t.equal(step.failure.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED)
    t.equal(step.failure.message, message)
    t.notMatch(step.failure.reason, /s3cret|Xyzzy9/, 'no password in the log reason')
  }
  const server = new PlainServer(credentials)
  const pending = server.evaluate(formatPlain('alice', 'nope'))
  t.match(await server.evaluate(formatPlain('alice', 's3cret')), { kind: 'failed', failure: { errorCode: ErrorCode.ILLEGAL_SASL_STATE } }, 'one token per exchange')
  t.equal((await pending).kind, 'failed')
})

t.test('client', async t => {
  const c = new PlainClient({ username: 'kproxy', password: 'pw' })
  t.same(await c.start(), { kind: 'send', token: formatPlain('kproxy', 'pw') })
  t.same(await c.evaluate(Buffer.alloc(0)), { kind: 'complete' })
  const d = new PlainClient({ username: 'kproxy', password: 'pw' })
  await d.start()
  t.match(await d.evaluate(Buffer.from('x')), { kind: 'failed' })
})
