// Checks for `kproxy certs` input. Everything is checked before any key is generated, so bad
// input costs nothing and leaves nothing behind.
import { KproxyError } from '@kproxy/core/kproxy-error'
import { RSA_KEY_SIZES } from '@kproxy/core/certs/keys'
import { isValidSan } from '@kproxy/core/certs/x509'

// 100 years: beyond that a typo is more likely than intent.
export const MAX_DAYS = 36_500

// A name becomes a file name (O/N.crt, O/N.key) and the certificate's common name.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

// `{name}` in a SAN stands for each name, so one bulk command can give every server its own DNS name.
export const NAME_PLACEHOLDER = '{name}'

export function parseDays (text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const days = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new KproxyError('KPROXY_ERR_CERTS_DAYS', `--days must be a whole number of days from 1 to ${MAX_DAYS}, not '${text}'.`)
  }
  return days
}

export function parseKeySize (text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const size = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN
  if (!RSA_KEY_SIZES.includes(size)) {
    throw new KproxyError('KPROXY_ERR_CERTS_KEY_SIZE', `--key-size must be one of ${RSA_KEY_SIZES.join(', ')}, not '${text}'.`)
  }
  return size
}

// Repeated flags and comma-separated lists mean the same: `--name a,b --name c` is a, b, c.
export function splitList (values: readonly string[]): string[] {
  return values.flatMap(v => v.split(',')).map(v => v.trim())
}

export function parseNames (values: readonly string[]): string[] {
  const names = splitList(values)
  const seen = new Set<string>()
  for (const name of names) {
    if (!NAME.test(name)) {
      throw new KproxyError('KPROXY_ERR_CERTS_NAME', `Certificate name '${name}' is not usable; use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`)
    }
    if (name === 'ca') {
      throw new KproxyError('KPROXY_ERR_CERTS_NAME', "The name 'ca' is taken by the CA certificate (ca.crt); choose another name.")
    }
    if (seen.has(name)) {
      throw new KproxyError('KPROXY_ERR_CERTS_NAME', `Certificate name '${name}' is given twice; give each name once.`)
    }
    seen.add(name)
  }
  return names
}

// SAN templates for one name, checked: 'DNS:{name}.kafka.local' -> 'DNS:broker-1.kafka.local'.
export function sansFor (templates: readonly string[], name: string): string[] {
  return templates.map(template => {
    const san = template.replaceAll(NAME_PLACEHOLDER, name)
    if (!isValidSan(san)) {
      throw new KproxyError('KPROXY_ERR_CERTS_SAN', `Subject alternative name '${san}' is not valid; write it as DNS:host.name or IP:address, several separated by commas.`)
    }
    return san
  })
}
