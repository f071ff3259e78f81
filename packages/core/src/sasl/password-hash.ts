// PLAIN passwords are stored as scrypt hashes (memory-hard, salted, parameters kept beside the
// hash so that they can be raised later without breaking old entries). Checking one costs
// ~100 ms of one libuv thread and 32 MB, on purpose; two things keep a login storm from taking
// the thread pool (which DNS lookups and file reads share) away from the proxy:
//  - at most MAX_CONCURRENT_KDF checks run at once, the rest wait their turn;
//  - a verifier remembers the last password it accepted as a keyed hash (process-random key,
//    memory only), so a client that reconnects with the right password costs one HMAC.
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

export interface ScryptParameters {
  readonly N: number
  readonly r: number
  readonly p: number
}

export interface PasswordHash extends ScryptParameters {
  readonly kdf: 'scrypt'
  readonly salt: Buffer
  readonly hash: Buffer
}

export const DEFAULT_SCRYPT: ScryptParameters = { N: 32768, r: 8, p: 1 }
export const SCRYPT_LIMITS = { minLog2N: 14, maxLog2N: 20, maxR: 32, maxP: 16, minSalt: 16, minHash: 32, maxHash: 64 } as const
const HASH_LENGTH = 32
const SALT_LENGTH = 16
const MAX_CONCURRENT_KDF = 2

// Why a stored hash's parameters are unusable, or null when they are fine.
export function checkScryptParameters (h: { N: number, r: number, p: number, salt: Buffer, hash: Buffer }): string | null {
  const log2 = Math.log2(h.N)
  if (!Number.isInteger(log2) || log2 < SCRYPT_LIMITS.minLog2N || log2 > SCRYPT_LIMITS.maxLog2N) {
    return `N must be a power of two from 2^${SCRYPT_LIMITS.minLog2N} to 2^${SCRYPT_LIMITS.maxLog2N}`
  }
  if (!Number.isInteger(h.r) || h.r < 1 || h.r > SCRYPT_LIMITS.maxR) return `r must be a whole number from 1 to ${SCRYPT_LIMITS.maxR}`
  if (!Number.isInteger(h.p) || h.p < 1 || h.p > SCRYPT_LIMITS.maxP) return `p must be a whole number from 1 to ${SCRYPT_LIMITS.maxP}`
  if (h.salt.length < SCRYPT_LIMITS.minSalt) return `the salt must have at least ${SCRYPT_LIMITS.minSalt} bytes`
  if (h.hash.length < SCRYPT_LIMITS.minHash || h.hash.length > SCRYPT_LIMITS.maxHash) return `the hash must have ${SCRYPT_LIMITS.minHash} to ${SCRYPT_LIMITS.maxHash} bytes`
  return null
}

let running = 0
const waiting: Array<() => void> = []

function derive (password: string, salt: Buffer, params: ScryptParameters, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const start = (): void => {
      running++
      scrypt(Buffer.from(password, 'utf8'), salt, length, { ...params, maxmem: 256 * params.N * params.r * params.p }, (err, key) => {
        running--
        waiting.shift()?.()
        if (err !== null) reject(err)
        else resolve(key)
      })
    }
    if (running < MAX_CONCURRENT_KDF) start()
    else waiting.push(start)
  })
}

export async function hashPassword (password: string, params: ScryptParameters = DEFAULT_SCRYPT): Promise<PasswordHash> {
  const salt = randomBytes(SALT_LENGTH)
  const hash = await derive(password, salt, params, HASH_LENGTH)
  return { kdf: 'scrypt', N: params.N, r: params.r, p: params.p, salt, hash }
}

export async function passwordMatches (stored: PasswordHash, password: string): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored, stored.hash.length)
  return timingSafeEqual(candidate, stored.hash)
}

const MEMO_KEY = randomBytes(32)

function memo (password: string): Buffer {
  return createHmac('sha256', MEMO_KEY).update(password, 'utf8').digest()
}

// One stored PLAIN password. A reload builds new verifiers, so a changed password forgets the memo.
export class PasswordVerifier {
  readonly stored: PasswordHash
  #accepted: Buffer | null = null

  constructor (stored: PasswordHash) {
    this.stored = stored
  }

  async verify (password: string): Promise<boolean> {
    const m = memo(password)
    if (this.#accepted !== null && timingSafeEqual(this.#accepted, m)) return true
    const ok = await passwordMatches(this.stored, password)
    if (ok) this.#accepted = m
    return ok
  }
}

// For unknown users: the same work as a real check, so that timing does not tell who exists.
const DECOY = { kdf: 'scrypt' as const, ...DEFAULT_SCRYPT, salt: randomBytes(SALT_LENGTH), hash: randomBytes(HASH_LENGTH) }
export async function decoyVerify (password: string): Promise<false> {
  await passwordMatches(DECOY, password)
  return false
}
