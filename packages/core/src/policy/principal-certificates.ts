// Per-principal client certificates for the upstream connection (upstreamIdentity: certificate):
// kproxy opens a client's broker connection with a certificate for that client's principal,
// signed by kproxy's CA, so that the broker's own authorizer and quotas see the real principal.
//
// The subject is CN=<user>,OU=kproxy-principal,O=kproxy (RFC 2253, as Java prints it), and the
// brokers map it back with one rule (BROKER_MAPPING_RULE):
//   ssl.principal.mapping.rules=RULE:^CN=([^,]+),OU=kproxy-principal,O=kproxy$/$1/,DEFAULT
// A user name that a DN would have to escape (, + " \ < > ; = #, edge spaces, control
// characters) or longer than 64 characters (X.520's limit for a CN) is refused rather than
// handed to the broker as some other name.
//
// Signing is slow (an RSA key, node-forge): it happens once per principal, off the request path,
// through the signer given (a piscina pool in the proxy). The cache holds at most `maxCached`
// certificates (least recently used leave first), hands out a ready one synchronously (`peek`),
// renews in the background once `renewBeforeMs` of life is left, and never hands out an expired
// one.
import { KproxyError } from '../kproxy-error.ts'
import type { IssueCertificateOptions, IssuedCertificate } from '../certs/x509.ts'

export const PRINCIPAL_OU = 'kproxy-principal'
export const PRINCIPAL_O = 'kproxy'
export const BROKER_MAPPING_RULE = `RULE:^CN=([^,]+),OU=${PRINCIPAL_OU},O=${PRINCIPAL_O}$/$1/`
// Backdating, as for every certificate kproxy issues: clocks differ a little.
const BACKDATE_MS = 5 * 60 * 1000

export type CertificateSigner = (options: IssueCertificateOptions) => Promise<IssuedCertificate>

export interface PrincipalCertificate {
  readonly principal: string
  readonly cert: string
  readonly key: string
  // the leaf then the CA, what the TLS client presents
  readonly chain: string
  readonly notAfter: number
  readonly renewAt: number
}

// The user name a principal's certificate carries, or why it cannot have one.
export function certificateUser (principal: string): string | KproxyError {
  const m = /^User:(.*)$/s.exec(principal)
  const bad = (why: string): KproxyError => new KproxyError('KPROXY_ERR_PRINCIPAL_CERT', `Cannot issue an upstream certificate for principal '${principal}': ${why}.`)
  if (m === null) return bad('only User principals can be carried to the broker')
  const user = m[1]!
  if (user === '' || user.length > 64) return bad('the user name must have 1 to 64 characters')
  // eslint-disable-next-line no-control-regex
  if (/[,+"\\<>;=\x00-\x1f\x7f]/.test(user) || /^[# ]| $/.test(user)) return bad('the name holds a character a certificate subject would escape (, + " \\ < > ; = #, edge spaces, control characters), which the broker\'s mapping rule would not undo')
  return user
}

export function principalCertificateOptions (user: string, notBefore: Date, notAfter: Date): IssueCertificateOptions {
  return { name: user, client: true, subject: [{ name: 'O', value: PRINCIPAL_O }, { name: 'OU', value: PRINCIPAL_OU }], notBefore, notAfter }
}

export interface PrincipalCertificatesOptions {
  readonly sign: CertificateSigner
  readonly validityMs: number
  readonly renewBeforeMs: number
  readonly maxCached: number
  readonly now?: () => number
}

interface Entry {
  ready: PrincipalCertificate | null
  pending: Promise<PrincipalCertificate> | null
}

export class PrincipalCertificates {
  readonly #options: PrincipalCertificatesOptions
  readonly #now: () => number
  // insertion order is recency order: a hit moves the entry to the end
  readonly #entries = new Map<string, Entry>()

  constructor (options: PrincipalCertificatesOptions) {
    if (options.renewBeforeMs >= options.validityMs) throw new RangeError('renewBeforeMs must be less than validityMs')
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  get size (): number { return this.#entries.size }

  // A certificate that is valid now, without waiting; undefined when there is none yet (then
  // call get()). Starts a renewal when the certificate is due for one.
  peek (principal: string): PrincipalCertificate | undefined {
    const e = this.#entries.get(principal)
    if (e === undefined) return undefined
    const now = this.#now()
    const ready = e.ready
    if (ready === null || now >= ready.notAfter) return undefined
    this.#touch(principal, e)
    if (now >= ready.renewAt && e.pending === null) this.#issue(principal, e).catch(() => {})
    return ready
  }

  // The principal's certificate: the cached one while it is valid, else a new one (one signing
  // per principal at a time, however many connections ask).
  async get (principal: string): Promise<PrincipalCertificate> {
    const ready = this.peek(principal)
    if (ready !== undefined) return ready
    let e = this.#entries.get(principal)
    if (e === undefined) {
      e = { ready: null, pending: null }
      this.#entries.set(principal, e)
      this.#evict()
    }
    return await (e.pending ?? this.#issue(principal, e))
  }

  #touch (principal: string, e: Entry): void {
    this.#entries.delete(principal)
    this.#entries.set(principal, e)
  }

  #evict (): void {
    while (this.#entries.size > this.#options.maxCached) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  #issue (principal: string, e: Entry): Promise<PrincipalCertificate> {
    const user = certificateUser(principal)
    if (user instanceof KproxyError) {
      this.#entries.delete(principal)
      return Promise.reject(user)
    }
    const now = this.#now()
    const notAfter = now + this.#options.validityMs
    const pending = this.#options.sign(principalCertificateOptions(user, new Date(now - BACKDATE_MS), new Date(notAfter))).then(issued => {
      const cert: PrincipalCertificate = { principal, cert: issued.cert, key: issued.key, chain: issued.chain, notAfter, renewAt: notAfter - this.#options.renewBeforeMs }
      e.ready = cert
      e.pending = null
      return cert
    }, (err: unknown) => {
      e.pending = null
      // A failed first issue leaves nothing behind, so the next connection tries again.
      if (e.ready === null && this.#entries.get(principal) === e) this.#entries.delete(principal)
      throw new KproxyError('KPROXY_ERR_PRINCIPAL_CERT', `Cannot issue an upstream certificate for principal '${principal}': ${(err as Error)?.message ?? String(err)}`, { cause: err })
    })
    e.pending = pending
    return pending
  }
}
