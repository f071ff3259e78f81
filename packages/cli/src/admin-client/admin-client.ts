// The client side of the admin API, for `kproxy top`, `status`, `reload` and `log-level`: undici
// over one kept-alive connection, the token from a file or KPROXY_ADMIN_TOKEN, and every failure
// a KproxyError that says what to do.
import { readFileSync } from 'node:fs'
import { Client, errors } from 'undici'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { parseHostPort, formatHostPort } from '@kproxy/core/config/host-port'
import { ADMIN_TOKEN_ENV } from '../admin/admin-access.ts'

export const ADMIN_ADDRESS_ENV = 'KPROXY_ADMIN'
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:9901'
const TIMEOUT_MS = 10_000

export interface AdminTarget {
  // HOST:PORT, or a bare PORT on 127.0.0.1
  address?: string
  tokenFile?: string
}

export interface AdminReply<T> {
  status: number
  body: T
}

export class AdminClient {
  readonly url: string
  readonly #client: Client
  readonly #token: string | null

  constructor (target: AdminTarget = {}, env: NodeJS.ProcessEnv = process.env) {
    const text = target.address ?? env[ADMIN_ADDRESS_ENV] ?? DEFAULT_ADMIN_ADDRESS
    const hp = parseHostPort(/^\d+$/.test(text) ? `127.0.0.1:${text}` : text)
    if (typeof hp === 'string') throw new KproxyError('KPROXY_ERR_ADMIN_ADDRESS', `--admin ${text}: ${hp}; give the HOST:PORT kproxy's admin API listens on (kproxy serve --admin).`)
    this.url = `http://${formatHostPort(hp)}`
    this.#client = new Client(this.url, { headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS })
    this.#token = readToken(target.tokenFile, env)
  }

  async call<T> (method: 'GET' | 'POST', path: string): Promise<AdminReply<T>> {
    let res
    try {
      res = await this.#client.request({ method, path, headers: this.#token === null ? {} : { authorization: `Bearer ${this.#token}` } })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err instanceof errors.UndiciError ? err.name : '')
      throw new KproxyError('KPROXY_ERR_ADMIN_UNREACHABLE', `cannot reach kproxy's admin API at ${this.url} (${code || (err as Error).message}): is kproxy running with --admin ${this.url.slice(7)}? Point at it with --admin HOST:PORT or ${ADMIN_ADDRESS_ENV}.`)
    }
    const text = await res.body.text()
    if (res.statusCode === 401) {
      throw new KproxyError('KPROXY_ERR_ADMIN_UNAUTHORIZED', `kproxy's admin API at ${this.url} wants a token${this.#token === null ? '' : ' and refused this one'}: put it in ${ADMIN_TOKEN_ENV} or in a file given with --token-file.`)
    }
    let body: T
    try {
      body = JSON.parse(text) as T
    } catch {
      throw new KproxyError('KPROXY_ERR_ADMIN_RESPONSE', `${this.url}${path} answered HTTP ${res.statusCode} with something that is not JSON; is that kproxy's admin API?`)
    }
    return { status: res.statusCode, body }
  }

  // GET, 2xx expected
  async get<T> (path: string): Promise<T> {
    const r = await this.call<T>('GET', path)
    if (r.status >= 300) throw new KproxyError('KPROXY_ERR_ADMIN_RESPONSE', `${this.url}${path} answered HTTP ${r.status}: ${errorText(r.body)}`)
    return r.body
  }

  close (): Promise<void> {
    return this.#client.close()
  }
}

export function errorText (body: unknown): string {
  const e = (body as { error?: unknown } | null)?.error
  return typeof e === 'string' ? e : JSON.stringify(body)
}

function readToken (file: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').trim()
    } catch (err) {
      throw new KproxyError('KPROXY_ERR_ADMIN_TOKEN', `cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const t = env[ADMIN_TOKEN_ENV]
  return t === undefined || t === '' ? null : t
}
