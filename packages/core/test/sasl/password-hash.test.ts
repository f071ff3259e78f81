import t from 'tap'
import { checkScryptParameters, DEFAULT_SCRYPT, hashPassword, passwordMatches, PasswordVerifier } from '../../src/sasl/password-hash.ts'

t.test('hash and verify; salted (two hashes of one password differ)', async t => {
  const a = await hashPassword('pässword')
  const b = await hashPassword('pässword')
  t.match(a, { kdf: 'scrypt', ...DEFAULT_SCRYPT })
  t.not(a.salt.toString('hex'), b.salt.toString('hex'))
  t.not(a.hash.toString('hex'), b.hash.toString('hex'))
  t.ok(await passwordMatches(a, 'pässword'))
  t.notOk(await passwordMatches(a, 'password'))
  t.equal(checkScryptParameters(a), null)
})

t.test('parameters outside the limits are named', async t => {
  const base = { N: 16384, r: 8, p: 1, salt: Buffer.alloc(16), hash: Buffer.alloc(32) }
  t.match(checkScryptParameters({ ...base, N: 1000 }), /power of two/)
  t.match(checkScryptParameters({ ...base, N: 2 ** 24 }), /power of two/)
  t.match(checkScryptParameters({ ...base, r: 0 }), /r must/)
  t.match(checkScryptParameters({ ...base, p: 99 }), /p must/)
  t.match(checkScryptParameters({ ...base, salt: Buffer.alloc(4) }), /salt/)
  t.match(checkScryptParameters({ ...base, hash: Buffer.alloc(8) }), /hash/)
})

t.test('a verifier remembers the accepted password, and only that one', async t => {
  const v = new PasswordVerifier(await hashPassword('right', { N: 16384, r: 8, p: 1 }))
  t.notOk(await v.verify('wrong'))
  t.ok(await v.verify('right'))
  t.ok(await v.verify('right'), 'again, from the memo')
  t.notOk(await v.verify('wrong'))
})
