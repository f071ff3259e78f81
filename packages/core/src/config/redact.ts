// /config_dump shows the running configuration without secrets: any field whose name looks like a
// password, secret, token, credential or private key is replaced, at any depth.
const SECRET_NAME = /(password|passwd|secret|token|credential|private|passphrase)/i
const KEY_NAME = /(^key$|[a-z]Key$|_key$)/

export const REDACTED = '[redacted]'

export function isSecretName (name: string): boolean {
  return SECRET_NAME.test(name) || KEY_NAME.test(name)
}

export function redactSecrets (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretName(k) && v !== null && v !== undefined ? REDACTED : redactSecrets(v)
  }
  return out
}
