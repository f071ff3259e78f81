// upstreamIdentity: certificate, the signing side. The supervisor signs each principal's upstream
// client certificate with the CA of policy.upstreamIdentity.caDir on a piscina pool (node-forge's
// RSA work never runs on a worker's event loop), caches it and renews it before it expires
// (PrincipalCertificates); workers ask for one by message and keep a copy of their own
// (workers/src/policy/upstream-identity.ts). One signing per principal at a time, however many
// workers and connections ask.
import type { Logger } from 'pino'
import type { UpstreamIdentityConfig } from '@kproxy/core/policy/policy-config'
import { PrincipalCertificates } from '@kproxy/core/policy/principal-certificates'
import type { PrincipalCertificate } from '@kproxy/core/policy/principal-certificates'
import { readCaDir } from '../certs/ca-dir.ts'
import { createSigningPool } from '../certs/signing-pool.ts'
import type { SigningPool } from '../certs/signing-pool.ts'

const HOUR_MS = 3_600_000

export class PrincipalCertService {
  readonly config: UpstreamIdentityConfig
  readonly #logger: Logger
  #pool: SigningPool | null = null
  #certificates: Promise<PrincipalCertificates> | null = null
  // certificates already logged (a signing asked for by several connections is logged once)
  readonly #logged = new WeakSet<PrincipalCertificate>()

  constructor (config: UpstreamIdentityConfig, logger: Logger) {
    this.config = config
    this.#logger = logger
  }

  // The CA is read at the first request (a missing or expired CA fails that request with its
  // own code, and the next request tries again).
  #ready (): Promise<PrincipalCertificates> {
    this.#certificates ??= readCaDir(this.config.caDir!).then(ca => {
      this.#pool = createSigningPool(ca, 1)
      const pool = this.#pool
      return new PrincipalCertificates({
        sign: options => pool.sign(options),
        validityMs: this.config.validityHours * HOUR_MS,
        renewBeforeMs: this.config.renewBeforeHours * HOUR_MS,
        maxCached: this.config.maxCached
      })
    }, (err: unknown) => {
      this.#certificates = null
      throw err
    })
    return this.#certificates
  }

  async certificate (principal: string): Promise<PrincipalCertificate> {
    const certificates = await this.#ready()
    const cert = await certificates.get(principal)
    if (!this.#logged.has(cert)) {
      this.#logged.add(cert)
      this.#logger.info({ principal, notAfter: new Date(cert.notAfter).toISOString() }, 'upstream client certificate issued for a principal')
    }
    return cert
  }

  async close (): Promise<void> {
    await this.#pool?.close()
  }
}
