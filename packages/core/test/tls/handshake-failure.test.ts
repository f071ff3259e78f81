// Real handshakes on 127.0.0.1: each case provokes the failure with node:tls and asserts both the
// error Node raised and the reason it classifies to, so a Node/OpenSSL upgrade that changes an
// error shows up here.
import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createCa, issueCertificate } from '../../src/certs/x509.ts'
import type { IssuedCertificate } from '../../src/certs/x509.ts'
import {
  TLS_FAILURE_INDEX, TLS_FAILURE_REASONS, UNKNOWN_SNI_CODE, classifyDownstreamError, classifyPeerVerification,
  classifyUpstreamError, describeTlsFailure, looksLikeTlsClientHello
} from '../../src/tls/handshake-failure.ts'

const DAY = 86_400_000
const ca = await createCa()
const otherCa = await createCa({ commonName: 'other CA' })
const SANS = ['DNS:localhost', 'IP:127.0.0.1']
const server = await issueCertificate(ca, { name: 'server', server: true, sans: SANS })
const client = await issueCertificate(ca, { name: 'alice', client: true })
const stranger = await issueCertificate(otherCa, { name: 'mallory', client: true })
const expiredClient = await issueCertificate(ca, { name: 'old', client: true, notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) })
const futureClient = await issueCertificate(ca, { name: 'new', client: true, notBefore: new Date(Date.now() + DAY) })
const serverOnly = await issueCertificate(ca, { name: 'bob', server: true })
const otherHostServer = await issueCertificate(ca, { name: 'server', server: true, sans: ['DNS:other'] })
const strangerServer = await issueCertificate(otherCa, { name: 'server', server: true, sans: SANS })
const expiredServer = await issueCertificate(ca, { name: 'server', server: true, sans: SANS, notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) })

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const
type NodeError = Error & { code?: string, reason?: string }

interface Outcome {
  tlsClientError?: NodeError
  accepted?: { authorized: boolean, authorizationError: string | null, hasPeerCertificate: boolean }
  clientSecure: boolean
  clientError?: NodeError
}

const key = (c: IssuedCertificate): { key: string, cert: string } => ({ key: c.key, cert: c.chain })

async function handshake (serverOptions: tls.TlsOptions, clientOptions: tls.ConnectionOptions): Promise<Outcome> {
  const out: Outcome = { clientSecure: false }
  let serverDone: () => void = () => {}
  const serverSettled = new Promise<void>(resolve => { serverDone = resolve })
  const srv = tls.createServer(serverOptions, socket => {
    const authorizationError = socket.authorizationError
    out.accepted = {
      authorized: socket.authorized,
      authorizationError: authorizationError === null || authorizationError === undefined ? null : String(authorizationError),
      hasPeerCertificate: Object.keys(socket.getPeerCertificate()).length > 0
    }
    socket.on('error', () => {})
    socket.end()
    serverDone()
  })
  srv.on('tlsClientError', err => { out.tlsClientError ??= err; serverDone() })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  try {
    await new Promise<void>(resolve => {
      const c = tls.connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ...clientOptions })
      c.on('secureConnect', () => { out.clientSecure = true })
      c.on('error', err => { out.clientError ??= err })
      c.on('close', () => resolve())
      c.resume()
    })
    await Promise.race([serverSettled, new Promise(resolve => setTimeout(resolve, 2000))])
  } finally {
    srv.close()
  }
  return out
}

const mtls = (rejectUnauthorized: boolean, v: tls.SecureVersion): tls.TlsOptions =>
  ({ ...key(server), ca: ca.cert, requestCert: true, rejectUnauthorized, maxVersion: v })

t.test('a verified client certificate: handshake done, nothing to classify', async t => {
  for (const v of VERSIONS) {
    const o = await handshake(mtls(false, v), { ca: ca.cert, ...key(client) })
    t.equal(o.accepted?.authorized, true, v)
    t.equal(classifyPeerVerification(o.accepted!.authorizationError, o.accepted!.hasPeerCertificate), null, v)
  }
})

t.test('no client certificate', async t => {
  for (const v of VERSIONS) {
    const rejected = await handshake(mtls(true, v), { ca: ca.cert })
    t.equal(rejected.tlsClientError?.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', `${v} server error`)
    t.equal(classifyDownstreamError(rejected.tlsClientError!), 'no_client_cert')
    if (v === 'TLSv1.2') {
      t.equal(rejected.clientSecure, false, 'TLS 1.2: the client sees the handshake fail')
      t.equal(rejected.clientError?.code, 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE')
    } else {
      t.equal(rejected.clientSecure, true, 'TLS 1.3: the client sees its handshake complete first')
      t.equal(rejected.clientError?.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'then the alert')
      t.equal(classifyDownstreamError(rejected.clientError!), 'no_client_cert')
    }
    t.equal(classifyUpstreamError(rejected.clientError!), 'upstream_handshake', `${v} as our upstream connect sees it`)
    const accepted = await handshake(mtls(false, v), { ca: ca.cert })
    t.same(accepted.accepted, { authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT', hasPeerCertificate: false }, `${v} hand-verified`)
    t.equal(classifyPeerVerification(accepted.accepted!.authorizationError, false), 'no_client_cert')
  }
})

t.test('client certificates that do not verify', async t => {
  const cases: Array<[string, { key: string, cert: string }, string, string]> = [
    ['another CA (chain sent)', key(stranger), 'SELF_SIGNED_CERT_IN_CHAIN', 'unknown_ca'],
    ['another CA (leaf only)', { key: stranger.key, cert: stranger.cert }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown_ca'],
    ['expired', key(expiredClient), 'CERT_HAS_EXPIRED', 'cert_expired'],
    ['not yet valid', key(futureClient), 'CERT_NOT_YET_VALID', 'cert_not_yet_valid'],
    ['serverAuth only', key(serverOnly), 'INVALID_PURPOSE', 'bad_certificate']
  ]
  for (const v of VERSIONS) {
    for (const [name, cert, code, reason] of cases) {
      const o = await handshake(mtls(false, v), { ca: ca.cert, ...cert })
      t.equal(o.accepted?.authorizationError, code, `${v} ${name}: authorizationError`)
      t.equal(o.accepted?.hasPeerCertificate, true)
      t.equal(classifyPeerVerification(o.accepted!.authorizationError, true), reason, `${v} ${name} -> ${reason}`)
    }
    // With rejectUnauthorized: true Node destroys the socket after the handshake and the reason
    // is lost: the server only sees a hang-up. Hence the hand verification above.
    const lost = await handshake(mtls(true, v), { ca: ca.cert, ...key(expiredClient) })
    t.equal(lost.tlsClientError?.code, 'ECONNRESET', `${v} rejectUnauthorized: true loses the reason`)
    t.equal(classifyDownstreamError(lost.tlsClientError!), 'other')
    t.equal(lost.clientSecure, v === 'TLSv1.3', `${v}: client handshake completed: ${lost.clientSecure}`)
  }
  t.equal(classifyPeerVerification(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), true), 'cert_expired', 'an Error with a code')
  t.equal(classifyPeerVerification('SOMETHING_NEW', true), 'bad_certificate')
})

t.test('plaintext bytes on a TLS port are not_tls', async t => {
  const kafkaFrame = Buffer.alloc(25)
  kafkaFrame.writeInt32BE(21, 0) // size, then ApiVersions v3 header
  kafkaFrame.writeInt16BE(18, 4)
  kafkaFrame.writeInt16BE(3, 6)
  kafkaFrame.writeInt32BE(1, 8)
  kafkaFrame.writeInt16BE(9, 12)
  kafkaFrame.write('kafkajs-x', 14)
  const cases: Array<[string, Buffer, string]> = [
    ['a Kafka ApiVersions frame', kafkaFrame, 'ERR_SSL_WRONG_VERSION_NUMBER'],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'ERR_SSL_HTTP_REQUEST'],
    ['a handshake record with a huge length', Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0, 0, 0]), 'ERR_SSL_DATA_LENGTH_TOO_LONG']
  ]
  for (const [name, bytes, code] of cases) {
    const err = await plaintextToTls(bytes)
    t.equal(err?.code, code, name)
    t.equal(classifyDownstreamError(err!), 'not_tls', name)
    t.notOk(looksLikeTlsClientHello(bytes) && code !== 'ERR_SSL_DATA_LENGTH_TOO_LONG', `${name}: not taken for a ClientHello`)
  }
  const silent = await plaintextToTls(null)
  t.equal(silent?.code, 'ECONNRESET', 'connect and close: a hang-up')
  t.equal(classifyDownstreamError(silent!), 'other')
  for (const message of ['...:SSL routines::packet length too long', '...:SSL routines::unexpected eof while reading', 'wrong version number']) {
    t.equal(classifyDownstreamError({ code: 'ERR_SSL_SOMETHING', message }), 'not_tls', message)
  }
})

async function plaintextToTls (bytes: Buffer | null): Promise<NodeError | undefined> {
  const srv = tls.createServer(key(server), socket => socket.end())
  const err = new Promise<NodeError>(resolve => srv.on('tlsClientError', resolve))
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const c = net.connect((srv.address() as AddressInfo).port, '127.0.0.1')
  c.on('error', () => {})
  c.resume()
  await once(c, 'connect')
  if (bytes !== null) c.write(bytes)
  c.end()
  try {
    return await Promise.race([err, new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), 2000))])
  } finally {
    c.destroy()
    srv.close()
  }
}

t.test('a TLS client on a plaintext port: the first chunk is a ClientHello', async t => {
  const chunks: Buffer[] = []
  // Answers like a Kafka broker would (a size-prefixed frame), which the TLS client cannot read.
  const srv = net.createServer(s => s.once('data', d => { chunks.push(d); s.end(Buffer.from([0, 0, 0, 4, 0, 0, 0, 1])) }))
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  for (const v of VERSIONS) {
    const err = await new Promise<NodeError | undefined>(resolve => {
      const c = tls.connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ca: ca.cert, maxVersion: v })
      let e: NodeError | undefined
      c.on('error', x => { e = x })
      c.on('close', () => resolve(e))
    })
    t.equal(err?.code, 'ERR_SSL_WRONG_VERSION_NUMBER', `${v}: the client cannot read the plaintext answer`)
    t.equal(classifyUpstreamError(err!), 'upstream_handshake')
  }
  srv.close()
  t.equal(chunks.length, 2)
  for (const c of chunks) {
    t.equal(c[0], 0x16, 'handshake record')
    t.ok(looksLikeTlsClientHello(c), c.subarray(0, 3).toString('hex'))
  }
  t.equal(looksLikeTlsClientHello(new Uint8Array([0x16, 0x03, 0x04])), true)
  t.equal(looksLikeTlsClientHello(new Uint8Array([0x16, 0x03, 0x05])), false)
  t.equal(looksLikeTlsClientHello(new Uint8Array([0x16, 0x03])), false, 'fewer than 3 bytes: undecided, false')
  t.equal(looksLikeTlsClientHello(new Uint8Array([0x00, 0x00, 0x00, 0x15, 0x00, 0x12])), false, 'a Kafka frame')
  t.equal(looksLikeTlsClientHello(new Uint8Array(0)), false)
})

t.test('upstream side: the server certificate does not verify', async t => {
  for (const v of VERSIONS) {
    const mismatch = await handshake({ ...key(otherHostServer), maxVersion: v }, { ca: ca.cert })
    t.equal(mismatch.clientError?.code, 'ERR_TLS_CERT_ALTNAME_INVALID', `${v} hostname`)
    t.equal(classifyUpstreamError(mismatch.clientError!), 'upstream_hostname_mismatch')
    const unknown = await handshake({ ...key(strangerServer), maxVersion: v }, { ca: ca.cert })
    t.equal(unknown.clientError?.code, 'SELF_SIGNED_CERT_IN_CHAIN', `${v} unknown CA`)
    t.equal(classifyUpstreamError(unknown.clientError!), 'upstream_unknown_ca')
    const leafOnly = await handshake({ key: strangerServer.key, cert: strangerServer.cert, maxVersion: v }, { ca: ca.cert })
    t.equal(leafOnly.clientError?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', `${v} unknown CA, leaf only`)
    t.equal(classifyUpstreamError(leafOnly.clientError!), 'upstream_unknown_ca')
    const expired = await handshake({ ...key(expiredServer), maxVersion: v }, { ca: ca.cert })
    t.equal(expired.clientError?.code, 'CERT_HAS_EXPIRED', `${v} expired`)
    t.equal(classifyUpstreamError(expired.clientError!), 'upstream_cert_expired')
    // The Node client destroys the socket without an alert; the server sees a hang-up.
    if (expired.tlsClientError !== undefined) t.equal(classifyDownstreamError(expired.tlsClientError), 'other')
  }
  t.equal(classifyUpstreamError({ code: 'CERT_NOT_YET_VALID' }), 'upstream_cert_expired')
  t.equal(classifyUpstreamError({ code: 'INVALID_PURPOSE' }), 'upstream_bad_certificate')
  t.equal(classifyUpstreamError({ code: 'ECONNRESET', message: 'Client network socket disconnected before secure TLS connection was established' }), 'upstream_handshake')
})

t.test('protocol version and cipher mismatches', async t => {
  for (const [s, c] of [[{ minVersion: 'TLSv1.3' }, { maxVersion: 'TLSv1.2' }], [{ maxVersion: 'TLSv1.2' }, { minVersion: 'TLSv1.3' }]] as const) {
    const o = await handshake({ ...key(server), ...s }, { ca: ca.cert, ...c })
    t.equal(o.tlsClientError?.code, 'ERR_SSL_UNSUPPORTED_PROTOCOL', JSON.stringify(s))
    t.equal(classifyDownstreamError(o.tlsClientError!), 'protocol_version')
    t.equal(o.clientError?.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')
    t.equal(classifyDownstreamError(o.clientError!), 'protocol_version')
    t.equal(classifyUpstreamError(o.clientError!), 'upstream_handshake')
  }
  const o = await handshake({ ...key(server), maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, { ca: ca.cert, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })
  t.equal(o.tlsClientError?.code, 'ERR_SSL_NO_SHARED_CIPHER')
  t.equal(classifyDownstreamError(o.tlsClientError!), 'no_shared_cipher')
  t.equal(o.clientError?.code, 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE')
  t.equal(classifyUpstreamError(o.clientError!), 'upstream_handshake')
})

t.test('handshake timeout and unknown SNI', async t => {
  const srv = tls.createServer({ ...key(server), handshakeTimeout: 200 }, s => s.end())
  const err = new Promise<NodeError>(resolve => srv.on('tlsClientError', resolve))
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const c = net.connect((srv.address() as AddressInfo).port, '127.0.0.1')
  c.on('error', () => {})
  const timeout = await err
  c.destroy()
  srv.close()
  t.equal(timeout.code, 'ERR_TLS_HANDSHAKE_TIMEOUT')
  t.equal(classifyDownstreamError(timeout), 'handshake_timeout')
  t.equal(classifyUpstreamError(timeout), 'handshake_timeout')
  // 'tlsClientError' passes the SNICallback's error through unchanged.
  const sni = await handshake({
    ...key(server),
    SNICallback: (name, cb) => cb(Object.assign(new Error(`no route for ${name}`), { code: UNKNOWN_SNI_CODE }), undefined)
  }, { ca: ca.cert, servername: 'nope.local' })
  t.equal(sni.tlsClientError?.code, UNKNOWN_SNI_CODE)
  t.equal(classifyDownstreamError(sni.tlsClientError!), 'unknown_sni')
  t.equal(sni.clientError?.code, 'ECONNRESET', 'the client only sees the connection drop')
})

t.test('every reason has a distinct sentence; the index matches the list', async t => {
  const seen = new Set<string>()
  TLS_FAILURE_REASONS.forEach((r, i) => {
    const s = describeTlsFailure(r)
    t.match(s, /^[A-Z].*\.$/, r)
    t.notOk(seen.has(s), `${r} unique`)
    seen.add(s)
    t.equal(TLS_FAILURE_INDEX[r], i)
  })
  t.equal(describeTlsFailure('bogus' as never), describeTlsFailure('other'))
  t.equal(classifyDownstreamError({}), 'other')
  t.equal(classifyDownstreamError(null as never), 'other')
  t.equal(classifyDownstreamError({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' }), 'unknown_ca', 'a client refusing our certificate (Java clients alert)')
})
