// `kproxy users add|remove|list`: edits of the credentials file (core's format), written
// atomically with mode 0600. A file that does not parse is never rewritten: the edit fails
// with the file's own errors.
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { checkUserName, formatCredentialsFile, parseCredentialsFile, userMechanisms } from '@kproxy/core/policy/credentials-file'
import type { CredentialEntries } from '@kproxy/core/policy/credentials-file'
import { setPassword } from '@kproxy/core/policy/credential-builder'
import type { CredentialOptions } from '@kproxy/core/policy/credential-builder'
import type { SaslMechanismName } from '@kproxy/core/sasl/sasl-mechanism'
import { writePrivateFile } from './private-file.ts'

async function readEntries (path: string, mustExist: boolean): Promise<CredentialEntries> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !mustExist) return new Map()
    throw new KproxyError('KPROXY_ERR_USERS_READ', `Cannot read the credentials file ${path} (${code ?? (err as Error).message})${code === 'ENOENT' ? '; create it with `kproxy users add`' : ''}.`)
  }
  return parseCredentialsFile(text, path)
}

export interface AddUser {
  file: string
  name: string
  mechanisms: readonly SaslMechanismName[]
  password: string
  options?: CredentialOptions
}

// Returns the user's mechanisms after the change.
export async function addUser (req: AddUser): Promise<SaslMechanismName[]> {
  const path = resolve(req.file)
  const why = checkUserName(req.name, req.mechanisms)
  if (why !== null) throw new KproxyError('KPROXY_ERR_USERS_NAME', `Cannot store user '${req.name}': ${why}.`)
  const entries = await readEntries(path, false)
  const entry = entries.get(req.name) ?? { scram: {} }
  await setPassword(entry, req.mechanisms, req.password, req.options)
  entries.set(req.name, entry)
  await writePrivateFile(path, formatCredentialsFile(entries))
  return userMechanisms(entry)
}

// Without mechanisms: the whole user. Returns what is left of the user ([] when gone).
export async function removeUser (file: string, name: string, mechanisms: readonly SaslMechanismName[] = []): Promise<SaslMechanismName[]> {
  const path = resolve(file)
  const entries = await readEntries(path, true)
  const entry = entries.get(name)
  if (entry === undefined) throw new KproxyError('KPROXY_ERR_USERS_UNKNOWN', `There is no user '${name}' in ${path}; \`kproxy users list --file ${file}\` shows who is there.`)
  const held = userMechanisms(entry)
  for (const m of mechanisms) {
    if (!held.includes(m)) throw new KproxyError('KPROXY_ERR_USERS_UNKNOWN', `User '${name}' has no ${m} credential in ${path}; it has ${held.join(', ')}.`)
    if (m === 'PLAIN') delete entry.plain
    else delete entry.scram[m]
  }
  const left = mechanisms.length === 0 ? [] : userMechanisms(entry)
  if (left.length === 0) entries.delete(name)
  await writePrivateFile(path, formatCredentialsFile(entries))
  return left
}

export async function listUsers (file: string): Promise<Array<{ name: string, mechanisms: SaslMechanismName[] }>> {
  const entries = await readEntries(resolve(file), true)
  return [...entries].map(([name, e]) => ({ name, mechanisms: userMechanisms(e) })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}
