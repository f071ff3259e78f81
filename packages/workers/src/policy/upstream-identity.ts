// upstreamIdentity: certificate, the worker side: each client's upstream connection is opened
// with a client certificate for the client's principal (CN=<user>,OU=kproxy-principal,O=kproxy),
// so that the brokers' own authorizer and quotas see the real principal. The supervisor signs
// (principal-cert-service.ts, on a piscina pool); this keeps the worker's copies: a connection
// whose principal has a valid certificate dials at once, one that has none waits for its
// signing without holding anyone else up, and a certificate due for renewal is asked for again
// in the background. Never handed out expired.
import type { PrincipalCertificate } from '@kproxy/core/policy/principal-certificates'
import { userPrincipal } from '@kproxy/core/policy/principal'
import type { UpstreamIdentityConfig } from '@kproxy/core/policy/policy-config'

export type CertificateSource = (principal: string) => Promise<PrincipalCertificate>

interface Entry {
  ready: PrincipalCertificate | null
  pending: Promise<PrincipalCertificate> | null
}

export class UpstreamIdentity {
  readonly config: UpstreamIdentityConfig
  readonly #source: CertificateSource
  readonly #now: () => number
  // insertion order is recency order
  readonly #entries = new Map<string, Entry>()

  constructor (config: UpstreamIdentityConfig, source: CertificateSource, now: () => number = Date.now) {
    this.config = config
    this.#source = source
    this.#now = now
  }

  // The principal a connection is carried upstream as: a principal without a type is a user
  // (certificate principals are mapped names, SASL ones 'User:alice'), ANONYMOUS included.
  static principalOf (principal: string): string {
    return principal.includes(':') ? principal : userPrincipal(principal)
  }

  // A valid certificate now (synchronously), or a promise of one.
  certificate (connectionPrincipal: string): PrincipalCertificate | Promise<PrincipalCertificate> {
    const principal = UpstreamIdentity.principalOf(connectionPrincipal)
    const now = this.#now()
    let e = this.#entries.get(principal)
    if (e !== undefined) {
      this.#entries.delete(principal)
      this.#entries.set(principal, e)
      const ready = e.ready
      if (ready !== null && now < ready.notAfter) {
        if (now >= ready.renewAt && e.pending === null) this.#ask(principal, e).catch(() => {})
        return ready
      }
    } else {
      e = { ready: null, pending: null }
      this.#entries.set(principal, e)
      while (this.#entries.size > this.config.maxCached) this.#entries.delete(this.#entries.keys().next().value as string)
    }
    return e.pending ?? this.#ask(principal, e)
  }

  #ask (principal: string, e: Entry): Promise<PrincipalCertificate> {
    const pending = this.#source(principal).then(cert => {
      e.ready = cert
      e.pending = null
      return cert
    }, (err: unknown) => {
      e.pending = null
      if (e.ready === null && this.#entries.get(principal) === e) this.#entries.delete(principal)
      throw err
    })
    e.pending = pending
    return pending
  }
}
