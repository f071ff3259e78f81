// Who may use the admin API. It listens on loopback unless told otherwise; on any other address
// without a token it says so at start (anyone who reaches the port can read the configuration
// and reload it). With a token (admin.token, or KPROXY_ADMIN_TOKEN), every endpoint but the
// probes (/ready, /healthz, which Kubernetes calls without credentials) and the dashboard's
// static files (no data in them: a browser cannot attach a bearer token to a page load, so the
// page asks for the token and sends it with each API call) needs `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { adminTokenProblem } from '@kproxy/core/config/schema/value-kinds'

export const ADMIN_TOKEN_ENV = 'KPROXY_ADMIN_TOKEN'
export { MIN_ADMIN_TOKEN_LENGTH as MIN_TOKEN_LENGTH } from '@kproxy/core/config/schema/value-kinds'

export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return /^::ffff:127\./i.test(host)
}

// A token's problems as a sentence, or null when it can be used (the same check as the schema's).
export { adminTokenProblem as tokenProblem } from '@kproxy/core/config/schema/value-kinds'

// The token from the config (admin.token) or the environment, checked.
export function resolveAdminToken (config: object, env: NodeJS.ProcessEnv = process.env): string | null {
  const fromConfig = ((config as { admin?: { token?: string | null } | null }).admin ?? null)?.token ?? null
  const token = fromConfig ?? (env[ADMIN_TOKEN_ENV] !== undefined && env[ADMIN_TOKEN_ENV] !== '' ? env[ADMIN_TOKEN_ENV]! : null)
  if (token === null) return null
  const problem = adminTokenProblem(token)
  if (problem !== null) {
    const where = fromConfig !== null ? 'admin.token' : ADMIN_TOKEN_ENV
    throw new KproxyError('KPROXY_ERR_ADMIN_TOKEN', `${where} cannot be used: ${problem}.`)
  }
  return token
}

// The warning to print when the listener is reachable from elsewhere without a token, else null.
export function exposureWarning (host: string, token: string | null): string | null {
  if (token !== null || isLoopbackHost(host)) return null
  return `the admin API listens on ${host}, which is not loopback, and has no token: anyone who can reach it can read the configuration, change the log level and reload; set admin.token (or ${ADMIN_TOKEN_ENV}) or listen on 127.0.0.1`
}

export class AdminAccess {
  readonly #digest: Buffer | null

  constructor (token: string | null) {
    this.#digest = token === null ? null : digest(token)
  }

  get required (): boolean { return this.#digest !== null }

  // Whether an Authorization header value grants access. Compared as digests in constant time, so
  // that neither the length nor the content of the token leaks through timing.
  allows (authorization: string | undefined): boolean {
    if (this.#digest === null) return true
    if (authorization === undefined) return false
    const m = /^Bearer +(\S+)\s*$/i.exec(authorization)
    if (m === null) return false
    return timingSafeEqual(digest(m[1]!), this.#digest)
  }
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
