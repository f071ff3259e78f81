// kproxy's SASL state machines (packages/core/src/sasl) against the SASL code of real Kafka
// clients and brokers, in-process, no sockets:
//  - Kafka's own Java classes (ScramSaslClient, ScramSaslServer, PlainSaslServer from the pinned
//    kafka-clients jar; the JDK PLAIN client Kafka's producer uses), one token per line;
//  - kafkajs's PLAIN and SCRAM authenticators, driven through the same saslAuthenticate hook
//    kafkajs's connection gives them.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ensureKafkaJars } from '@kproxy/cli/sandbox/jars'
import { findJava } from '@kproxy/cli/sandbox/java'
import { TEST_JVM_ARGS } from '../helpers/kafka.ts'
import { PlainServer } from '@kproxy/core/sasl/plain-server'
import { PlainClient } from '@kproxy/core/sasl/plain-client'
import { ScramServer } from '@kproxy/core/sasl/scram-server'
import { ScramClient } from '@kproxy/core/sasl/scram-client'
import { scramCredential } from '@kproxy/core/sasl/scram-formulas'
import type { ScramCredential } from '@kproxy/core/sasl/scram-formulas'
import { hashPassword, PasswordVerifier } from '@kproxy/core/sasl/password-hash'
import { SCRAM_MECHANISMS } from '@kproxy/core/sasl/sasl-mechanism'
import type { ScramMechanismName } from '@kproxy/core/sasl/sasl-mechanism'
import type { SaslCredentials } from '@kproxy/core/sasl/sasl-credentials'
import type { SaslServer } from '@kproxy/core/sasl/sasl-server'
import type { SaslClient } from '@kproxy/core/sasl/sasl-client'

const require = createRequire(import.meta.url)
const SOURCE = fileURLToPath(new URL('../fixtures/SaslInterop.java', import.meta.url))
const MECHS: readonly ScramMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512']
// ',' and '=' exercise the =2C / =3D escaping on both sides; the password is not ASCII.
const USER = 'team,a=1'
const PASSWORD = 'pässwörd'

async function credentialsFor (user: string, password: string): Promise<SaslCredentials> {
  const scram = new Map<string, ScramCredential>()
  for (const m of MECHS) scram.set(m, await scramCredential(SCRAM_MECHANISMS[m], password, Buffer.from(`salt-of-${m}`), 4096))
  const plain = new PasswordVerifier(await hashPassword(password, { N: 16384, r: 8, p: 1 }))
  return { scram: (m, u) => u === user ? scram.get(m) : undefined, plain: u => u === user ? plain : undefined }
}

// One Java peer: writes tokens in, reads 'TOKEN'/'DONE'/'FAIL' lines out.
class JavaPeer {
  readonly #lines: AsyncIterator<string>
  readonly #child
  constructor (java: string, classDir: string, classpath: string, args: string[]) {
    this.#child = spawn(java, [...TEST_JVM_ARGS, '-cp', `${classDir}:${classpath}`, 'SaslInterop', ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    this.#lines = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]()
  }

  async next (): Promise<{ kind: string, token: Buffer, rest: string }> {
    const { value, done } = await this.#lines.next()
    if (done === true) throw new Error('the Java peer exited without an answer')
    const line = value as string
    if (line.startsWith('FAIL ')) return { kind: 'FAIL', token: Buffer.alloc(0), rest: line.slice(5) }
    const [kind, b64 = '', ...rest] = line.split(' ')
    return { kind: kind!, token: Buffer.from(b64 === '-' ? '' : b64, 'base64'), rest: rest.join(' ') }
  }

  send (token: Buffer): void {
    this.#child.stdin.write(token.toString('base64') + '\n')
  }

  end (): void {
    this.#child.stdin.end()
    this.#child.kill()
  }
}

// Java client -> our server. Returns what our server finally said and what Java said.
async function javaClientToServer (peer: JavaPeer, server: SaslServer): Promise<{ server: string, java: string }> {
  try {
    for (;;) {
      const line = await peer.next()
      if (line.kind === 'FAIL') return { server: 'pending', java: line.rest }
      if (line.kind === 'DONE') return { server: 'complete', java: 'DONE' }
      const step = await server.evaluate(line.token)
      if (step.kind === 'failed') return { server: `failed: ${step.failure.message}`, java: 'pending' }
      peer.send(step.token)
      if (step.kind === 'complete') {
        const last = await peer.next()
        return { server: `complete as ${step.user}`, java: last.kind === 'FAIL' ? last.rest : last.kind }
      }
    }
  } finally {
    peer.end()
  }
}

// Our client -> Java server.
async function clientToJavaServer (client: SaslClient, peer: JavaPeer): Promise<{ client: string, java: string }> {
  try {
    let step = await client.start()
    for (;;) {
      if (step.kind !== 'send') return { client: step.kind === 'failed' ? `failed: ${step.reason}` : 'complete', java: 'pending' }
      peer.send(step.token)
      const line = await peer.next()
      if (line.kind === 'FAIL') return { client: 'pending', java: line.rest }
      step = await client.evaluate(line.token)
      if (line.kind === 'DONE') return { client: step.kind === 'failed' ? `failed: ${step.reason}` : step.kind, java: `DONE as ${line.rest}` }
    }
  } finally {
    peer.end()
  }
}

t.test("Kafka's Java SASL code", async t => {
  const java = await findJava()
  const jars = await ensureKafkaJars()
  const classDir = t.testdir()
  await new Promise<void>((resolve, reject) => {
    execFile(join(java.command === 'java' ? '' : join(java.command, '..'), 'javac'), ['-cp', jars.classpath, '-d', classDir, SOURCE], { timeout: 120_000 }, (err, _out, stderr) => {
      if (err !== null) reject(new Error(`javac failed: ${stderr}`))
      else resolve()
    })
  })
  const peer = (...args: string[]): JavaPeer => new JavaPeer(java.command, classDir, jars.classpath, args)
  const credentials = await credentialsFor(USER, PASSWORD)

  for (const mech of MECHS) {
    t.test(`${mech}: ScramSaslClient logs in to kproxy's server`, async t => {
      t.same(await javaClientToServer(peer('scram-client', mech, USER, PASSWORD), new ScramServer(mech, credentials)), { server: `complete as ${USER}`, java: 'DONE' })
      const wrong = await javaClientToServer(peer('scram-client', mech, USER, 'wrong'), new ScramServer(mech, credentials))
      t.equal(wrong.server, `failed: Authentication failed during authentication due to invalid credentials with SASL mechanism ${mech}`)
    })
    t.test(`${mech}: kproxy's client logs in to ScramSaslServer`, async t => {
      t.same(await clientToJavaServer(new ScramClient(mech, { username: USER, password: PASSWORD }), peer('scram-server', mech, USER, PASSWORD, '4096')),
        { client: 'complete', java: `DONE as ${USER}` })
      const wrong = await clientToJavaServer(new ScramClient(mech, { username: USER, password: 'wrong' }), peer('scram-server', mech, USER, PASSWORD, '4096'))
      t.match(wrong.java, /SaslException: Invalid client credentials/)
      const iterations = await clientToJavaServer(new ScramClient(mech, { username: USER, password: PASSWORD }), peer('scram-server', mech, USER, PASSWORD, '8192'))
      t.same(iterations, { client: 'complete', java: `DONE as ${USER}` }, 'the iterations the server names are used')
    })
  }

  t.test("PLAIN: the JDK's client logs in to kproxy's server; kproxy's client to PlainSaslServer", async t => {
    t.same(await javaClientToServer(peer('plain-client', USER, PASSWORD), new PlainServer(credentials)), { server: `complete as ${USER}`, java: 'DONE' })
    t.same(await javaClientToServer(peer('plain-client', USER, 'nope'), new PlainServer(credentials)), { server: 'failed: Authentication failed: Invalid username or password', java: 'pending' })
    t.same(await clientToJavaServer(new PlainClient({ username: USER, password: PASSWORD }), peer('plain-server', USER, PASSWORD)), { client: 'complete', java: `DONE as ${USER}` })
    const wrong = await clientToJavaServer(new PlainClient({ username: USER, password: 'nope' }), peer('plain-server', USER, PASSWORD))
    t.match(wrong.java, /Invalid username or password/)
  })
})

// kafkajs's authenticators get a saslAuthenticate({ request, response }) from the connection;
// request.encode() gives the token with an int32 length in front (kafkajs writes it as the
// SaslAuthenticate bytes field), response.decode() expects the same framing back.
async function kafkajsLogin (mechanism: 'PLAIN' | ScramMechanismName, username: string, password: string, server: SaslServer): Promise<void> {
  const providers: Record<string, string> = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram256', 'SCRAM-SHA-512': 'scram512' }
  const provider = require(`kafkajs/src/broker/saslAuthenticator/${providers[mechanism]!}.js`) as (sasl: object) => (ctx: object) => { authenticate (): Promise<void> }
  const logger = { debug () {}, info () {}, warn () {}, error () {} }
  const saslAuthenticate = async ({ request, response }: { request: { encode (): Promise<Buffer> }, response?: { decode (b: Buffer): Promise<unknown>, parse (d: unknown): Promise<unknown> } }): Promise<unknown> => {
    const framed = await request.encode()
    const step = await server.evaluate(framed.subarray(4))
    // What kafkajs's SaslAuthenticate response parser throws for error 58 with a message.
    if (step.kind === 'failed') throw new Error(step.failure.message)
    if (response === undefined) return undefined
    const out = Buffer.alloc(4 + step.token.length)
    out.writeInt32BE(step.token.length)
    step.token.copy(out, 4)
    return await response.parse(await response.decode(out))
  }
  await provider({ mechanism: mechanism.toLowerCase(), username, password })({ host: 'kproxy', port: 9092, logger, saslAuthenticate }).authenticate()
}

t.test('kafkajs 2.2.4 authenticators log in to kproxy servers', async t => {
  const credentials = await credentialsFor(USER, PASSWORD)
  for (const mech of MECHS) {
    await t.resolves(kafkajsLogin(mech, USER, PASSWORD, new ScramServer(mech, credentials)), `${mech} with the right password`)
    await t.rejects(kafkajsLogin(mech, USER, 'wrong', new ScramServer(mech, credentials)),
      { message: new RegExp(`authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism ${mech}`) })
    await t.rejects(kafkajsLogin(mech, 'nobody', PASSWORD, new ScramServer(mech, credentials)), { message: /invalid credentials/ }, `${mech}, unknown user`)
  }
  await t.resolves(kafkajsLogin('PLAIN', USER, PASSWORD, new PlainServer(credentials)), 'PLAIN with the right password')
  await t.rejects(kafkajsLogin('PLAIN', USER, 'wrong', new PlainServer(credentials)), { message: /SASL PLAIN authentication failed: Authentication failed: Invalid username or password/ })
})
