import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer } from 'node:tls'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { CLIENT_SIDE_CN, writeMeshCerts } from '../../src/sandbox/mesh-certs.ts'

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-mesh-certs-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('the mesh certificates carry a mutual TLS handshake on 127.0.0.1 and name the client side', async t => {
  const mesh = await writeMeshCerts(join(scratch, 'mesh'))
  for (const key of [mesh.caKey, mesh.serverKey, mesh.clientKey]) {
    t.equal(statSync(key).mode & 0o777, 0o600, `${key} is 0600`)
    t.match(readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/, 'PKCS#8')
  }
  const server = createServer({
    cert: readFileSync(mesh.serverCert),
    key: readFileSync(mesh.serverKey),
    ca: readFileSync(mesh.ca),
    requestCert: true,
    rejectUnauthorized: true
  })
  const peers: Array<{ authorized: boolean, cn: string }> = []
  server.on('secureConnection', (s: TLSSocket) => {
    peers.push({ authorized: s.authorized, cn: String(s.getPeerCertificate().subject?.CN) })
    s.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const port = (server.address() as AddressInfo).port

  // the client side checks the broker side's IP SAN (no SNI for an address)
  const client = connect({ host: '127.0.0.1', port, ca: readFileSync(mesh.ca), cert: readFileSync(mesh.clientCert), key: readFileSync(mesh.clientKey) })
  await once(client, 'secureConnect')
  t.equal(client.authorized, true, `client verified the server: ${String(client.authorizationError)}`)
  await once(client, 'end')
  client.destroy()
  t.same(peers, [{ authorized: true, cn: CLIENT_SIDE_CN }], 'server verified the client certificate, CN client-proxy')

  const bad = connect({ host: '127.0.0.1', port, ca: readFileSync(mesh.ca) })
  const outcome = await Promise.race([once(bad, 'error').then(([e]) => `error ${(e as Error).message}`), once(bad, 'close').then(() => 'closed')])
  bad.destroy()
  t.match(outcome, /error|closed/, `without a client certificate the handshake fails: ${outcome}`)
  t.equal(peers.length, 1, 'and never reaches the application')
})
