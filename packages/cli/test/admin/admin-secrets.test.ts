// Nothing secret leaves kproxy through the admin API or the logs (issue 9, "Bad input and
// security"): the real `kproxy serve` with every kind of secret it handles — an admin token, a TLS
// private key, a credentials file of salted SCRAM verifiers and scrypt password hashes written by
// `kproxy users add`, kproxy's own upstream SASL password (policy.sasl.upstream.passwordFile) — and
// clients that log in over TLS with PLAIN and SCRAM-SHA-512, rightly and wrongly. Then none of
// those secrets, in any of the encodings a leak would take (text, base64, base64url, hex, the
// decimal bytes pino prints for a Buffer), may appear in /metrics, /config_dump, /stats, the JSON
// API, or anything the process wrote to stdout and stderr at log level trace.
//
// The upstream is a scripted TCP peer (as in packages/workers/test/broker-mode): it answers
// kproxy's own SASL PLAIN login, refusing any other password than the file's, then ApiVersions and
// Metadata, so that /ready (which needs the start-up Metadata) proves kproxy read the password file
// and used it. Real-Kafka SASL is covered by test/integration/policy-sasl-termination.test.ts.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createPrivateKey, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, ErrorCode, getApi } from '@kproxy/core/protocol/codec'
import { FrameReader, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import { createSaslClient } from '@kproxy/core/sasl/sasl-factory'
import type { SaslMechanismName } from '@kproxy/core/sasl/sasl-mechanism'
import { freePort, freePortRange } from '../../../workers/test/free-port.ts'
import { KPROXY, kproxyWithInput } from '../helpers/run-kproxy.ts'

// random, so that no other text can match one by chance
const secret = (what: string): string => `${what}-${randomBytes(12).toString('base64url')}`
const TOKEN = secret('admin-token')
const UPSTREAM_USER = 'kproxy-up'
const UPSTREAM_PASSWORD = secret('upstream-pw')
const CAROL = { name: 'carol', password: secret('carol-pw') }
const DAVE = { name: 'dave', password: secret('dave-pw') }
const WRONG = secret('wrong-pw')

// The forms a leaked secret would take in a log line or an answer. Hex and the decimal bytes find
// a secret inside a larger leaked buffer too (a PLAIN token); base64 only one encoded on its own.
function bytesForms (name: string, bytes: Buffer): Array<[string, string]> {
  return [
    [`${name} (base64)`, bytes.toString('base64')],
    [`${name} (base64url)`, bytes.toString('base64url')],
    [`${name} (hex)`, bytes.toString('hex')],
    [`${name} (bytes as pino prints a Buffer)`, [...bytes].join(',')]
  ]
}

function textForms (name: string, text: string): Array<[string, string]> {
  return [[name, text], ...bytesForms(name, Buffer.from(text))]
}

// Every line of the PEM body (a log line escapes the newlines between them), the body in one piece,
// the DER key in other encodings, and the parts of the RSA key themselves.
function keyForms (pem: string): Array<[string, string]> {
  const body = pem.split('\n').filter(l => l !== '' && !l.startsWith('-----'))
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' })
  const jwk = createPrivateKey(pem).export({ format: 'jwk' }) as Record<string, string>
  return [
    ['the PEM private key header', 'PRIVATE KEY'],
    ...body.map((line, i): [string, string] => [`line ${i + 1} of the PEM private key`, line]),
    ['the PEM private key body', body.join('')],
    ...bytesForms('the DER private key', der),
    ...['d', 'p', 'q', 'dp', 'dq', 'qi'].map((k): [string, string] => [`the private exponent/prime ${k}`, jwk[k]!])
  ]
}

// salt, storedKey, serverKey of each SCRAM verifier; salt and hash of each PLAIN scrypt hash
function verifierForms (file: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  let user = ''
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    user = /^ {2}"(.+)":$/.exec(line)?.[1] ?? user
    const at = /^ {4}([A-Z0-9-]+): \{(.*)\}$/.exec(line)
    if (at === null) continue
    for (const [, key, value] of at[2]!.matchAll(/(salt|storedKey|serverKey|hash): ([A-Za-z0-9+/=]+)/g)) {
      out.push(...bytesForms(`${user}'s ${at[1]} ${key!}`, Buffer.from(value!, 'base64')))
    }
  }
  return out
}

function found (text: string, secrets: ReadonlyArray<[string, string]>): string[] {
  return secrets.filter(([, s]) => text.includes(s)).map(([name]) => name)
}

// A scripted upstream: kproxy's PLAIN login (the password must be the file's), ApiVersions, and a
// Metadata answer naming itself as broker 1. Nothing else is answered.
function scriptedUpstream (t: { teardown (fn: () => unknown): void }): Promise<{ port: number, logins: { ok: number, refused: number } }> {
  const logins = { ok: 0, refused: 0 }
  return new Promise(resolve => {
    const server: Server = createServer((socket: Socket) => {
      const reader = new FrameReader({
        onFrame: f => {
          const payload = frameToBuffer(f)
          const { header, body } = decodeRequest(payload) as { header: { apiKey: number, apiVersion: number, correlationId: number }, body: any }
          const answer = (b: unknown): void => { for (const c of encodeResponse(header.apiKey, header.apiVersion, { correlationId: header.correlationId }, b)) socket.write(c) }
          const api = getApi(header.apiKey).response
          if (header.apiKey === ApiKey.SaslHandshake) answer({ ...api.create(), mechanisms: ['PLAIN'] })
          else if (header.apiKey === ApiKey.SaslAuthenticate) {
            const ok = Buffer.from(body.authBytes).equals(Buffer.from(`\0${UPSTREAM_USER}\0${UPSTREAM_PASSWORD}`))
            if (ok) logins.ok++
            else logins.refused++
            answer({ ...api.create(), errorCode: ok ? 0 : ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: ok ? null : 'Authentication failed: Invalid username or password', authBytes: Buffer.alloc(0) })
          } else if (header.apiKey === ApiKey.ApiVersions) answer(api.create())
          else if (header.apiKey === ApiKey.Metadata) {
            const port = (server.address() as { port: number }).port
            answer({ ...api.create(), clusterId: 'secrets-test', controllerId: 1, brokers: [{ ...api.structs.MetadataResponseBroker!(), nodeId: 1, host: '127.0.0.1', port }], topics: [] })
          }
        },
        onError: () => socket.destroy()
      })
      socket.on('data', chunk => reader.push(chunk))
      socket.on('error', () => {})
    })
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, logins }))
    t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  })
}

// A client connection over TLS, frames in and out.
class TlsWire {
  readonly #socket: TLSSocket
  readonly #frames: Buffer[] = []
  #waiting: ((f: Buffer | null) => void) | null = null
  #closed = false

  constructor (socket: TLSSocket) {
    this.#socket = socket
    const reader = new FrameReader({ onFrame: f => this.#deliver(frameToBuffer(f)), onError: () => socket.destroy() })
    socket.on('data', chunk => reader.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => { this.#closed = true; this.#deliver(null) })
  }

  static open (port: number, ca: string): Promise<TlsWire> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'kproxy' }, () => resolve(new TlsWire(s)))
      s.once('error', reject)
    })
  }

  #deliver (f: Buffer | null): void {
    if (f !== null) this.#frames.push(f)
    const w = this.#waiting
    if (w !== null && (this.#frames.length > 0 || this.#closed)) {
      this.#waiting = null
      w(this.#frames.shift() ?? null)
    }
  }

  async request (apiKey: number, apiVersion: number, correlationId: number, body: unknown): Promise<any> {
    for (const c of encodeRequest({ apiKey, apiVersion, correlationId, clientId: 'secrets-test' }, body)) this.#socket.write(c)
    const frame = this.#frames.shift() ?? (this.#closed
      ? null
      : await new Promise<Buffer | null>(resolve => {
        const timer = setTimeout(() => { this.#waiting = null; resolve(null) }, 20_000)
        this.#waiting = f => { clearTimeout(timer); resolve(f) }
      }))
    return frame === null ? null : decodeResponse(frame, apiKey, apiVersion).body
  }

  close (): void { this.#socket.destroy() }
}

// SaslHandshake v1, then SaslAuthenticate v2 until the mechanism completes: the last answer.
async function login (wire: TlsWire, mechanism: SaslMechanismName, username: string, password: string): Promise<any> {
  let id = 1
  const hs = await wire.request(ApiKey.SaslHandshake, 1, id++, { mechanism })
  if (hs?.errorCode !== 0) return hs
  const client = createSaslClient(mechanism, { username, password })
  let step = await client.start()
  for (;;) {
    if (step.kind !== 'send') throw new Error(`the client: ${JSON.stringify(step)}`)
    const body = await wire.request(ApiKey.SaslAuthenticate, 2, id++, { authBytes: step.token })
    if (body === null || body.errorCode !== 0) return body
    step = await client.evaluate(body.authBytes)
    if (step.kind === 'complete') return body
  }
}

t.test('no password, verifier, private key or token in /metrics, /config_dump, the JSON API or the logs', async t => {
  const dir = t.testdir()
  const up = await scriptedUpstream(t)

  const ca = await createCa({ days: 1 })
  const leaf = await issueCertificate(ca, { name: 'kproxy', server: true, days: 1 })
  writeFileSync(join(dir, 'tls.crt'), leaf.chain)
  writeFileSync(join(dir, 'tls.key'), leaf.key, { mode: 0o600 })
  const users = join(dir, 'users.yaml')
  for (const [u, mechanisms] of [[CAROL, ['scram-sha-512', 'plain']], [DAVE, ['plain', 'scram-sha-256']]] as const) {
    const r = await kproxyWithInput(['users', 'add', u.name, '--file', users, ...mechanisms.flatMap(m => ['--mechanism', m]), '--password-stdin'], `${u.password}\n`)
    t.equal(r.code, 0, `kproxy users add ${u.name}: ${r.stderr}`)
  }
  writeFileSync(join(dir, 'upstream.pw'), `${UPSTREAM_PASSWORD}\n`, { mode: 0o600 })

  const secrets: Array<[string, string]> = [
    ...textForms('the admin token', TOKEN),
    ...textForms('the upstream password', UPSTREAM_PASSWORD),
    ...textForms('carol\'s password', CAROL.password),
    ...textForms('dave\'s password', DAVE.password),
    ...textForms('the wrong password', WRONG),
    ...keyForms(leaf.key),
    ...verifierForms(users)
  ]
  const verifiers = [...new Set(secrets.map(([name]) => /^(\w+'s [A-Z0-9-]+ \w+) \(/.exec(name)?.[1]).filter(n => n !== undefined))]
  t.same(verifiers, ["carol's PLAIN salt", "carol's PLAIN hash", "carol's SCRAM-SHA-512 salt", "carol's SCRAM-SHA-512 storedKey", "carol's SCRAM-SHA-512 serverKey",
    "dave's PLAIN salt", "dave's PLAIN hash", "dave's SCRAM-SHA-256 salt", "dave's SCRAM-SHA-256 storedKey", "dave's SCRAM-SHA-256 serverKey"], 'every verifier of the credentials file is looked for')

  const [listen, admin] = [await freePort(), await freePort()]
  const brokerBase = await freePortRange(2)
  const config = join(dir, 'kproxy.yaml')
  writeFileSync(config, [
    'logLevel: trace',
    'workers: 2',
    `admin: { listen: "127.0.0.1:${admin}", token: "${TOKEN}" }`,
    'brokerMode:',
    `  listen: 127.0.0.1:${listen}`,
    `  upstream: [127.0.0.1:${up.port}]`,
    `  brokerPorts: { base: ${brokerBase} }`,
    '  tls:',
    `    cert: ${join(dir, 'tls.crt')}`,
    `    key: ${join(dir, 'tls.key')}`,
    'policy:',
    '  sasl:',
    '    mechanisms: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]',
    `    credentialsFile: ${users}`,
    `    upstream: { mechanism: PLAIN, username: ${UPSTREAM_USER}, passwordFile: ${join(dir, 'upstream.pw')} }`,
    ''
  ].join('\n'))

  const child = spawn(KPROXY, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  t.teardown(() => { child.kill('SIGKILL') })
  const base = `http://127.0.0.1:${admin}`
  const get = async (path: string): Promise<{ status: number, text: string }> => {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${TOKEN}` } })
    return { status: res.status, text: await res.text() }
  }

  let ready = 0
  for (let i = 0; i < 600 && ready !== 200; i++) {
    ready = await fetch(`${base}/ready`).then(r => r.status, () => 0)
    if (ready !== 200) await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(ready, 200, `ready: kproxy logged in upstream with the file's password (output: ${output.slice(-2000)})`)
  t.ok(up.logins.ok > 0, `the upstream accepted kproxy's login ${up.logins.ok} time(s)`)
  t.equal(up.logins.refused, 0)

  // logins over TLS: right and wrong, both mechanisms; then a request as carol goes upstream
  const carol = await TlsWire.open(listen, ca.cert)
  t.equal((await login(carol, 'SCRAM-SHA-512', CAROL.name, CAROL.password))?.errorCode, 0, 'carol logs in with SCRAM-SHA-512')
  const metadata = await carol.request(ApiKey.Metadata, 12, 10, { ...getApi(ApiKey.Metadata).request.create(), topics: [] })
  t.same(metadata?.brokers?.map((b: { nodeId: number, port: number }) => [b.nodeId, b.port]), [[1, brokerBase + 1]], 'her Metadata request went upstream and back')
  const dave = await TlsWire.open(listen, ca.cert)
  t.equal((await login(dave, 'PLAIN', DAVE.name, DAVE.password))?.errorCode, 0, 'dave logs in with PLAIN')
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-512'] as const) {
    const wrong = await TlsWire.open(listen, ca.cert)
    t.equal((await login(wrong, mechanism, CAROL.name, WRONG))?.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED, `a wrong password with ${mechanism} is refused`)
    wrong.close()
  }
  carol.close()
  dave.close()

  const metrics = await get('/metrics')
  t.equal(metrics.status, 200)
  const events = (event: string): number => [...metrics.text.matchAll(new RegExp(`^kproxy_sasl_events_total\\{[^}]*event="${event}"[^}]*\\} (\\d+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
  t.same([events('authenticated'), events('failed')], [2, 2], 'the logins are in /metrics (counted, without their secrets)')
  t.same(found(metrics.text, secrets), [], 'nothing secret in /metrics')

  const dump = await get('/config_dump')
  t.equal(dump.status, 200)
  t.match(JSON.parse(dump.text), { admin: { token: '[redacted]' }, brokerMode: { tls: { key: '[redacted]' } }, policy: { file: { sasl: { mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], upstream: { mechanism: 'PLAIN', username: UPSTREAM_USER } } } } }, 'the config is there, its secrets redacted')
  t.same(found(dump.text, secrets), [], 'nothing secret in /config_dump')

  const index = JSON.parse((await get('/api')).text) as { endpoints: Array<{ path: string, methods: string[] }> }
  const views = ['/stats', ...index.endpoints.filter(e => e.path.startsWith('/api/') && e.methods.includes('GET')).map(e => e.path)]
  for (const path of views) {
    const view = await get(path)
    t.equal(view.status, 200, path)
    t.same(found(view.text, secrets), [], `nothing secret in ${path}`)
  }

  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(output, /"code":"KPROXY_ERR_SASL_AUTHENTICATION"/, 'the failed logins are logged')
  t.ok(output.split('\n').filter(l => l.startsWith('{')).length > 10, 'the process logged (JSON lines at trace)')
  t.same(found(output, secrets), [], 'nothing secret in the logs')
})
