// Log lines for refused TLS handshakes, bounded: a scanner or a misconfigured fleet can fail
// thousands of handshakes a second, and each would otherwise be a warn line. The first
// LINES_PER_WINDOW refusals of a window are logged in full; the rest are summed into one line
// per reason when the window ends. The metric counts every one regardless.
import type { Logger } from 'pino'

const WINDOW_MS = 10_000
const LINES_PER_WINDOW = 20

export class TlsFailureLog {
  readonly #log: Logger
  #windowStart = 0
  #lines = 0
  readonly #suppressed = new Map<string, number>()
  #flushTimer: NodeJS.Timeout | null = null

  constructor (log: Logger) {
    this.#log = log
  }

  record (fields: { reason: string } & Record<string, unknown>, message: string): void {
    const now = Date.now()
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#windowStart = now
      this.#lines = 0
    }
    if (this.#lines < LINES_PER_WINDOW) {
      this.#lines++
      this.#log.warn(fields, message)
      return
    }
    this.#suppressed.set(fields.reason, (this.#suppressed.get(fields.reason) ?? 0) + 1)
    if (this.#flushTimer === null) {
      this.#flushTimer = setTimeout(this.#flush.bind(this), this.#windowStart + WINDOW_MS - now)
      this.#flushTimer.unref()
    }
  }

  #flush (): void {
    this.#flushTimer = null
    const byReason = Object.fromEntries(this.#suppressed)
    this.#suppressed.clear()
    this.#log.warn({ code: 'KPROXY_ERR_TLS_HANDSHAKE', suppressed: byReason }, `more TLS handshakes refused than logged in the last ${WINDOW_MS / 1000} s (counts by reason; see tls_handshake_failures)`)
  }
}
