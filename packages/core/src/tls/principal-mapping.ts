// The principal of a client that authenticated with a certificate, in the spirit of Kafka's
// `ssl.principal.mapping.rules` (KIP-371), plus rules over subject alternative names (a SPIFFE
// id lives in a URI SAN, not in the DN). Rules, one per string:
//
//   RULE:<regex>/<replacement>/[L|U]   regex must match the whole subject DN (RFC 2253, most
//                                      specific RDN first, as Java's X500Principal.getName());
//                                      replacement takes $1..$n; L / U lower- / upper-cases
//   SAN:<regex>/<replacement>/[L|U]    the same against each SAN entry in certificate order
//                                      ('DNS:x', 'IP:1.2.3.4', 'URI:spiffe://td/p', 'email:a@b')
//   DEFAULT                            the full DN
//
// '/' inside the replacement is written '\/' (Kafka's grammar; in the regex '\/' works too, and so
// does a plain '/', since the rule is split at its last two slashes). The first rule that matches
// wins; when none does, the principal is the full DN.
//
// Where this differs from Kafka: a rule that yields an empty principal counts as no match (an
// empty user would be a wildcard-looking ACL subject); and the replacement is applied once to the
// whole match (Java's replaceAll with an unanchored `(.*)` would also append a second, empty match).
import type { X509Certificate } from 'node:crypto'
import { KproxyError } from '../kproxy-error.ts'

export interface CertIdentity {
  // RFC 2253 DN, most specific first, e.g. 'CN=alice,OU=eng,O=acme'
  subject: string
  // 'DNS:x', 'IP:1.2.3.4', 'URI:spiffe://…', 'email:a@b', in certificate order
  sans: readonly string[]
}

export interface PrincipalRule {
  readonly kind: 'dn' | 'san' | 'default'
  readonly source: string
  readonly regex: RegExp | null
  readonly replacement: string
  readonly caseFold: '' | 'L' | 'U'
}

const SYNTAX = "expected 'RULE:<regex>/<replacement>/' or 'SAN:<regex>/<replacement>/' (optionally ending in L or U, '/' escaped as '\\/'), or 'DEFAULT'"

export function parsePrincipalRules (rules: readonly string[]): PrincipalRule[] {
  if (!Array.isArray(rules)) throw ruleError(String(rules), 'the rules must be a list of strings')
  return rules.map(parseRule)
}

function parseRule (text: string): PrincipalRule {
  if (typeof text !== 'string') throw ruleError(String(text), 'a rule must be a string')
  const rule = text.trim()
  if (rule === 'DEFAULT') return { kind: 'default', source: rule, regex: null, replacement: '', caseFold: '' }
  const kind = rule.startsWith('RULE:') ? 'dn' : rule.startsWith('SAN:') ? 'san' : null
  if (kind === null) throw ruleError(text, 'it does not start with RULE:, SAN: or read DEFAULT')
  // Split from the right: the last unescaped '/' ends the replacement, the one before it ends
  // the regex. For Kafka's grammar (no unescaped '/' anywhere) this is the same split; it also
  // lets the regex hold unescaped slashes ('SAN:^URI:spiffe://([^/]+)/(.*)$/$2/').
  const slashes = unescapedSlashes(rule, kind === 'dn' ? 5 : 4)
  if (slashes.length < 2) throw ruleError(text, "it needs a regex and a replacement each closed by '/'")
  const end = slashes[slashes.length - 1]!
  const mid = slashes[slashes.length - 2]!
  const pattern = { text: rule.slice(kind === 'dn' ? 5 : 4, mid) }
  const replacement = { text: rule.slice(mid + 1, end) }
  const flags = rule.slice(end + 1)
  if (flags !== '' && flags !== 'L' && flags !== 'U') throw ruleError(text, `'${flags}' after the replacement is not L or U`)
  if (/,\s*(RULE:|SAN:|DEFAULT)/.test(pattern.text)) throw ruleError(text, 'it looks like several rules in one entry; give one rule per entry')
  if (pattern.text === '') throw ruleError(text, 'the regex is empty')
  let regex: RegExp
  try {
    // Anchored: Kafka uses Matcher.matches(), the whole DN (or SAN entry) must match.
    regex = new RegExp(`^(?:${pattern.text})$`)
  } catch (err) {
    throw ruleError(text, `the regex does not compile (${(err as Error).message})`)
  }
  const groups = new RegExp(`(?:${pattern.text})|`).exec('')!.length - 1
  for (const m of replacement.text.matchAll(/(?<!\\)\$(\d)/g)) {
    if (Number(m[1]) > groups) throw ruleError(text, `the replacement refers to $${m[1]} but the regex has ${groups} group(s)`)
  }
  return { kind, source: rule, regex, replacement: replacement.text, caseFold: flags }
}

// Positions of '/' not escaped by a backslash ('\x' pairs are kept as written: the regex engine
// reads '\/' as '/', the replacement expander unescapes them).
function unescapedSlashes (s: string, start: number): number[] {
  const out: number[] = []
  for (let i = start; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === '/') out.push(i)
  }
  return out
}

function ruleError (rule: string, why: string): KproxyError {
  return new KproxyError('KPROXY_ERR_PRINCIPAL_RULE', `Principal mapping rule '${rule}' is invalid: ${why}; ${SYNTAX}.`)
}

export function mapPrincipal (rules: readonly PrincipalRule[], id: CertIdentity): string {
  for (const rule of rules) {
    if (rule.kind === 'default') return id.subject
    if (rule.kind === 'dn') {
      const out = apply(rule, id.subject)
      if (out !== null) return out
    } else {
      for (const san of id.sans) {
        const out = apply(rule, san)
        if (out !== null) return out
      }
    }
  }
  return id.subject
}

function apply (rule: PrincipalRule, value: string): string | null {
  const m = rule.regex!.exec(value)
  if (m === null) return null
  const out = expand(rule.replacement, m)
  if (out === '') return null
  return rule.caseFold === 'L' ? out.toLowerCase() : rule.caseFold === 'U' ? out.toUpperCase() : out
}

// Java Matcher replacement syntax: $n is group n (an unmatched group gives ''), '\x' is x.
function expand (replacement: string, m: RegExpExecArray): string {
  let out = ''
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!
    if (c === '\\' && i + 1 < replacement.length) {
      out += replacement[++i]
    } else if (c === '$' && /\d/.test(replacement[i + 1] ?? '')) {
      // Java takes further digits while the group number stays valid.
      let n = Number(replacement[++i])
      while (/\d/.test(replacement[i + 1] ?? '') && n * 10 + Number(replacement[i + 1]) < m.length) n = n * 10 + Number(replacement[++i])
      out += m[n] ?? ''
    } else {
      out += c
    }
  }
  return out
}

// node:crypto gives the subject one RDN per line in certificate order (C first), values already
// escaped the RFC 2253 way by OpenSSL (ASN1_STRFLGS_ESC_2253: , + " \ < > ; leading # or space,
// trailing space; control characters as \XX), multi-valued RDNs as 'A=x + B=y'. RFC 2253 wants
// the reverse order, ',' between RDNs and '+' inside one. An escaped '+' reads '\+', so ' + '
// only ever separates. Attributes OpenSSL names but RFC 2253 does not (emailAddress, ...) keep
// OpenSSL's short name, where Java would print the OID and a hex value.
export function rfc2253Subject (nodeSubject: string): string {
  if (nodeSubject === '') return ''
  return nodeSubject.split('\n').reverse().map(rdn => rdn.split(' + ').join('+')).join(',')
}

export function identityFromX509 (cert: X509Certificate): CertIdentity {
  return { subject: rfc2253Subject(cert.subject ?? ''), sans: parseSubjectAltName(cert.subjectAltName) }
}

// node:crypto's subjectAltName: 'DNS:a, IP Address:1.2.3.4, URI:spiffe://td/x, email:a@b'. Since
// Node 17 a value with ',', '"' or similar is written as a JSON string ('URI:"a,b"') so that the
// list splits unambiguously; those are decoded here.
export function parseSubjectAltName (text: string | undefined): string[] {
  const out: string[] = []
  if (text === undefined || text === '') return out
  let i = 0
  while (i < text.length) {
    const colon = text.indexOf(':', i)
    if (colon < 0) break
    const type = text.slice(i, colon)
    let value: string
    let next: number
    if (text[colon + 1] === '"') {
      let j = colon + 2
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      try {
        value = JSON.parse(text.slice(colon + 1, j + 1)) as string
      } catch {
        value = text.slice(colon + 2, j)
      }
      next = text.indexOf(', ', j)
    } else {
      next = text.indexOf(', ', colon)
      value = text.slice(colon + 1, next < 0 ? text.length : next)
    }
    out.push(`${type === 'IP Address' ? 'IP' : type}:${value}`)
    if (next < 0) break
    i = next + 2
  }
  return out
}
