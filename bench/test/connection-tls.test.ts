// The generator's connections over TLS with a client certificate (--tls-ca/--tls-cert/--tls-key):
// a TLS server that requires a certificate from the same CA sees the client's name, and answers
// a request whose throttle time the bench reads.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import { FrameReader } from '@kproxy/core/protocol/frame-reader'
import { SetupConnection, useTls } from '../src/connection.ts'
import { encodeApiVersions } from '../src/requests.ts'

t.test('a bench connection over mTLS', async t => {
  const dir = t.testdir()
  const ca = await createCa({ commonName: 'bench test CA', days: 1 })
  const server = await issueCertificate(ca, { name: 'server', server: true, sans: ['IP:127.0.0.1'], days: 1 })
  const alice = await issueCertificate(ca, { name: 'alice', client: true, days: 1 })
  const file = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f }
  const caFile = file('ca.crt', ca.cert)
  const names: string[] = []
  const tls = createServer({ cert: server.chain, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (socket: TLSSocket) => {
    names.push(String(socket.getPeerCertificate().subject.CN))
    const reader = new FrameReader({
      onFrame: f => {
        const payload = Buffer.concat(f.chunks)
        const answer = Buffer.alloc(4 + 4)
        answer.writeInt32BE(4, 0)
        answer.writeInt32BE(payload.readInt32BE(4), 4)
        socket.write(answer)
      },
      onError: () => socket.destroy()
    })
    socket.on('data', c => reader.push(c))
  })
  await new Promise<void>(resolve => tls.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { tls.close(); useTls(null) })
  const port = (tls.address() as { port: number }).port

  useTls({ ca: caFile, cert: file('alice.crt', alice.chain), key: file('alice.key', alice.key) })
  const conn = await SetupConnection.open('127.0.0.1', port)
  const payload = await conn.request(id => encodeApiVersions(id), 'ApiVersions')
  t.equal(payload.length, 4, 'answered over TLS')
  t.same(names, ['alice'], 'the server saw the client certificate')
  conn.close()

  useTls({ ca: caFile, cert: null, key: null })
  // TLS 1.3: the client's handshake completes before the server checks its certificate; the
  // refusal arrives as an alert, failing the first request
  const refused = SetupConnection.open('127.0.0.1', port).then(c => c.request(id => encodeApiVersions(id), 'ApiVersions', 5000))
  await t.rejects(refused, /certificate|closed|failed/i, 'without a client certificate the server refuses')
  t.throws(() => useTls({ ca: join(dir, 'missing.crt'), cert: null, key: null }), /Cannot read a TLS file/)
})
