// PEM files behind kproxy's TLS settings: read with errors that name the file and the setting,
// checked by building a SecureContext (a key that does not match its certificate fails here, at
// start or at reload, not at a client's handshake), and watched for changes.
//
// Watching polls the files' stat (fs.watchFile) rather than using inotify: certificate tools
// replace files by renaming a new one over the old (cert-manager, Vault agents, `mv`), which an
// inotify watch on the old inode would miss.
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import type { Stats } from 'node:fs'
import { createSecureContext } from 'node:tls'
import type { SecureContext, SecureContextOptions } from 'node:tls'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { DownstreamTlsConfig, UpstreamTlsConfig } from '@kproxy/core/config/proxy-config'

export interface PemFile {
  // the config key, for messages: 'brokerMode.tls.cert'
  setting: string
  path: string
}

export function readPem (file: PemFile): Buffer {
  let data: Buffer
  try {
    data = readFileSync(file.path)
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_TLS_FILE', `${file.setting}: cannot read ${file.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path and that kproxy may read it.`)
  }
  if (!data.includes('-----BEGIN ')) {
    throw new KproxyError('KPROXY_ERR_TLS_FILE', `${file.setting}: ${file.path} holds no PEM block (-----BEGIN …); kproxy expects PEM certificates and PKCS#8 or PKCS#1 keys.`)
  }
  // OpenSSL skips PEM blocks of the wrong kind: a key given as the CA would leave no trust
  // anchor at all and fail every handshake later with an unhelpful message.
  const wantsKey = file.setting.endsWith('.key')
  if (wantsKey ? !/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(data.toString('latin1')) : !data.includes('-----BEGIN CERTIFICATE-----')) {
    throw new KproxyError('KPROXY_ERR_TLS_FILE', `${file.setting}: ${file.path} holds no ${wantsKey ? 'private key' : 'certificate'} (PEM '-----BEGIN ${wantsKey ? 'PRIVATE KEY' : 'CERTIFICATE'}-----'); check that the files are not swapped.`)
  }
  return data
}

// Builds a SecureContext, turning OpenSSL's messages into one sentence naming the files.
export function secureContextFrom (options: SecureContextOptions, files: readonly PemFile[]): SecureContext {
  try {
    return createSecureContext(options)
  } catch (err) {
    const names = files.map(f => `${f.setting}=${f.path}`).join(', ')
    throw new KproxyError('KPROXY_ERR_TLS_FILE', `the TLS files ${names} cannot be used together: ${(err as Error).message} (is the key the one of the certificate, and are both PEM?)`)
  }
}

// The files behind each side's settings; the setting names end in .cert, .key or .ca, which is
// also the SecureContext option each file fills (readTlsFiles).
export function downstreamTlsFiles (c: DownstreamTlsConfig): PemFile[] {
  const files: PemFile[] = [{ setting: 'brokerMode.tls.cert', path: c.cert }, { setting: 'brokerMode.tls.key', path: c.key }]
  if (c.ca !== null) files.push({ setting: 'brokerMode.tls.ca', path: c.ca })
  return files
}

// `at`: the key of the settings (mesh mode: mesh.clusters[i].tls)
export function upstreamTlsFiles (c: UpstreamTlsConfig, at = 'brokerMode.upstreamTls'): PemFile[] {
  const files: PemFile[] = []
  if (c.ca !== null) files.push({ setting: `${at}.ca`, path: c.ca })
  if (c.cert !== null && c.key !== null) {
    files.push({ setting: `${at}.cert`, path: c.cert }, { setting: `${at}.key`, path: c.key })
  }
  return files
}

// Reads the files into `base` (cert, key, ca by their settings' suffix) and checks that they
// make a SecureContext together (a key that is not its certificate's fails here, not at a
// handshake). Returns both: a server wants the options, a client the context.
export function readTlsFiles (files: readonly PemFile[], base: SecureContextOptions = {}): { options: SecureContextOptions, context: SecureContext } {
  const options: SecureContextOptions = { ...base }
  for (const file of files) {
    const data = readPem(file)
    if (file.setting.endsWith('.cert')) options.cert = data
    else if (file.setting.endsWith('.key')) options.key = data
    else options.ca = data
  }
  return { options, context: secureContextFrom(options, files) }
}

const POLL_MS = 1000

// Calls onChange (at most once per poll round) when any file's size, mtime or inode changes.
// Returns the function that stops watching.
export function watchPemFiles (files: readonly PemFile[], onChange: () => void): () => void {
  let pending = false
  const listener = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return
    if (pending) return
    pending = true
    // a tool writing cert and key one after the other: let both land before reloading
    setTimeout(() => {
      pending = false
      onChange()
    }, 200).unref()
  }
  const paths = [...new Set(files.map(f => f.path))]
  for (const p of paths) watchFile(p, { interval: POLL_MS, persistent: false }, listener)
  return () => {
    for (const p of paths) unwatchFile(p, listener)
  }
}
