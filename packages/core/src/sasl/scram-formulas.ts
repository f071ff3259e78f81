// RFC 5802 section 3, the arithmetic of SCRAM:
//   SaltedPassword  := Hi(Normalize(password), salt, i)      (PBKDF2 with HMAC-H)
//   ClientKey       := HMAC(SaltedPassword, "Client Key")
//   StoredKey       := H(ClientKey)
//   AuthMessage     := client-first-message-bare + "," + server-first-message + "," +
//                      client-final-message-without-proof
//   ClientSignature := HMAC(StoredKey, AuthMessage)
//   ClientProof     := ClientKey XOR ClientSignature
//   ServerKey       := HMAC(SaltedPassword, "Server Key")
//   ServerSignature := HMAC(ServerKey, AuthMessage)
// Normalize is the identity, as in Kafka (no SASLprep): the password's UTF-8 bytes.
import { createHash, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto'
import type { ScramParameters } from './sasl-mechanism.ts'

// What a server keeps of a SCRAM password: enough to verify a proof and sign the answer,
// not enough to log in (a thief of StoredKey still lacks ClientKey).
export interface ScramCredential {
  readonly salt: Buffer
  readonly iterations: number
  readonly storedKey: Buffer
  readonly serverKey: Buffer
}

// Hi() runs on libuv's thread pool: thousands of HMAC rounds must not block an event loop.
export function saltedPassword (mech: ScramParameters, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, mech.keyLength, mech.hash, (err, key) => {
      if (err !== null) reject(err)
      else resolve(key)
    })
  })
}

export function hmac (mech: ScramParameters, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(mech.hash, key).update(data).digest()
}

export function hash (mech: ScramParameters, data: Buffer): Buffer {
  return createHash(mech.hash).update(data).digest()
}

export function xor (a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

export function clientKey (mech: ScramParameters, salted: Buffer): Buffer {
  return hmac(mech, salted, 'Client Key')
}

export function serverKey (mech: ScramParameters, salted: Buffer): Buffer {
  return hmac(mech, salted, 'Server Key')
}

export async function scramCredential (mech: ScramParameters, password: string, salt: Buffer, iterations: number): Promise<ScramCredential> {
  const salted = await saltedPassword(mech, password, salt, iterations)
  return { salt, iterations, storedKey: hash(mech, clientKey(mech, salted)), serverKey: serverKey(mech, salted) }
}

export function clientProof (mech: ScramParameters, salted: Buffer, authMessage: string): Buffer {
  const key = clientKey(mech, salted)
  return xor(key, hmac(mech, hash(mech, key), authMessage))
}

// The server side of the proof: ClientKey = ClientProof XOR ClientSignature, and H(ClientKey)
// must be the StoredKey. Constant time in the compared bytes.
export function proofMatches (mech: ScramParameters, credential: ScramCredential, authMessage: string, proof: Buffer): boolean {
  if (proof.length !== mech.keyLength || credential.storedKey.length !== mech.keyLength) return false
  const signature = hmac(mech, credential.storedKey, authMessage)
  return timingSafeEqual(hash(mech, xor(proof, signature)), credential.storedKey)
}

export function serverSignature (mech: ScramParameters, key: Buffer, authMessage: string): Buffer {
  return hmac(mech, key, authMessage)
}

export function signaturesEqual (a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
