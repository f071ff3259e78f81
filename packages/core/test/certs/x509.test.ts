import t from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { once } from 'node:events'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import { createCa, isValidSan, issueCertificate, pemKeystore } from '../../src/certs/x509.ts'
import type { CertificateAuthority, IssuedCertificate } from '../../src/certs/x509.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'

const SANS = ['DNS:localhost', 'IP:127.0.0.1']

t.test('a CA is a self-signed CA certificate with a PKCS#8 key', async t => {
  const ca = await createCa({ commonName: 'test CA', days: 30 })
  t.match(ca.key, /^-----BEGIN PRIVATE KEY-----\n/)
  const x = new X509Certificate(ca.cert)
  t.equal(x.ca, true)
  t.equal(x.subject, 'CN=test CA')
  t.equal(x.issuer, 'CN=test CA')
  t.ok(x.verify(x.publicKey), 'self-signed')
  t.ok(x.checkPrivateKey(createPrivateKey(ca.key)))
  const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000
  t.ok(days > 29.9 && days < 30.1, `valid for ~30 days (${days})`)
  t.equal(createPrivateKey(ca.key).asymmetricKeyDetails?.modulusLength, 2048)
})

t.test('an issued certificate carries SANs, usages, and verifies against its CA', async t => {
  const ca = await createCa()
  const leaf = await issueCertificate(ca, { name: 'broker-1', server: true, client: true, sans: SANS, days: 10 })
  t.match(leaf.key, /^-----BEGIN PRIVATE KEY-----\n/)
  const x = new X509Certificate(leaf.cert)
  const caX = new X509Certificate(ca.cert)
  t.equal(x.ca, false)
  t.equal(x.subject, 'CN=broker-1')
  t.equal(x.issuer, 'CN=kproxy CA')
  t.equal(x.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1')
  t.ok(x.verify(caX.publicKey), 'signed by the CA')
  t.notOk(x.verify(x.publicKey), 'not self-signed')
  t.ok(x.checkIssued(caX))
  t.ok(x.checkHost('localhost'))
  t.ok(x.checkIP('127.0.0.1'))
  t.equal(x.checkIP('127.0.0.2'), undefined)
  t.same(x.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'serverAuth + clientAuth')
  t.ok(x.checkPrivateKey(createPrivateKey(leaf.key)))
  // A positive serial: the first hex digit is below 8.
  t.match(x.serialNumber, /^[0-7][0-9A-F]{31}$/)
  t.equal(leaf.chain, leaf.cert + ca.cert)
  t.equal(pemKeystore(leaf), leaf.key + leaf.cert + ca.cert)
})

t.test('serial numbers differ between certificates', async t => {
  const ca = await createCa()
  const a = await issueCertificate(ca, { name: 'a', client: true })
  const b = await issueCertificate(ca, { name: 'b', client: true })
  t.not(new X509Certificate(a.cert).serialNumber, new X509Certificate(b.cert).serialNumber)
  t.same(new X509Certificate(a.cert).keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth only')
  t.equal(new X509Certificate(a.cert).subjectAltName, undefined)
})

t.test('key sizes 3072 is honoured; odd sizes are refused', async t => {
  const ca = await createCa({ keySize: 3072 })
  t.equal(createPrivateKey(ca.key).asymmetricKeyDetails?.modulusLength, 3072)
  await t.rejects(createCa({ keySize: 1024 }), { code: 'KPROXY_ERR_CERT_KEY_SIZE' })
})

t.test('bad options are coded errors', async t => {
  const ca = await createCa()
  await t.rejects(issueCertificate(ca, { name: 'x', server: true, sans: ['localhost'] }), { code: 'KPROXY_ERR_CERT_SAN' })
  await t.rejects(issueCertificate(ca, { name: 'x', server: true, sans: ['IP:300.1.1.1'] }), { code: 'KPROXY_ERR_CERT_SAN' })
  await t.rejects(issueCertificate(ca, { name: 'x' }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
  await t.rejects(issueCertificate(ca, { name: 'x', client: true, days: 0 }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
  const other = await createCa()
  await t.rejects(issueCertificate({ cert: ca.cert, key: other.key }, { name: 'x', client: true }), { code: 'KPROXY_ERR_CERT_CA' })
  await t.rejects(issueCertificate({ cert: 'nope', key: ca.key }, { name: 'x', client: true }), { code: 'KPROXY_ERR_CERT_CA' })
  const v6 = await issueCertificate(ca, { name: 'v6', server: true, sans: ['IP:::1'] })
  t.equal(new X509Certificate(v6.cert).subjectAltName, 'IP Address:0:0:0:0:0:0:0:1')
})

t.test('outputs load into a TLS secure context', async t => {
  const ca = await createCa()
  const leaf = await issueCertificate(ca, { name: 'server', server: true, sans: SANS })
  t.doesNotThrow(() => tls.createSecureContext({ key: leaf.key, cert: leaf.chain, ca: ca.cert }))
  t.doesNotThrow(() => tls.createSecureContext({ key: pemKeystore(leaf), cert: pemKeystore(leaf) }))
})

// A real handshake on loopback with client authentication required.
async function handshake (ca: CertificateAuthority, server: IssuedCertificate, client: IssuedCertificate | null, trust: string): Promise<string> {
  const srv = tls.createServer({ key: server.key, cert: server.chain, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, socket => {
    socket.end('hello ' + (socket.getPeerCertificate().subject?.CN ?? '?'))
  })
  srv.on('tlsClientError', () => {})
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as AddressInfo
  try {
    return await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        ca: trust,
        ...(client === null ? {} : { key: client.key, cert: client.chain })
      })
      let data = ''
      socket.setEncoding('utf8')
      socket.on('data', chunk => { data += chunk })
      socket.on('end', () => { data === '' ? reject(new Error('closed without data')) : resolve(data) })
      socket.on('error', reject)
    })
  } finally {
    srv.close()
  }
}

t.test('mutual TLS handshake on 127.0.0.1', async t => {
  const ca = await createCa()
  const server = await issueCertificate(ca, { name: 'server', server: true, sans: SANS })
  const client = await issueCertificate(ca, { name: 'alice', client: true })
  t.equal(await handshake(ca, server, client, ca.cert), 'hello alice', 'issued client certificate is accepted')
  await t.rejects(handshake(ca, server, null, ca.cert), 'no client certificate is refused')
  const other = await createCa({ commonName: 'other CA' })
  const stranger = await issueCertificate(other, { name: 'mallory', client: true })
  await t.rejects(handshake(ca, server, stranger, ca.cert), 'client certificate from another CA is refused')
  await t.rejects(handshake(ca, server, client, other.cert), 'client refuses a server from a CA it does not trust')
  const serverOnly = await issueCertificate(ca, { name: 'bob', server: true })
  await t.rejects(handshake(ca, server, serverOnly, ca.cert), 'a serverAuth-only certificate is not a client certificate')
})

t.test('errors are KproxyErrors', async t => {
  const err = await createCa({ keySize: 1 }).catch((e: unknown) => e)
  t.ok(isKproxyError(err, 'KPROXY_ERR_CERT_KEY_SIZE'))
})

t.test('isValidSan accepts what issueCertificate accepts', async t => {
  for (const ok of ['DNS:localhost', 'dns:a.b.example', 'DNS:*.kafka.local', 'IP:127.0.0.1', 'IP:::1']) t.ok(isValidSan(ok), ok)
  for (const bad of ['localhost', 'DNS:', 'DNS:a..b', 'IP:300.1.1.1', 'URI:x', 'EMAIL:a@b']) t.notOk(isValidSan(bad), bad)
})

t.test('URI SANs, extra subject attributes and explicit validity windows', async t => {
  const ca = await createCa()
  const leaf = await issueCertificate(ca, {
    name: 'alice',
    client: true,
    subject: [{ name: 'countryName', value: 'DE' }, { name: 'organizationName', value: 'acme, inc' }, { name: 'OU', value: 'eng_team' }],
    sans: ['URI:spiffe://example.org/ns/prod/sa/alice', 'DNS:alice.local']
  })
  const x = new X509Certificate(leaf.cert)
  t.equal(x.subject, 'C=DE\nO=acme\\, inc\nOU=eng_team\nCN=alice', 'attributes in the given order, CN last (node escapes the comma)')
  t.equal(x.subjectAltName, 'URI:spiffe://example.org/ns/prod/sa/alice, DNS:alice.local')
  const notBefore = new Date(Date.now() - 10 * 86_400_000)
  const notAfter = new Date(Date.now() - 86_400_000)
  const expired = new X509Certificate((await issueCertificate(ca, { name: 'old', client: true, notBefore, notAfter })).cert)
  t.equal(Date.parse(expired.validTo), Math.floor(notAfter.getTime() / 1000) * 1000)
  t.equal(Date.parse(expired.validFrom), Math.floor(notBefore.getTime() / 1000) * 1000)
  const future = new X509Certificate((await issueCertificate(ca, { name: 'new', client: true, notBefore: new Date(Date.now() + 86_400_000) })).cert)
  t.ok(Date.parse(future.validFrom) > Date.now(), 'not yet valid')
  t.ok(Date.parse(future.validTo) > Date.parse(future.validFrom), 'notAfter from days still later')
  await t.rejects(issueCertificate(ca, { name: 'x', client: true, notBefore: notAfter, notAfter: notBefore }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
  await t.rejects(issueCertificate(ca, { name: 'x', client: true, notAfter: new Date('nope') }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
  await t.rejects(issueCertificate(ca, { name: 'x', client: true, subject: [{ name: 'bogusName', value: 'v' }] }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
  await t.rejects(issueCertificate(ca, { name: 'x', client: true, subject: [{ name: 'commonName', value: 'v' }] }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
  await t.rejects(issueCertificate(ca, { name: 'x', client: true, subject: [{ name: 'O', value: '' }] }), { code: 'KPROXY_ERR_CERT_OPTIONS' })
})

t.test('isValidSan accepts URI SANs with a scheme', async t => {
  for (const ok of ['URI:spiffe://td/ns/a', 'uri:https://example.org/x', 'URI:urn:uuid:1234']) t.ok(isValidSan(ok), ok)
  for (const bad of ['URI:', 'URI:x', 'URI:spiffe://a b', 'URI:1abc:x']) t.notOk(isValidSan(bad), bad)
})
