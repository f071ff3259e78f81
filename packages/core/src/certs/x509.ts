import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import forge from 'node-forge'
import { KproxyError } from '../kproxy-error.ts'
import { DEFAULT_RSA_KEY_SIZE, generateRsaKeyPair } from './keys.ts'

// All values are PEM strings. `key` is always PKCS#8 ('BEGIN PRIVATE KEY').
export interface CertificateAuthority {
  cert: string
  key: string
}

export interface IssuedCertificate {
  cert: string
  key: string
  // The leaf followed by the CA certificate: what a TLS peer presents.
  chain: string
}

export interface CreateCaOptions {
  commonName?: string
  days?: number
  keySize?: number
}

export interface IssueCertificateOptions {
  // Subject common name.
  name: string
  // Extended key usage: serverAuth and/or clientAuth; at least one must be set.
  server?: boolean
  client?: boolean
  // Subject alternative names as 'DNS:host', 'IP:address' (IPv4 or IPv6) or 'URI:scheme:…'
  // (e.g. a SPIFFE id 'URI:spiffe://trust.domain/path').
  sans?: readonly string[]
  // Extra subject attributes beside the common name, by node-forge name or short name
  // (organizationName / O, organizationalUnitName / OU, countryName / C, ...), in certificate
  // order: most general first, the CN is appended last.
  subject?: ReadonlyArray<{ name: string, value: string }>
  days?: number
  // An explicit validity window; either bound replaces the one computed from `days` (and the
  // backdating). Tests use it for expired and not-yet-valid certificates.
  notBefore?: Date
  notAfter?: Date
  keySize?: number
}

const DEFAULT_CA_DAYS = 3650
const DEFAULT_LEAF_DAYS = 825
// Backdating absorbs small clock differences between the machine that issues and the peer that checks.
const BACKDATE_MS = 5 * 60 * 1000

// GeneralName tags (RFC 5280 4.2.1.6) that node-forge understands.
const SAN_DNS = 2
const SAN_URI = 6
const SAN_IP = 7

export async function createCa (options: CreateCaOptions = {}): Promise<CertificateAuthority> {
  const commonName = options.commonName ?? 'kproxy CA'
  const days = checkDays(options.days ?? DEFAULT_CA_DAYS)
  const keys = await generateRsaKeyPair(options.keySize ?? DEFAULT_RSA_KEY_SIZE)
  const publicKey = forge.pki.publicKeyFromPem(keys.publicKey)
  const cert = newCertificate(publicKey, days)
  const subject = [{ name: 'commonName', value: commonName }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' }
  ])
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKey), forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert), key: keys.privateKey }
}

export async function issueCertificate (ca: CertificateAuthority, options: IssueCertificateOptions): Promise<IssuedCertificate> {
  if (typeof options.name !== 'string' || options.name === '') {
    throw new KproxyError('KPROXY_ERR_CERT_OPTIONS', 'A certificate needs a non-empty name (its common name).')
  }
  if (options.server !== true && options.client !== true) {
    throw new KproxyError('KPROXY_ERR_CERT_OPTIONS', `Certificate '${options.name}' must be issued for server use, client use, or both.`)
  }
  const days = checkDays(options.days ?? DEFAULT_LEAF_DAYS)
  const altNames = (options.sans ?? []).map(parseSan)
  const subject = subjectAttributes(options)
  const { caCert, caKey } = loadCa(ca)
  const keys = await generateRsaKeyPair(options.keySize ?? DEFAULT_RSA_KEY_SIZE)
  const cert = newCertificate(forge.pki.publicKeyFromPem(keys.publicKey), days)
  if (options.notBefore !== undefined) cert.validity.notBefore = checkDate(options.notBefore, 'notBefore', options.name)
  if (options.notAfter !== undefined) cert.validity.notAfter = checkDate(options.notAfter, 'notAfter', options.name)
  if (cert.validity.notAfter.getTime() <= cert.validity.notBefore.getTime()) {
    throw new KproxyError('KPROXY_ERR_CERT_OPTIONS', `Certificate '${options.name}' must have notAfter later than notBefore.`)
  }
  cert.setSubject(subject)
  cert.setIssuer(caCert.subject.attributes)
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    // keyEncipherment covers RSA key exchange (TLS 1.2); digitalSignature covers (EC)DHE and TLS 1.3.
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: options.server === true, clientAuth: options.client === true },
    { name: 'subjectKeyIdentifier' },
    // `keyIdentifier: true` would take the new certificate's own key id; the authority's is wanted.
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() }
  ]
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames })
  cert.setExtensions(extensions)
  cert.sign(caKey, forge.md.sha256.create())
  const pem = forge.pki.certificateToPem(cert)
  return { cert: pem, key: keys.privateKey, chain: pem + ca.cert }
}

// Kafka's PEM keystore (ssl.keystore.type=PEM) reads one file: the PKCS#8 key, then the chain.
export function pemKeystore (issued: IssuedCertificate): string {
  return issued.key + issued.chain
}

function newCertificate (publicKey: forge.pki.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = randomSerial()
  const now = Date.now()
  cert.validity.notBefore = new Date(now - BACKDATE_MS)
  cert.validity.notAfter = new Date(now + days * 86_400_000)
  return cert
}

// 16 random bytes with the top bit clear (DER INTEGER stays positive) and a non-zero first
// byte (no leading zero octet, so the encoding is the minimal one strict parsers expect).
function randomSerial (): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return bytes.toString('hex')
}

function checkDate (d: Date, what: string, name: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new KproxyError('KPROXY_ERR_CERT_OPTIONS', `Certificate '${name}' has an invalid ${what} date.`)
  }
  return d
}

// Known attribute names only: forge would otherwise encode an attribute it has no OID for as
// garbage, or throw an untyped error at signing time.
function subjectAttributes (options: IssueCertificateOptions): SubjectAttribute[] {
  const out: SubjectAttribute[] = []
  const oids = forge.pki.oids as Record<string, string | undefined>
  for (const a of options.subject ?? []) {
    const known = a !== null && typeof a === 'object' && typeof a.value === 'string' && a.value !== '' &&
      typeof a.name === 'string' && a.name !== 'commonName' && a.name !== 'CN'
    if (known && /^\d+(\.\d+)+$/.test(oids[a.name] ?? '')) out.push(withTag({ name: a.name, value: a.value }))
    else if (known && SHORT_NAMES.has(a.name)) out.push(withTag({ shortName: a.name, value: a.value }))
    else {
      throw new KproxyError('KPROXY_ERR_CERT_OPTIONS', `Certificate '${options.name}' has an unknown or empty subject attribute ${JSON.stringify(a?.name)}; use names like organizationName or O, and set the common name with 'name'.`)
    }
  }
  out.push(withTag({ name: 'commonName', value: options.name }))
  return out
}

interface SubjectAttribute { name?: string, shortName?: string, value: string, valueTagClass?: number }

// forge writes PrintableString by default, which cannot hold e.g. '_', '@', '&' or non-ASCII;
// such values go out as UTF8String (what OpenSSL does too).
function withTag (a: SubjectAttribute): SubjectAttribute {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(a.value)) a.valueTagClass = forge.asn1.Type.UTF8
  return a
}

// The short names node-forge maps to OIDs (forge.pki.certificate attribute shortName).
const SHORT_NAMES = new Set(['C', 'ST', 'L', 'O', 'OU', 'E'])

function checkDays (days: number): number {
  if (!Number.isInteger(days) || days < 1) {
    throw new KproxyError('KPROXY_ERR_CERT_OPTIONS', `Certificate validity must be a whole number of days >= 1, got ${days}.`)
  }
  return days
}

// For callers that check all input before generating any key.
export function isValidSan (san: string): boolean {
  try {
    parseSan(san)
    return true
  } catch {
    return false
  }
}

function parseSan (san: string): { type: number, value?: string, ip?: string } {
  const colon = san.indexOf(':')
  const kind = colon < 0 ? '' : san.slice(0, colon).toUpperCase()
  const value = san.slice(colon + 1)
  if (kind === 'DNS' && /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value)) {
    return { type: SAN_DNS, value }
  }
  if (kind === 'IP' && isIP(value) !== 0) return { type: SAN_IP, ip: value }
  // RFC 5280 4.2.1.6: a URI SAN is an absolute URI (scheme ':' ...), no spaces.
  if (kind === 'URI' && /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(value)) return { type: SAN_URI, value }
  throw new KproxyError('KPROXY_ERR_CERT_SAN', `Subject alternative name '${san}' is not valid; write it as DNS:host.name, IP:address or URI:scheme:rest.`)
}

function loadCa (ca: CertificateAuthority): { caCert: forge.pki.Certificate, caKey: forge.pki.rsa.PrivateKey } {
  let caCert: forge.pki.Certificate
  let caKey: forge.pki.rsa.PrivateKey
  try {
    caCert = forge.pki.certificateFromPem(ca.cert)
    caKey = forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_CERT_CA', 'The CA certificate or key is not a readable RSA PEM.', { cause: err })
  }
  const caPublic = caCert.publicKey as forge.pki.rsa.PublicKey
  if (caPublic.n === undefined || caKey.n === undefined || caPublic.n.compareTo(caKey.n) !== 0) {
    throw new KproxyError('KPROXY_ERR_CERT_CA', 'The CA key does not belong to the CA certificate.')
  }
  return { caCert, caKey }
}
