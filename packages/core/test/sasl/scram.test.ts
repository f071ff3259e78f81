// SCRAM server and client against the RFC 7677 example exchange and against each other.
import t from 'tap'
import { ScramServer } from '../../src/sasl/scram-server.ts'
import { ScramClient } from '../../src/sasl/scram-client.ts'
import { clientProof, saltedPassword, scramCredential } from '../../src/sasl/scram-formulas.ts'
import type { ScramCredential } from '../../src/sasl/scram-formulas.ts'
import { SCRAM_MECHANISMS } from '../../src/sasl/sasl-mechanism.ts'
import type { ScramMechanismName } from '../../src/sasl/sasl-mechanism.ts'
import type { SaslCredentials } from '../../src/sasl/sasl-credentials.ts'
import type { SaslServerStep } from '../../src/sasl/sasl-server.ts'
import type { SaslClientStep } from '../../src/sasl/sasl-client.ts'
import { ErrorCode } from '../../src/protocol/codec.ts'

// RFC 7677 section 3
const RFC = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='
}
const RFC_SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')

function store (entries: Array<[ScramMechanismName, string, ScramCredential]>): SaslCredentials {
  return {
    scram: (mech, user) => entries.find(([m, u]) => m === mech && u === user)?.[2],
    plain: () => undefined
  }
}

const text = (step: SaslServerStep | SaslClientStep): string => {
  if (step.kind === 'challenge' || step.kind === 'send') return step.token.toString()
  if (step.kind === 'complete' && 'token' in step) return step.token.toString()
  throw new Error(`unexpected step ${JSON.stringify(step)}`)
}

t.test('RFC 7677 example: the server answers byte for byte', async t => {
  const credential = await scramCredential(SCRAM_MECHANISMS['SCRAM-SHA-256'], 'pencil', RFC_SALT, 4096)
  const server = new ScramServer('SCRAM-SHA-256', store([['SCRAM-SHA-256', 'user', credential]]), { serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' })
  t.equal(text(await server.evaluate(Buffer.from(RFC.clientFirst))), RFC.serverFirst)
  const done = await server.evaluate(Buffer.from(RFC.clientFinal))
  t.equal(done.kind, 'complete')
  t.equal(text(done), RFC.serverFinal)
  t.equal(done.kind === 'complete' && done.user, 'user')
  const again = await server.evaluate(Buffer.from(RFC.clientFinal))
  t.equal(again.kind === 'failed' && again.failure.errorCode, ErrorCode.ILLEGAL_SASL_STATE, 'no token after completion')
})

t.test('RFC 7677 example: the client sends byte for byte and checks the signature', async t => {
  const client = new ScramClient('SCRAM-SHA-256', { username: 'user', password: 'pencil' }, { nonce: 'rOprNGfwEbeRWgbNEkqO' })
  t.equal(text(await client.start()), RFC.clientFirst)
  t.equal(text(await client.evaluate(Buffer.from(RFC.serverFirst))), RFC.clientFinal)
  t.same(await client.evaluate(Buffer.from(RFC.serverFinal)), { kind: 'complete' })

  const forged = new ScramClient('SCRAM-SHA-256', { username: 'user', password: 'pencil' }, { nonce: 'rOprNGfwEbeRWgbNEkqO' })
  await forged.start()
  await forged.evaluate(Buffer.from(RFC.serverFirst))
  const bad = await forged.evaluate(Buffer.from('v=' + Buffer.alloc(32).toString('base64')))
  t.match(bad, { kind: 'failed', reason: /invalid server signature/ })
})

async function exchange (server: ScramServer, client: ScramClient): Promise<{ server: SaslServerStep, client: SaslClientStep }> {
  let out = await client.start()
  let serverStep: SaslServerStep = { kind: 'failed', failure: { errorCode: -1, message: '', reason: 'not started' } }
  while (out.kind === 'send') {
    serverStep = await server.evaluate(out.token)
    if (serverStep.kind === 'failed') return { server: serverStep, client: out }
    out = await client.evaluate(serverStep.token)
    if (serverStep.kind === 'complete') break
  }
  return { server: serverStep, client: out }
}

for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
  t.test(`${mech}: our client logs in to our server; wrong password and unknown user fail alike`, async t => {
    const salt = Buffer.from('0123456789abcdef0123')
    const credentials = store([[mech, 'a,li=ce', await scramCredential(SCRAM_MECHANISMS[mech], 'sécret', salt, 4096)]])
    const ok = await exchange(new ScramServer(mech, credentials), new ScramClient(mech, { username: 'a,li=ce', password: 'sécret' }))
    t.equal(ok.server.kind === 'complete' && ok.server.user, 'a,li=ce')
    t.same(ok.client, { kind: 'complete' })

    const wrong = await exchange(new ScramServer(mech, credentials), new ScramClient(mech, { username: 'a,li=ce', password: 'secret' }))
    const unknown = await exchange(new ScramServer(mech, credentials), new ScramClient(mech, { username: 'bob', password: 'sécret' }))
    for (const r of [wrong, unknown]) {
      t.equal(r.server.kind, 'failed')
      if (r.server.kind !== 'failed') continue
      t.equal(r.server.failure.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED)
      t.equal(r.server.failure.message, `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mech}`)
      t.notMatch(r.server.failure.reason, /sécret|secret/)
    }
    t.match(unknown.server.kind === 'failed' && unknown.server.failure.reason, /no .* credential for user 'bob'/, 'an unknown user fails at the proof, not before')
  })
}

t.test('the server refuses what Kafka refuses', async t => {
  const mech = 'SCRAM-SHA-256'
  const good = await scramCredential(SCRAM_MECHANISMS[mech], 'pw', Buffer.from('salt-salt-salt-salt'), 4096)
  const weak = await scramCredential(SCRAM_MECHANISMS[mech], 'pw', Buffer.from('salt-salt-salt-salt'), 1000)
  const credentials = store([[mech, 'alice', good], [mech, 'weak', weak]])
  const first = async (msg: string, phase?: 'authentication' | 're-authentication'): Promise<SaslServerStep> => await new ScramServer(mech, credentials, { phase }).evaluate(Buffer.from(msg))

  const authz = await first('n,a=bob,n=alice,r=abc')
  t.match(authz, { kind: 'failed', failure: { message: 'Authentication failed: Client requested an authorization id that is different from username' } })
  t.equal((await first('n,a=alice,n=alice,r=abc')).kind, 'challenge', 'the same authorization id is fine')
  const token = await first('n,,n=alice,r=abc,tokenauth=true')
  t.match(token, { kind: 'failed', failure: { reason: /delegation-token/ } })
  t.equal((await first('n,,n=alice,r=abc,tokenauth=false,future=1')).kind, 'challenge', 'other extensions are ignored')
  t.match(await first('n,,n=weak,r=abc'), { kind: 'failed', failure: { reason: /1000 iterations, less than the minimum 4096/ } })
  t.match(await first('garbage', 're-authentication'), { kind: 'failed', failure: { message: /during re-authentication/ } })

  const server = new ScramServer(mech, credentials)
  const challenge = await server.evaluate(Buffer.from('n,,n=alice,r=abc'))
  t.equal(challenge.kind, 'challenge')
  const nonce = /r=([^,]+)/.exec(challenge.kind === 'challenge' ? challenge.token.toString() : '')![1]!
  t.ok(nonce.startsWith('abc') && nonce.length > 20)
  const wrongNonce = await server.evaluate(Buffer.from(`c=biws,r=abcX,p=${Buffer.alloc(32).toString('base64')}`))
  t.match(wrongNonce, { kind: 'failed', failure: { reason: /nonce/ } })

  const s2 = new ScramServer(mech, credentials)
  const c2 = await s2.evaluate(Buffer.from('n,,n=alice,r=abc'))
  const n2 = /r=([^,]+)/.exec(c2.kind === 'challenge' ? c2.token.toString() : '')![1]!
  const binding = await s2.evaluate(Buffer.from(`c=${Buffer.from('y,,').toString('base64')},r=${n2},p=${Buffer.alloc(32).toString('base64')}`))
  t.match(binding, { kind: 'failed', failure: { reason: /channel binding/ } })
})

t.test('the client refuses a hostile server', async t => {
  const start = async (): Promise<ScramClient> => {
    const c = new ScramClient('SCRAM-SHA-512', { username: 'u', password: 'p' }, { nonce: 'cnonce' })
    await c.start()
    return c
  }
  t.match(await (await start()).evaluate(Buffer.from('r=other,s=AAAA,i=4096')), { kind: 'failed', reason: /nonce/ })
  t.match(await (await start()).evaluate(Buffer.from('r=cnonce,s=AAAA,i=4096')), { kind: 'failed', reason: /nonce/ }, 'the server must add to the nonce')
  t.match(await (await start()).evaluate(Buffer.from('r=cnonceX,s=AAAA,i=100')), { kind: 'failed', reason: /less than the minimum 4096/ })
  t.match(await (await start()).evaluate(Buffer.from('r=cnonceX,s=AAAA,i=2000000000')), { kind: 'failed', reason: /more than the maximum/ })
  const c = await start()
  t.equal((await c.evaluate(Buffer.from('r=cnonceX,s=AAAA,i=4096'))).kind, 'send')
  t.match(await c.evaluate(Buffer.from('e=invalid-proof')), { kind: 'failed', reason: /refused: invalid-proof/ })
  t.match(await c.evaluate(Buffer.from('v=AAAA')), { kind: 'failed', reason: /state failed/ })
})

t.test('librdkafka\'s final nonce (its client nonce again in front of the server\'s) is accepted, as Kafka does; a nonce without the server\'s is not', async t => {
  const mech = 'SCRAM-SHA-512'
  const params = SCRAM_MECHANISMS[mech]
  const salt = Buffer.from('salt-of-carol-1234')
  const credentials = store([[mech, 'carol', await scramCredential(params, 'pw-carol', salt, 4096)]])
  const salted = await saltedPassword(params, 'pw-carol', salt, 4096)
  const exchange = async (finalNonce: (cnonce: string, serverNonce: string) => string): Promise<SaslServerStep> => {
    const server = new ScramServer(mech, credentials)
    const cnonce = 'Z3/7TeDRnEUiLc^9XEflTAKtef\\vRfIw'
    const first = `n=carol,r=${cnonce}`
    const serverFirst = text(await server.evaluate(Buffer.from(`n,,${first}`)))
    const serverNonce = /r=([^,]+)/.exec(serverFirst)![1]!
    const withoutProof = `c=biws,r=${finalNonce(cnonce, serverNonce)}`
    const proof = clientProof(params, salted, `${first},${serverFirst},${withoutProof}`)
    return await server.evaluate(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`))
  }
  t.match(await exchange((_c, s) => s), { kind: 'complete', user: 'carol' }, 'RFC 5802: the server nonce')
  t.match(await exchange((c, s) => c + s), { kind: 'complete', user: 'carol' }, 'librdkafka: client nonce + server nonce')
  t.match(await exchange((c) => c), { kind: 'failed', failure: { reason: /nonce/ } }, 'the client nonce alone')
  t.match(await exchange((_c, s) => s + 'x'), { kind: 'failed', failure: { reason: /nonce/ } }, 'anything after the server nonce')
})
