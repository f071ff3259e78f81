// Every error a user can meet carries a stable code (KPROXY_ERR_*) and a sentence that says
// what happened and, where there is something to do, what to do. The codes are registered, with
// their meaning and what to do, in errors/error-codes.ts: a code that is not there does not type
// check.
import type { KproxyCode } from './errors/error-codes.ts'

export type { KproxyCode, KproxyErrorCode, KproxyWarnCode } from './errors/error-codes.ts'

export class KproxyError extends Error {
  readonly code: KproxyCode
  constructor (code: KproxyCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KproxyError'
    this.code = code
  }
}

export function isKproxyError (err: unknown, code?: KproxyCode): err is KproxyError {
  return err instanceof KproxyError && (code === undefined || err.code === code)
}
