import t from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { initCa } from '../../src/certs/init-ca.ts'
import { issueCerts } from '../../src/certs/issue-certs.ts'

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

function pemBlocks (pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
}

function mode (path: string): number {
  return statSync(path).mode & 0o777
}

const root = t.testdir()
const caDir = join(root, 'ca')
const caWritten = await initCa({ dir: caDir, commonName: 'test CA', days: 10 })
const caCert = new X509Certificate(readFileSync(join(caDir, 'ca.crt')))

t.test('init: ca.key (PKCS#8, 0600) and ca.crt (a self-signed CA), key first', async t => {
  t.same(caWritten, [join(caDir, 'ca.key'), join(caDir, 'ca.crt')])
  t.equal(mode(join(caDir, 'ca.key')), 0o600)
  t.equal(mode(join(caDir, 'ca.crt')), 0o644)
  const key = readFileSync(join(caDir, 'ca.key'), 'utf8')
  t.match(key, /^-----BEGIN PRIVATE KEY-----\n/)
  t.ok(caCert.ca, 'basicConstraints CA:true')
  t.equal(caCert.subject, 'CN=test CA')
  t.equal(caCert.issuer, 'CN=test CA')
  t.ok(caCert.checkPrivateKey(createPrivateKey(key)))
  const days = (Date.parse(caCert.validTo) - Date.now()) / 86_400_000
  t.ok(days > 9.9 && days <= 10, `valid for 10 days (${days.toFixed(3)})`)
})

t.test('init: --key-size, refusal without --force, replacement with it', async t => {
  const dir = join(root, 'ca-3072')
  await initCa({ dir, keySize: 3072 })
  t.equal(createPrivateKey(readFileSync(join(dir, 'ca.key'))).asymmetricKeyDetails?.modulusLength, 3072)
  t.equal(new X509Certificate(readFileSync(join(dir, 'ca.crt'))).subject, 'CN=kproxy CA', 'default common name')
  const before = readFileSync(join(dir, 'ca.crt'), 'utf8')
  await t.rejects(initCa({ dir }), { code: 'KPROXY_ERR_CERTS_EXISTS', message: `${join(dir, 'ca.key')} already exists; pass --force to overwrite it.` })
  t.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), before)
  await initCa({ dir, force: true })
  t.not(readFileSync(join(dir, 'ca.crt'), 'utf8'), before, 'a new CA')
  t.equal(mode(join(dir, 'ca.key')), 0o600)
})

t.test('issue: files, modes, chain order, SANs, key usages', async t => {
  const out = join(root, 'server')
  const result = await issueCerts({ caDir, names: ['broker-1'], server: true, sans: ['DNS:{name}.kafka.local', 'DNS:localhost', 'IP:127.0.0.1'], days: 3, outDir: out })
  t.same(result.written, [join(out, 'broker-1.key'), join(out, 'broker-1.crt'), join(out, 'ca.crt')])
  t.same(result.threadIds, [0], 'one name is signed on the main thread')
  t.same(readdirSync(out).sort(), ['broker-1.crt', 'broker-1.key', 'ca.crt'], 'no temporary files left')
  t.equal(mode(join(out, 'broker-1.key')), 0o600)
  t.equal(mode(join(out, 'broker-1.crt')), 0o644)
  t.equal(readFileSync(join(out, 'ca.crt'), 'utf8'), readFileSync(join(caDir, 'ca.crt'), 'utf8'), 'O/ca.crt is a copy of the CA')

  const blocks = pemBlocks(readFileSync(join(out, 'broker-1.crt'), 'utf8'))
  t.equal(blocks.length, 2, 'leaf + CA')
  const leaf = new X509Certificate(blocks[0]!)
  t.equal(leaf.subject, 'CN=broker-1', 'the leaf comes first')
  t.ok(new X509Certificate(blocks[1]!).ca, 'then the CA')
  t.equal(new X509Certificate(blocks[1]!).fingerprint256, caCert.fingerprint256)
  t.ok(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey), 'signed by the CA')
  t.notOk(leaf.ca)
  t.equal(leaf.subjectAltName, 'DNS:broker-1.kafka.local, DNS:localhost, IP Address:127.0.0.1')
  t.same(leaf.keyUsage, [SERVER_AUTH])
  t.equal(leaf.checkHost('broker-1.kafka.local'), 'broker-1.kafka.local')
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(leaf.checkHost('other.kafka.local'), undefined)
  const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000
  t.ok(days > 2.9 && days <= 3, `valid for 3 days (${days.toFixed(3)})`)

  const key = readFileSync(join(out, 'broker-1.key'), 'utf8')
  t.match(key, /^-----BEGIN PRIVATE KEY-----\n[^]+-----END PRIVATE KEY-----\n$/, 'PKCS#8 PEM')
  t.ok(leaf.checkPrivateKey(createPrivateKey(key)), 'the key belongs to the certificate')
  t.equal(createPrivateKey(key).asymmetricKeyDetails?.modulusLength, 2048)
})

t.test('issue: client, both usages, key size', async t => {
  const out = join(root, 'clients')
  await issueCerts({ caDir, names: ['app'], client: true, keySize: 3072, outDir: out })
  const app = new X509Certificate(readFileSync(join(out, 'app.crt')))
  t.same(app.keyUsage, [CLIENT_AUTH])
  t.equal(app.subjectAltName, undefined, 'no SANs asked, none written')
  t.equal(createPrivateKey(readFileSync(join(out, 'app.key'))).asymmetricKeyDetails?.modulusLength, 3072)
  await issueCerts({ caDir, names: ['both'], server: true, client: true, sans: ['DNS:localhost'], outDir: out })
  t.same(new X509Certificate(readFileSync(join(out, 'both.crt'))).keyUsage?.sort(), [SERVER_AUTH, CLIENT_AUTH].sort())
})

t.test('issue: --force behaviour; an identical ca.crt is not an overwrite', async t => {
  const out = join(root, 'force')
  await issueCerts({ caDir, names: ['a'], client: true, outDir: out })
  const before = readFileSync(join(out, 'a.crt'), 'utf8')
  await t.rejects(issueCerts({ caDir, names: ['a'], client: true, outDir: out }), { code: 'KPROXY_ERR_CERTS_EXISTS', message: `${join(out, 'a.key')} already exists; pass --force to overwrite it.` })
  t.equal(readFileSync(join(out, 'a.crt'), 'utf8'), before)
  // A second batch into the same directory: ca.crt already holds the same CA.
  await issueCerts({ caDir, names: ['b'], client: true, outDir: out })
  t.same(readdirSync(out).sort(), ['a.crt', 'a.key', 'b.crt', 'b.key', 'ca.crt'])
  await issueCerts({ caDir, names: ['a'], client: true, outDir: out, force: true })
  t.not(readFileSync(join(out, 'a.crt'), 'utf8'), before, 'replaced with --force')
  // Issuing into the CA directory itself.
  await issueCerts({ caDir, names: ['local'], client: true, outDir: caDir })
  t.ok(existsSync(join(caDir, 'local.crt')))

  // ca.crt from another CA is a real overwrite.
  const otherCa = join(root, 'other-ca')
  await initCa({ dir: otherCa })
  await t.rejects(issueCerts({ caDir: otherCa, names: ['c'], client: true, outDir: out }), { code: 'KPROXY_ERR_CERTS_EXISTS', message: new RegExp(`${join(out, 'ca.crt')} already exists`) })
  t.notOk(existsSync(join(out, 'c.key')), 'nothing written')
})

t.test('bulk: 8 names give 8 distinct valid certificates, signed on pool threads', async t => {
  const out = join(root, 'bulk')
  const names = Array.from({ length: 8 }, (_, i) => `broker-${i + 1}`)
  const result = await issueCerts({ caDir, names, server: true, client: true, sans: ['DNS:{name}.kafka.local', 'IP:127.0.0.1'], outDir: out, threads: 3 })
  t.equal(result.written.length, 17)
  t.equal(result.threadIds.length, 8)
  t.ok(result.threadIds.every(id => id > 0), `all signed on worker threads (${result.threadIds.join(',')})`)
  const threads = new Set(result.threadIds)
  // how piscina spreads 8 tasks over its threads depends on timing; that it uses no more than
  // the 3 it was given does not
  t.ok(threads.size >= 1 && threads.size <= 3, `at most 3 pool threads used (${threads.size})`)
  const serials = new Set<string>()
  const keys = new Set<string>()
  for (const name of names) {
    const leaf = new X509Certificate(pemBlocks(readFileSync(join(out, `${name}.crt`), 'utf8'))[0]!)
    const key = readFileSync(join(out, `${name}.key`), 'utf8')
    t.equal(leaf.subject, `CN=${name}`)
    t.equal(leaf.subjectAltName, `DNS:${name}.kafka.local, IP Address:127.0.0.1`)
    t.ok(leaf.verify(caCert.publicKey) && leaf.checkPrivateKey(createPrivateKey(key)), `${name} verifies and matches its key`)
    t.equal(mode(join(out, `${name}.key`)), 0o600)
    serials.add(leaf.serialNumber)
    keys.add(key)
  }
  t.equal(serials.size, 8, 'distinct serial numbers')
  t.equal(keys.size, 8, 'distinct keys')
})

t.test('bulk with the default pool size', async t => {
  const result = await issueCerts({ caDir, names: ['x,y,z'], client: true, outDir: join(root, 'bulk-default') })
  t.equal(result.written.length, 7)
  t.ok(result.threadIds.every(id => id > 0), 'worker threads')
})

t.test('bad input: a coded error and nothing written', async t => {
  const out = join(root, 'bad')
  // A directory whose ca.crt/ca.key are a leaf certificate and its key.
  const leafDir = join(root, 'leaf-as-ca')
  mkdirSync(leafDir)
  copyFileSync(join(root, 'server', 'broker-1.crt'), join(leafDir, 'ca.crt'))
  copyFileSync(join(root, 'server', 'broker-1.key'), join(leafDir, 'ca.key'))
  const cases: Array<[string, Parameters<typeof issueCerts>[0]]> = [
    ['KPROXY_ERR_CERTS_CA_MISSING', { caDir: join(root, 'no-ca'), names: ['a'], client: true, outDir: out }],
    ['KPROXY_ERR_CERTS_NOT_CA', { caDir: leafDir, names: ['a'], client: true, outDir: out }],
    ['KPROXY_ERR_CERTS_SAN', { caDir, names: ['a'], server: true, sans: ['localhost'], outDir: out }],
    ['KPROXY_ERR_CERTS_SAN', { caDir, names: ['a', 'b_c'], server: true, sans: ['DNS:{name}'], outDir: out }],
    ['KPROXY_ERR_CERTS_NAME', { caDir, names: ['../a'], client: true, outDir: out }],
    ['KPROXY_ERR_CERTS_NAME', { caDir, names: [], client: true, outDir: out }],
    ['KPROXY_ERR_CERTS_USAGE', { caDir, names: ['a'], outDir: out }],
    ['KPROXY_ERR_CERT_KEY_SIZE', { caDir, names: ['a', 'b'], client: true, keySize: 1024, outDir: out }]
  ]
  for (const [code, options] of cases) {
    await t.rejects(issueCerts(options), { code }, `${code}: ${JSON.stringify({ ...options, caDir: undefined, outDir: undefined })}`)
  }
  t.notOk(existsSync(out), 'the output directory was never created')
})
