import t from 'tap'
import {
  formatClientFirst, parseClientFinal, parseClientFirst, parseServerFinal, parseServerFirst, saslNameToUsername, usernameToSaslName
} from '../../src/sasl/scram-messages.ts'

t.test('client-first: user, nonce, authzid and extensions, bare part as received', async t => {
  const plain = parseClientFirst('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')
  t.ok(plain.ok)
  if (plain.ok) {
    t.equal(plain.message.username, 'user')
    t.equal(plain.message.nonce, 'rOprNGfwEbeRWgbNEkqO')
    t.equal(plain.message.authzid, '')
    t.equal(plain.message.bare, 'n=user,r=rOprNGfwEbeRWgbNEkqO')
    t.equal(plain.message.extensions.size, 0)
  }
  const full = parseClientFirst('n,a=alice,n=alice,r=abc,tokenauth=true,other=x=y')
  t.ok(full.ok)
  if (full.ok) {
    t.equal(full.message.authzid, 'alice')
    t.same([...full.message.extensions], [['tokenauth', 'true'], ['other', 'x=y']])
    t.equal(full.message.bare, 'n=alice,r=abc,tokenauth=true,other=x=y')
  }
})

t.test("usernames: ',' and '=' travel as =2C and =3D, both ways", async t => {
  t.equal(usernameToSaslName('a,b=c'), 'a=2Cb=3Dc')
  t.equal(saslNameToUsername('a=2Cb=3Dc'), 'a,b=c')
  t.equal(saslNameToUsername('=3D2C'), '=2C', 'one pass: an unescaped result is not unescaped again')
  const m = parseClientFirst('n,,n=a=2Cb=3Dc,r=n1')
  t.ok(m.ok && m.message.username === 'a,b=c')
  t.equal(formatClientFirst('a,b=c', 'n1').text, 'n,,n=a=2Cb=3Dc,r=n1')
})

t.test('client-first: what Kafka refuses is refused', async t => {
  const bad = [
    '', 'n,,n=user', 'n,,r=abc', 'y,,n=user,r=abc', 'p=tls-unique,,n=user,r=abc', 'n,,n=us=er,r=abc', 'n,,n=us=2,r=abc',
    'n,,n=,r=abc', 'n,,n=user,r=', 'n,,n=user,r=a,b', 'n,,n=üser,r=abc', 'n,,n=user,r=abc,1x=y', 'n,,n=user,r=abc,ext',
    'n,,n=user,r=ab c', 'n,,m=ext,n=user,r=abc', 'n,,n=user,r=abc\n'
  ]
  for (const text of bad) {
    const m = parseClientFirst(text)
    t.notOk(m.ok, JSON.stringify(text))
    if (!m.ok) t.notMatch(m.reason, /user|abc/, 'the reason does not echo the input')
  }
  const reserved = parseClientFirst('n,,m=ext,n=user,r=abc')
  t.match(!reserved.ok && reserved.reason, /reserved 'm='/)
})

t.test('server-first, client-final, server-final', async t => {
  const sf = parseServerFirst('r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')
  t.ok(sf.ok)
  if (sf.ok) {
    t.equal(sf.message.iterations, 4096)
    t.equal(sf.message.salt.toString('hex'), Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64').toString('hex'))
  }
  t.notOk(parseServerFirst('r=abc,s=!!,i=4096').ok)
  t.notOk(parseServerFirst('r=abc,s=AAAA,i=0').ok)
  t.notOk(parseServerFirst('r=abc,s=AAAA,i=99999999999').ok)
  t.notOk(parseServerFirst('r=abc,s=AAAA').ok)

  const cf = parseClientFinal('c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')
  t.ok(cf.ok)
  if (cf.ok) {
    t.equal(cf.message.withoutProof, 'c=biws,r=abc')
    t.equal(cf.message.channelBinding.toString(), 'n,,')
    t.equal(cf.message.proof.length, 32)
  }
  t.notOk(parseClientFinal('c=biws,r=abc').ok)
  t.notOk(parseClientFinal('r=abc,p=AAAA').ok)

  const v = parseServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')
  t.ok(v.ok && v.message.kind === 'signature')
  const e = parseServerFinal('e=invalid-proof')
  t.ok(e.ok && e.message.kind === 'error' && e.message.error === 'invalid-proof')
  t.notOk(parseServerFinal('x=1').ok)
})
