// SASL termination on a session: kproxy answers the exchange itself with the core state machines
// (real SCRAM and PLAIN clients here), nothing but ApiVersions passes before authentication,
// KIP-368 re-authentication keeps the principal, and a v0 handshake cannot turn the connection
// into a relay that skips the stage.
import t from 'tap'
import pino from 'pino'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import { CredentialSet } from '@kproxy/core/policy/credential-set'
import type { UserCredentials } from '@kproxy/core/policy/credentials-file'
import { setPassword } from '@kproxy/core/policy/credential-builder'
import { createSaslClient } from '@kproxy/core/sasl/sasl-factory'
import type { SaslMechanismName } from '@kproxy/core/sasl/sasl-mechanism'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { SaslTermination } from '../../src/policy/sasl-termination.ts'
import type { SaslPolicyConfig } from '@kproxy/core/policy/policy-config'
import { decoded, harness, request, tick } from '../session/session-harness.ts'
import type { Harness } from '../session/session-harness.ts'

const FAST_SCRYPT = { N: 16384, r: 8, p: 1 }

async function credentials (): Promise<CredentialSet> {
  const entries = new Map<string, UserCredentials>()
  for (const [name, password] of [['alice', 'alice-secret'], ['bob', 'bob-secret']] as const) {
    const entry: UserCredentials = { scram: {} }
    await setPassword(entry, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], password, { scrypt: FAST_SCRYPT })
    entries.set(name, entry)
  }
  return new CredentialSet(entries)
}

const creds = await credentials()

function termination (overrides: Partial<SaslPolicyConfig> = {}, metrics = new MetricsRegistry()): SaslTermination {
  const config: SaslPolicyConfig = { mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], credentialsFile: '/nonexistent', maxReauthMs: null, upstream: null, ...overrides }
  return new SaslTermination({ config, logger: pino({ level: 'silent' }), metrics, credentials: creds })
}

function handshake (version: number, correlationId: number, mechanism: string): Buffer[] {
  return request(ApiKey.SaslHandshake, version, correlationId, { mechanism })
}

function authenticate (version: number, correlationId: number, token: Buffer): Buffer[] {
  return request(ApiKey.SaslAuthenticate, version, correlationId, { authBytes: token })
}

// waits until the session wrote `n` responses (a PLAIN check runs on the thread pool)
async function responses (h: Harness, n: number): Promise<Buffer[]> {
  for (let i = 0; i < 500 && h.socket.responses().length < n && !h.socket.destroyed; i++) await new Promise(resolve => setTimeout(resolve, 5))
  return h.socket.responses()
}

// A full v1 exchange with a real client; returns the last SaslAuthenticate response body.
async function login (h: Harness, mechanism: SaslMechanismName, username: string, password: string, opts: { authVersion?: number, firstId?: number } = {}): Promise<any> {
  const v = opts.authVersion ?? 2
  let id = opts.firstId ?? 1
  const before = h.socket.responses().length
  h.socket.send(handshake(1, id++, mechanism))
  let got = await responses(h, before + 1)
  const hs = decoded(got[before]!, ApiKey.SaslHandshake, 1).body
  if (hs.errorCode !== 0) return { errorCode: hs.errorCode, handshake: true }
  const client = createSaslClient(mechanism, { username, password })
  let step = await client.start()
  let n = before + 1
  for (;;) {
    if (step.kind !== 'send') throw new Error(`client: ${JSON.stringify(step)}`)
    h.socket.send(authenticate(v, id++, step.token))
    got = await responses(h, ++n)
    if (got.length < n) return { errorCode: -1, closed: h.socket.destroyed || h.socket.ended }
    const body = decoded(got[n - 1]!, ApiKey.SaslAuthenticate, v).body
    if (body.errorCode !== 0) return body
    step = await client.evaluate(body.authBytes)
    if (step.kind === 'complete') return body
    if (step.kind === 'failed') throw new Error(step.reason)
  }
}

for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
  t.test(`${mechanism}: kproxy authenticates the client; the principal is set; requests then go upstream`, async t => {
    const metrics = new MetricsRegistry()
    const h = harness({ sasl: termination({}, metrics) })
    const body = await login(h, mechanism, 'alice', 'alice-secret')
    t.equal(body.errorCode, 0)
    t.equal(h.session.context.principal, 'User:alice')
    t.equal(h.route.forwarded.length, 0, 'nothing of the exchange reached the broker')
    h.socket.send(request(ApiKey.Metadata, 12, 50))
    t.equal(h.route.forwarded.length, 1, 'the first request after authentication is forwarded')
    t.same(metrics.snapshot().sasl, [[mechanism, 'authenticated', 1]])
  })

  t.test(`${mechanism}: a wrong password gets SASL_AUTHENTICATION_FAILED and the connection closes`, async t => {
    const metrics = new MetricsRegistry()
    const h = harness({ sasl: termination({}, metrics) })
    const body = await login(h, mechanism, 'alice', 'wrong')
    t.equal(body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED)
    t.match(body.errorMessage, mechanism === 'PLAIN' ? 'Invalid username or password' : `invalid credentials with SASL mechanism ${mechanism}`)
    t.notOk(String(body.errorMessage).includes('wrong'), 'the password is not echoed')
    t.ok(h.socket.ended || h.socket.destroyed, 'closed after the answer')
    t.equal(h.session.context.principal, 'ANONYMOUS')
    t.equal(h.route.forwarded.length, 0)
    t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_SASL_AUTHENTICATION'), 'the log names the failure')
    t.notOk(JSON.stringify(h.logs).includes('"wrong"'), 'no password in the logs')
    t.same(metrics.snapshot().sasl, [[mechanism, 'failed', 1]])
  })
}

t.test('an unknown user fails like a wrong password (SCRAM)', async t => {
  const h = harness({ sasl: termination() })
  const body = await login(h, 'SCRAM-SHA-512', 'mallory', 'x')
  t.equal(body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED)
  t.equal(body.errorMessage, 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512')
})

t.test('ApiVersions passes before authentication; any other request closes the connection and never reaches the broker', async t => {
  for (const [apiKey, version] of [[ApiKey.Metadata, 12], [ApiKey.Produce, 9], [ApiKey.Fetch, 16], [ApiKey.FindCoordinator, 4], [ApiKey.CreateTopics, 7]] as const) {
    const metrics = new MetricsRegistry()
    const h = harness({ sasl: termination({}, metrics) })
    h.socket.send(request(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }))
    t.equal(h.route.forwarded.length, 1, 'ApiVersions is forwarded')
    h.socket.send(request(apiKey, version, 2))
    t.equal(h.route.forwarded.length, 1, `${getApi(apiKey).name} is not forwarded`)
    t.ok(h.socket.destroyed, 'the connection is closed')
    t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_SASL_REQUIRED'))
    t.same(metrics.snapshot().sasl, [['none', 'refused_before_auth', 1]])
  }
})

t.test('a request sent after the handshake but before the exchange finished is refused', async t => {
  const h = harness({ sasl: termination() })
  h.socket.send(handshake(1, 1, 'SCRAM-SHA-256'))
  await responses(h, 1)
  h.socket.send(request(ApiKey.Metadata, 12, 2))
  t.ok(h.socket.destroyed)
  t.equal(h.route.forwarded.length, 0)
})

t.test('a request pipelined behind a PLAIN token is refused while the token is checked', async t => {
  const h = harness({ sasl: termination() })
  h.socket.send(handshake(1, 1, 'PLAIN'))
  await responses(h, 1)
  const client = createSaslClient('PLAIN', { username: 'alice', password: 'alice-secret' })
  const step = await client.start()
  h.socket.send(authenticate(2, 2, (step as { token: Buffer }).token), request(ApiKey.Metadata, 12, 3))
  await tick()
  t.ok(h.socket.destroyed)
  t.equal(h.route.forwarded.length, 0)
})

t.test('SaslAuthenticate without a handshake: ILLEGAL_SASL_STATE, closed', async t => {
  const h = harness({ sasl: termination() })
  h.socket.send(authenticate(1, 1, Buffer.from('\0alice\0alice-secret')))
  const got = await responses(h, 1)
  t.equal(decoded(got[0]!, ApiKey.SaslAuthenticate, 1).body.errorCode, ErrorCode.ILLEGAL_SASL_STATE)
  t.ok(h.socket.ended || h.socket.destroyed)
})

t.test('a mechanism not offered: UNSUPPORTED_SASL_MECHANISM with the offered ones, closed', async t => {
  const h = harness({ sasl: termination({ mechanisms: ['SCRAM-SHA-512'] }) })
  h.socket.send(handshake(1, 1, 'PLAIN'))
  const got = await responses(h, 1)
  const body = decoded(got[0]!, ApiKey.SaslHandshake, 1).body
  t.equal(body.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM)
  t.same(body.mechanisms, ['SCRAM-SHA-512'])
  t.ok(h.socket.ended || h.socket.destroyed)
})

t.test('SaslHandshake v0: raw tokens are answered by kproxy; the connection never becomes a relay', async t => {
  const h = harness({ sasl: termination() })
  h.socket.send(handshake(0, 1, 'SCRAM-SHA-256'))
  let got = await responses(h, 1)
  t.equal(decoded(got[0]!, ApiKey.SaslHandshake, 0).body.errorCode, 0)
  const client = createSaslClient('SCRAM-SHA-256', { username: 'bob', password: 'bob-secret' })
  let step = await client.start()
  const raw = (token: Buffer): Buffer => { const b = Buffer.alloc(4 + token.length); b.writeInt32BE(token.length); token.copy(b, 4); return b }
  h.socket.send([raw((step as { token: Buffer }).token)])
  got = await responses(h, 2)
  // the answer is a raw token: no correlation id, no error code
  t.match(got[1]!.toString(), /^r=.*,s=.*,i=4096$/)
  step = await client.evaluate(got[1]!)
  h.socket.send([raw((step as { token: Buffer }).token)])
  got = await responses(h, 3)
  t.match(got[2]!.toString(), /^v=/)
  t.same(await client.evaluate(got[2]!), { kind: 'complete' })
  t.equal(h.session.context.principal, 'User:bob')
  t.equal(h.route.passthroughOn, false, 'no byte relay')
  t.equal(h.session.state, 'open')
  h.socket.send(request(ApiKey.Metadata, 12, 9))
  t.equal(h.route.forwarded.length, 1, 'later requests are framed and go through the filters')
})

t.test('SaslHandshake v0 with a wrong raw token: closed without an answer', async t => {
  const h = harness({ sasl: termination() })
  h.socket.send(handshake(0, 1, 'PLAIN'))
  await responses(h, 1)
  const token = Buffer.from('\0alice\0nope')
  const b = Buffer.alloc(4 + token.length); b.writeInt32BE(token.length); token.copy(b, 4)
  h.socket.send([b])
  for (let i = 0; i < 200 && !h.socket.destroyed; i++) await new Promise(resolve => setTimeout(resolve, 5))
  t.ok(h.socket.destroyed)
  t.equal(h.socket.responses().length, 1)
  t.equal(h.session.context.principal, 'ANONYMOUS')
})

t.test('KIP-368: session_lifetime_ms is told; after it only a re-authentication is accepted', async t => {
  const h = harness({ sasl: termination({ maxReauthMs: 60_000 }) })
  const body = await login(h, 'SCRAM-SHA-512', 'alice', 'alice-secret')
  t.equal(body.sessionLifetimeMs, 60000n)
  h.socket.send(request(ApiKey.Metadata, 12, 20))
  t.equal(h.route.forwarded.length, 1)
  // the session ends: a request that is not a SaslHandshake closes the connection
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  Date.now = () => realNow() + 61_000
  h.socket.send(request(ApiKey.Metadata, 12, 21))
  t.equal(h.route.forwarded.length, 1, 'not forwarded')
  t.ok(h.socket.destroyed)
  t.ok(h.logs.some(l => l.code === 'KPROXY_ERR_SASL_SESSION_EXPIRED'))
})

t.test('KIP-368: re-authentication as the same principal goes on; as another closes the connection', async t => {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  let offset = 0
  Date.now = () => realNow() + offset
  const metrics = new MetricsRegistry()
  const h = harness({ sasl: termination({ maxReauthMs: 60_000 }, metrics) })
  t.equal((await login(h, 'SCRAM-SHA-256', 'alice', 'alice-secret')).errorCode, 0)
  // within a second: ILLEGAL_SASL_STATE, as Kafka
  h.socket.send(handshake(1, 10, 'SCRAM-SHA-256'))
  let got = await responses(h, 4)
  t.equal(decoded(got[3]!, ApiKey.SaslHandshake, 1).body.errorCode, ErrorCode.ILLEGAL_SASL_STATE)
  offset = 30_000
  t.equal((await login(h, 'SCRAM-SHA-256', 'alice', 'alice-secret', { firstId: 20 })).errorCode, 0, 'alice again')
  t.equal(h.session.context.principal, 'User:alice')
  h.socket.send(request(ApiKey.Metadata, 12, 30))
  t.equal(h.route.forwarded.length, 1)
  // the re-authentication's answers wait behind it, in request order
  h.route.answer(0, getApi(ApiKey.Metadata).response.create())
  offset = 60_000
  const body = await login(h, 'SCRAM-SHA-256', 'bob', 'bob-secret', { firstId: 40 })
  t.equal(body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED)
  t.equal(body.errorMessage, 'Cannot change principals during re-authentication from User.alice: User.bob')
  t.ok(h.socket.ended || h.socket.destroyed)
  t.equal(h.session.context.principal, 'User:alice', 'never bob')
  const snap = Object.fromEntries(metrics.snapshot().sasl!.map(([m, e, n]) => [`${m}/${e}`, n]))
  t.same(snap, { 'SCRAM-SHA-256/authenticated': 1, 'SCRAM-SHA-256/reauthenticated': 1, 'SCRAM-SHA-256/principal_change': 1, 'SCRAM-SHA-256/failed': 1 })
})

t.test('KIP-368: a re-authentication with another mechanism is refused', async t => {
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const h = harness({ sasl: termination({ maxReauthMs: 60_000 }) })
  t.equal((await login(h, 'SCRAM-SHA-256', 'alice', 'alice-secret')).errorCode, 0)
  Date.now = () => realNow() + 5000
  h.socket.send(handshake(1, 10, 'PLAIN'))
  const got = await responses(h, 4)
  t.equal(decoded(got[3]!, ApiKey.SaslHandshake, 1).body.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM)
  t.ok(h.socket.ended || h.socket.destroyed)
})

t.test('without maxReauthMs a second handshake is ILLEGAL_SASL_STATE and the connection stays', async t => {
  const h = harness({ sasl: termination() })
  t.equal((await login(h, 'PLAIN', 'alice', 'alice-secret', { authVersion: 0 })).errorCode, 0)
  h.socket.send(handshake(1, 10, 'PLAIN'))
  const got = await responses(h, 3)
  t.equal(decoded(got[2]!, ApiKey.SaslHandshake, 1).body.errorCode, ErrorCode.ILLEGAL_SASL_STATE)
  t.notOk(h.socket.destroyed)
})

t.test('a malformed SASL request closes the connection with a decode error', async t => {
  const h = harness({ sasl: termination() })
  const frame = handshake(1, 1, 'PLAIN')
  const all = Buffer.concat(frame)
  const cut = all.subarray(0, all.length - 3)
  cut.writeInt32BE(cut.length - 4)
  h.socket.send([cut])
  t.ok(h.socket.destroyed)
  t.equal(h.route.forwarded.length, 0)
})

t.test('plaintext connections are counted once, by peer and client id', async t => {
  const metrics = new MetricsRegistry()
  const h = harness({ metrics, plaintextOn: 'broker' })
  h.socket.send(request(ApiKey.Metadata, 12, 1, undefined, 'orders-app'))
  h.socket.send(request(ApiKey.Metadata, 12, 2, undefined, 'orders-app'))
  h.session.close(null, 'test')
  t.same(metrics.snapshot().plaintext, [['broker', '10.0.0.7', 'orders-app', 1]])
})
