// Every error a user can meet carries a stable code (KPROXY_ERR_*) and a sentence that says
// what happened and, where there is something to do, what to do.
export class KproxyError extends Error {
  readonly code: string
  constructor (code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KproxyError'
    this.code = code
  }
}

export function isKproxyError (err: unknown, code?: string): err is KproxyError {
  return err instanceof KproxyError && (code === undefined || err.code === code)
}
