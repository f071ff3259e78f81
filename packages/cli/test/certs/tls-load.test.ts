// The files `kproxy certs` writes, loaded as they are into node:tls: mutual TLS on 127.0.0.1.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import { initCa } from '../../src/certs/init-ca.ts'
import { issueCerts } from '../../src/certs/issue-certs.ts'

const root = t.testdir()
await initCa({ dir: join(root, 'ca') })
await initCa({ dir: join(root, 'other-ca'), commonName: 'another CA' })
await issueCerts({ caDir: join(root, 'ca'), names: ['kproxy'], server: true, sans: ['DNS:localhost', 'IP:127.0.0.1'], outDir: join(root, 'server') })
await issueCerts({ caDir: join(root, 'ca'), names: ['app-1'], client: true, outDir: join(root, 'client') })
await issueCerts({ caDir: join(root, 'other-ca'), names: ['intruder'], client: true, outDir: join(root, 'other') })

const read = (...parts: string[]): Buffer => readFileSync(join(root, ...parts))

interface Outcome { received: string, error?: string }

// The server greets every client it accepted by the common name of its certificate.
const rejected: string[] = []
const accepted: string[] = []
const server = tls.createServer({
  key: read('server', 'kproxy.key'),
  cert: read('server', 'kproxy.crt'),
  ca: read('server', 'ca.crt'),
  requestCert: true,
  rejectUnauthorized: true
}, socket => {
  const name = String(socket.getPeerCertificate().subject.CN)
  accepted.push(name)
  socket.end(`hello ${name}`)
})
server.on('tlsClientError', err => { rejected.push(err.message) })
server.listen(0, '127.0.0.1')
await once(server, 'listening')
t.teardown(() => { server.close() })
const { port } = server.address() as AddressInfo

function connect (options: tls.ConnectionOptions): Promise<Outcome> {
  return new Promise(resolve => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: read('client', 'ca.crt'), ...options })
    let received = ''
    let error: string | undefined
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('error', err => { error = (err as NodeJS.ErrnoException).code ?? err.message })
    socket.on('close', () => resolve(error === undefined ? { received } : { received, error }))
  })
}

t.test('a client with an issued client certificate is accepted (by IP and by name)', async t => {
  const byIp = await connect({ key: read('client', 'app-1.key'), cert: read('client', 'app-1.crt') })
  t.same(byIp, { received: 'hello app-1' })
  const byName = await connect({ servername: 'localhost', key: read('client', 'app-1.key'), cert: read('client', 'app-1.crt') })
  t.same(byName, { received: 'hello app-1' })
})

t.test('a client without a certificate is refused', async t => {
  const before = rejected.length
  const outcome = await connect({})
  t.equal(outcome.received, '')
  t.match(outcome.error, /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|ECONNRESET/)
  t.equal(rejected.length, before + 1, `the server refused it: ${rejected.at(-1)}`)
})

t.test('a client with a certificate from another CA is refused', async t => {
  const before = rejected.length
  const outcome = await connect({ key: read('other', 'intruder.key'), cert: read('other', 'intruder.crt') })
  // Node checks the chain once OpenSSL's handshake is done and then just closes the socket: under
  // TLS 1.3 the client sees no alert, only a connection that ends without a byte.
  t.equal(outcome.received, '')
  t.equal(rejected.length, before + 1, 'the server dropped it')
  t.notOk(accepted.includes('intruder'), 'never reached the connection handler')
  t.same(accepted.filter(n => n !== 'app-1'), [])
})

t.test('the client checks the server: a wrong name or a foreign CA fail', async t => {
  const wrongName = await connect({ servername: 'kafka.example', key: read('client', 'app-1.key'), cert: read('client', 'app-1.crt') })
  t.equal(wrongName.error, 'ERR_TLS_CERT_ALTNAME_INVALID')
  const foreign = await connect({ ca: read('other', 'ca.crt'), key: read('client', 'app-1.key'), cert: read('client', 'app-1.crt') })
  t.equal(foreign.error, 'SELF_SIGNED_CERT_IN_CHAIN', 'the chain ends in a CA the client does not trust')
  t.equal(foreign.received, '')
})

t.test('a client-only certificate cannot serve TLS to a strict client', async t => {
  const clientOnly = tls.createServer({ key: read('client', 'app-1.key'), cert: read('client', 'app-1.crt') }, socket => socket.end('x'))
  clientOnly.listen(0, '127.0.0.1')
  await once(clientOnly, 'listening')
  t.teardown(() => { clientOnly.close() })
  const outcome = await new Promise<Outcome>(resolve => {
    const socket = tls.connect({ host: '127.0.0.1', port: (clientOnly.address() as AddressInfo).port, ca: read('client', 'ca.crt'), checkServerIdentity: () => undefined })
    socket.on('error', err => resolve({ received: '', error: (err as NodeJS.ErrnoException).code ?? err.message }))
    socket.on('secureConnect', () => { socket.destroy(); resolve({ received: 'connected' }) })
  })
  t.equal(outcome.error, 'INVALID_PURPOSE', 'OpenSSL checks the extended key usage (serverAuth)')
})
