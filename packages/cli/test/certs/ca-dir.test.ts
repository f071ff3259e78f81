import t from 'tap'
import { X509Certificate, generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import forge from 'node-forge'
import { createCa, issueCertificate } from '@kproxy/core'
import { readCaDir } from '../../src/certs/ca-dir.ts'

const ca = await createCa({ commonName: 'test CA', days: 2 })

t.test('reads a CA directory; the key comes back as PKCS#8', async t => {
  const dir = t.testdir({ 'ca.crt': ca.cert, 'ca.key': ca.key })
  const read = await readCaDir(dir)
  t.equal(read.cert, ca.cert)
  t.equal(read.key, ca.key)
  t.match(read.key, /^-----BEGIN PRIVATE KEY-----\n/)
})

t.test('a PKCS#1 CA key is accepted and re-encoded as PKCS#8', async t => {
  const pkcs1 = forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(ca.key))
  t.match(pkcs1, /BEGIN RSA PRIVATE KEY/)
  const read = await readCaDir(t.testdir({ 'ca.crt': ca.cert, 'ca.key': pkcs1 }))
  t.match(read.key, /^-----BEGIN PRIVATE KEY-----\n/)
})

t.test('missing directory or files', async t => {
  const dir = t.testdir({ only: { 'ca.crt': ca.cert } })
  await t.rejects(readCaDir(join(dir, 'nowhere')), { code: 'KPROXY_ERR_CERTS_CA_MISSING', message: /no CA certificate at .*nowhere\/ca\.crt; create a CA with `kproxy certs init/ })
  await t.rejects(readCaDir(join(dir, 'only')), { code: 'KPROXY_ERR_CERTS_CA_MISSING', message: /no CA key at .*only\/ca\.key/ })
})

t.test('unreadable: not PEM, an encrypted key, a directory instead of a file', async t => {
  const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey
  const dir = t.testdir({
    garbage: { 'ca.crt': 'hello', 'ca.key': ca.key },
    badkey: { 'ca.crt': ca.cert, 'ca.key': 'nope' },
    encrypted: { 'ca.crt': ca.cert, 'ca.key': encrypted },
    dirs: { 'ca.crt': {}, 'ca.key': ca.key }
  })
  await t.rejects(readCaDir(join(dir, 'garbage')), { code: 'KPROXY_ERR_CERTS_CA_UNREADABLE', message: /ca\.crt is not a PEM certificate/ })
  await t.rejects(readCaDir(join(dir, 'badkey')), { code: 'KPROXY_ERR_CERTS_CA_UNREADABLE', message: /ca\.key is not an unencrypted PEM private key/ })
  await t.rejects(readCaDir(join(dir, 'encrypted')), { code: 'KPROXY_ERR_CERTS_CA_UNREADABLE' })
  await t.rejects(readCaDir(join(dir, 'dirs')), { code: 'KPROXY_ERR_CERTS_CA_UNREADABLE', message: /EISDIR/ })
})

t.test('a leaf certificate is not a CA', async t => {
  const leaf = await issueCertificate(ca, { name: 'leaf', server: true })
  const dir = t.testdir({ 'ca.crt': leaf.cert, 'ca.key': leaf.key })
  await t.rejects(readCaDir(dir), { code: 'KPROXY_ERR_CERTS_NOT_CA', message: /is not a CA certificate/ })
})

t.test('the key must belong to the certificate and be RSA', async t => {
  const other = await createCa({ days: 1 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const dir = t.testdir({ mixed: { 'ca.crt': ca.cert, 'ca.key': other.key }, ec: { 'ca.crt': ca.cert, 'ca.key': ec } })
  await t.rejects(readCaDir(join(dir, 'mixed')), { code: 'KPROXY_ERR_CERTS_CA_KEY', message: /is not the key of/ })
  await t.rejects(readCaDir(join(dir, 'ec')), { code: 'KPROXY_ERR_CERTS_CA_KEY', message: /is a ec key/ })
})

t.test('an expired CA is refused', async t => {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 })
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = '01'
  cert.validity.notBefore = new Date(Date.now() - 3 * 86_400_000)
  cert.validity.notAfter = new Date(Date.now() - 86_400_000)
  const subject = [{ name: 'commonName', value: 'expired CA' }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  const dir = t.testdir({ 'ca.crt': forge.pki.certificateToPem(cert), 'ca.key': forge.pki.privateKeyToPem(keys.privateKey) })
  await t.rejects(readCaDir(dir), { code: 'KPROXY_ERR_CERTS_CA_EXPIRED', message: /expired on/ })
})

t.test('a file with several certificates: the first is the CA', async t => {
  const other = await createCa({ commonName: 'other', days: 1 })
  const read = await readCaDir(t.testdir({ 'ca.crt': ca.cert + other.cert, 'ca.key': ca.key }))
  t.equal(new X509Certificate(read.cert).subject, 'CN=test CA')
  t.equal(read.cert.match(/BEGIN CERTIFICATE/g)?.length, 1)
})
