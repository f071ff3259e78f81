import { generateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'
import { KproxyError } from '../kproxy-error.ts'

const generateKeyPairAsync = promisify(generateKeyPair)

export const RSA_KEY_SIZES: readonly number[] = [2048, 3072, 4096]
export const DEFAULT_RSA_KEY_SIZE = 2048

export interface RsaKeyPair {
  // PKCS#8 ('BEGIN PRIVATE KEY'): the only private key PEM Kafka's PEM keystore accepts.
  privateKey: string
  // SubjectPublicKeyInfo ('BEGIN PUBLIC KEY').
  publicKey: string
}

// Keys come from node:crypto (OpenSSL, fast, native) rather than node-forge's pure-JS prime
// search, which takes seconds for 2048 bits. node-forge only builds and signs the certificates.
export async function generateRsaKeyPair (keySize: number = DEFAULT_RSA_KEY_SIZE): Promise<RsaKeyPair> {
  if (!RSA_KEY_SIZES.includes(keySize)) {
    throw new KproxyError('KPROXY_ERR_CERT_KEY_SIZE', `RSA key size ${keySize} is not supported; use one of ${RSA_KEY_SIZES.join(', ')}.`)
  }
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: keySize,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  })
  return { privateKey, publicKey }
}
