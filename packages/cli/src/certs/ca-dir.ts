// The CA directory `kproxy certs init` writes and `kproxy certs issue --ca` reads.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { CertificateAuthority } from '@kproxy/core/certs/x509'

export const CA_CERT_FILE = 'ca.crt'
export const CA_KEY_FILE = 'ca.key'

export function caPaths (dir: string): { cert: string, key: string } {
  return { cert: join(dir, CA_CERT_FILE), key: join(dir, CA_KEY_FILE) }
}

// Reads and checks a CA: a CA certificate (basicConstraints CA:true), still valid, and its RSA key.
// Returns the (first) certificate and the key re-encoded as PKCS#8.
export async function readCaDir (dir: string): Promise<CertificateAuthority> {
  const paths = caPaths(dir)
  const certPem = await readCaFile(dir, paths.cert, 'certificate')
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certPem)
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_CERTS_CA_UNREADABLE', `${paths.cert} is not a PEM certificate; pass a directory made by \`kproxy certs init\`.`, { cause: err })
  }
  if (!cert.ca) {
    throw new KproxyError('KPROXY_ERR_CERTS_NOT_CA', `${paths.cert} is not a CA certificate (it lacks basicConstraints CA:true); pass a directory made by \`kproxy certs init\`.`)
  }
  if (Date.parse(cert.validTo) <= Date.now()) {
    throw new KproxyError('KPROXY_ERR_CERTS_CA_EXPIRED', `The CA certificate ${paths.cert} expired on ${cert.validTo}; make a new CA with \`kproxy certs init\`.`)
  }
  // Only now: a directory holding some other certificate is better told that than that a key is missing.
  const keyPem = await readCaFile(dir, paths.key, 'key')
  let key: KeyObject
  try {
    key = createPrivateKey(keyPem)
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_CERTS_CA_UNREADABLE', `${paths.key} is not an unencrypted PEM private key.`, { cause: err })
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new KproxyError('KPROXY_ERR_CERTS_CA_KEY', `${paths.key} is a ${key.asymmetricKeyType ?? 'non-RSA'} key; kproxy signs with RSA CA keys only.`)
  }
  if (!cert.checkPrivateKey(key)) {
    throw new KproxyError('KPROXY_ERR_CERTS_CA_KEY', `${paths.key} is not the key of ${paths.cert}; keep the two files of one CA together.`)
  }
  // The file as it is when it holds just this certificate, so that O/ca.crt is a byte-for-byte copy.
  const certificates = certPem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0
  return { cert: certificates === 1 ? certPem : cert.toString(), key: key.export({ type: 'pkcs8', format: 'pem' }) as string }
}

async function readCaFile (dir: string, path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new KproxyError('KPROXY_ERR_CERTS_CA_MISSING', `There is no CA ${what} at ${path}; create a CA with \`kproxy certs init --dir ${dir}\`.`, { cause: err })
    }
    throw new KproxyError('KPROXY_ERR_CERTS_CA_UNREADABLE', `Cannot read the CA ${what} ${path} (${code ?? String(err)}).`, { cause: err })
  }
}
