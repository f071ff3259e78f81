// The SASL credentials file: salted SCRAM verifiers and scrypt password hashes, never a
// password. Written by `kproxy users`, read by the SASL servers (reloaded live).
//
//   version: 1
//   users:
//     alice:
//       SCRAM-SHA-512: { salt: <base64>, iterations: 4096, storedKey: <base64>, serverKey: <base64> }
//       PLAIN: { kdf: scrypt, N: 32768, r: 8, p: 1, salt: <base64>, hash: <base64> }
//
// A user may hold any of the three mechanisms; a client can log in with those it holds.
import type { PasswordHash } from '../sasl/password-hash.ts'
import { checkScryptParameters } from '../sasl/password-hash.ts'
import { SASL_MECHANISMS, SCRAM_MECHANISMS, isScramMechanism } from '../sasl/sasl-mechanism.ts'
import type { SaslMechanismName, ScramMechanismName } from '../sasl/sasl-mechanism.ts'
import type { ScramCredential } from '../sasl/scram-formulas.ts'
import { describeValue, isPlainObject, parsePolicyYaml, PolicyFileError, Problems } from './policy-source.ts'
import type { PathSegment } from './policy-source.ts'

export const CREDENTIALS_FILE_VERSION = 1
export const CREDENTIALS_ERROR = 'KPROXY_ERR_CREDENTIALS_FILE'

export interface UserCredentials {
  scram: Partial<Record<ScramMechanismName, ScramCredential>>
  plain?: PasswordHash
}

// user name -> what is stored for it
export type CredentialEntries = Map<string, UserCredentials>

export function userMechanisms (entry: UserCredentials): SaslMechanismName[] {
  return SASL_MECHANISMS.filter(m => m === 'PLAIN' ? entry.plain !== undefined : entry.scram[m] !== undefined)
}

// Why a user name cannot be stored, or null. SCRAM names travel in Kafka's 7-bit grammar.
export function checkUserName (name: string, mechanisms: readonly SaslMechanismName[]): string | null {
  if (name === '') return 'a user name cannot be empty'
  if (name.length > 255) return 'a user name has at most 255 characters'
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'a user name cannot hold control characters'
  // eslint-disable-next-line no-control-regex
  if (mechanisms.some(isScramMechanism) && !/^[\x01-\x7f]+$/.test(name)) return 'a SCRAM user name must be 7-bit ASCII (Kafka\'s SCRAM grammar allows nothing else)'
  return null
}

export function parseCredentialsFile (text: string, file: string): CredentialEntries {
  const source = parsePolicyYaml(text, file, CREDENTIALS_ERROR, `Credentials file ${file} is invalid`)
  const problems = new Problems(source.locate)
  const entries = readEntries(source.value, problems)
  if (!problems.empty) throw new PolicyFileError(CREDENTIALS_ERROR, `Credentials file ${file} is invalid (the users loaded before stay in effect)`, problems.list)
  return entries
}

function readEntries (doc: unknown, problems: Problems): CredentialEntries {
  const out: CredentialEntries = new Map()
  if (doc === null || doc === undefined) return out
  if (!isPlainObject(doc)) {
    problems.add([], `expected a mapping with 'version: ${CREDENTIALS_FILE_VERSION}' and 'users', got ${describeValue(doc)}`)
    return out
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'version' && key !== 'users') problems.add([key], `unknown key '${key}'; allowed: version, users`, 'key')
  }
  if (doc.version !== CREDENTIALS_FILE_VERSION) problems.add(['version'], `got ${describeValue(doc.version)}; allowed: ${CREDENTIALS_FILE_VERSION} (files are written by kproxy users)`)
  const users = doc.users ?? {}
  if (!isPlainObject(users)) {
    problems.add(['users'], `expected a mapping of user name to mechanisms, got ${describeValue(users)}`)
    return out
  }
  for (const [name, value] of Object.entries(users)) {
    const path = ['users', name]
    if (!isPlainObject(value) || Object.keys(value).length === 0) {
      problems.add(path, `expected a mapping of mechanism to credential, got ${describeValue(value)}; allowed mechanisms: ${SASL_MECHANISMS.join(', ')}`)
      continue
    }
    const entry: UserCredentials = { scram: {} }
    for (const [mech, cred] of Object.entries(value)) {
      const at = [...path, mech]
      if (mech === 'PLAIN') {
        const h = readPlain(cred, at, problems)
        if (h !== null) entry.plain = h
      } else if (isScramMechanism(mech)) {
        const c = readScram(mech, cred, at, problems)
        if (c !== null) entry.scram[mech] = c
      } else {
        problems.add(at, `unknown mechanism '${mech}'; allowed: ${SASL_MECHANISMS.join(', ')}`, 'key')
      }
    }
    const why = checkUserName(name, Object.keys(value) as SaslMechanismName[])
    if (why !== null) problems.add(path, why, 'key')
    out.set(name, entry)
  }
  return out
}

function fields (value: unknown, path: PathSegment[], allowed: readonly string[], problems: Problems): Record<string, unknown> | null {
  if (!isPlainObject(value)) {
    problems.add(path, `expected a mapping with ${allowed.join(', ')}, got ${describeValue(value)}`)
    return null
  }
  for (const k of Object.keys(value)) if (!allowed.includes(k)) problems.add([...path, k], `unknown key '${k}'; allowed: ${allowed.join(', ')}`, 'key')
  for (const k of allowed) if (!(k in value)) problems.add(path, `missing '${k}'`)
  return value
}

function base64 (value: unknown, path: PathSegment[], problems: Problems, length?: number): Buffer | null {
  if (typeof value !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value) || value === '') {
    problems.add(path, 'expected base64 bytes')
    return null
  }
  const bytes = Buffer.from(value, 'base64')
  if (length !== undefined && bytes.length !== length) {
    problems.add(path, `expected ${length} bytes, got ${bytes.length}`)
    return null
  }
  return bytes
}

function int (value: unknown, path: PathSegment[], problems: Problems, min: number, max: number): number | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(path, `got ${describeValue(value)}; allowed: a whole number from ${min} to ${max}`)
    return null
  }
  return value
}

function readScram (mech: ScramMechanismName, value: unknown, path: PathSegment[], problems: Problems): ScramCredential | null {
  const p = SCRAM_MECHANISMS[mech]
  const f = fields(value, path, ['salt', 'iterations', 'storedKey', 'serverKey'], problems)
  if (f === null) return null
  const salt = base64(f.salt, [...path, 'salt'], problems)
  // The server refuses fewer than the minimum at login (as Kafka does); refuse them at load too.
  const iterations = int(f.iterations, [...path, 'iterations'], problems, p.minIterations, 0x7fffffff)
  const storedKey = base64(f.storedKey, [...path, 'storedKey'], problems, p.keyLength)
  const serverKey = base64(f.serverKey, [...path, 'serverKey'], problems, p.keyLength)
  if (salt === null || iterations === null || storedKey === null || serverKey === null) return null
  return { salt, iterations, storedKey, serverKey }
}

function readPlain (value: unknown, path: PathSegment[], problems: Problems): PasswordHash | null {
  const f = fields(value, path, ['kdf', 'N', 'r', 'p', 'salt', 'hash'], problems)
  if (f === null) return null
  if (f.kdf !== 'scrypt') problems.add([...path, 'kdf'], `got ${describeValue(f.kdf)}; allowed: scrypt`)
  const N = int(f.N, [...path, 'N'], problems, 1, 2 ** 30)
  const r = int(f.r, [...path, 'r'], problems, 1, 1024)
  const pp = int(f.p, [...path, 'p'], problems, 1, 1024)
  const salt = base64(f.salt, [...path, 'salt'], problems)
  const hash = base64(f.hash, [...path, 'hash'], problems)
  if (f.kdf !== 'scrypt' || N === null || r === null || pp === null || salt === null || hash === null) return null
  const stored: PasswordHash = { kdf: 'scrypt', N, r, p: pp, salt, hash }
  const why = checkScryptParameters(stored)
  if (why !== null) {
    problems.add(path, why)
    return null
  }
  return stored
}

// The file as `kproxy users` writes it: users sorted, one flow mapping per credential, names
// quoted as JSON strings (which YAML reads back unchanged).
export function formatCredentialsFile (entries: CredentialEntries): string {
  const lines = [
    '# kproxy SASL credentials, written by `kproxy users` (docs/policy.md): salted SCRAM verifiers',
    '# and scrypt password hashes only, never a password. Keep it private (mode 0600).',
    `version: ${CREDENTIALS_FILE_VERSION}`
  ]
  const names = [...entries.keys()].sort()
  if (names.length === 0) {
    lines.push('users: {}')
    return lines.join('\n') + '\n'
  }
  lines.push('users:')
  for (const name of names) {
    const e = entries.get(name)!
    lines.push(`  ${JSON.stringify(name)}:`)
    for (const m of userMechanisms(e)) {
      if (m === 'PLAIN') {
        const h = e.plain!
        lines.push(`    PLAIN: { kdf: scrypt, N: ${h.N}, r: ${h.r}, p: ${h.p}, salt: ${h.salt.toString('base64')}, hash: ${h.hash.toString('base64')} }`)
      } else {
        const c = e.scram[m]!
        lines.push(`    ${m}: { salt: ${c.salt.toString('base64')}, iterations: ${c.iterations}, storedKey: ${c.storedKey.toString('base64')}, serverKey: ${c.serverKey.toString('base64')} }`)
      }
    }
  }
  return lines.join('\n') + '\n'
}
