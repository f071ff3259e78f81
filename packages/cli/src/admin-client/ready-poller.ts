// Polls a kproxy admin API's GET /ready until it answers 200 or the time is up (undici; one
// connection kept alive between polls). Used by `kproxy wait-ready`, the start-up step that lets
// an application container wait for its kproxy sidecar.
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'

// How the wait ended.
export type ReadyOutcome =
  | { kind: 'ready', afterMs: number, polls: number }
  // the admin API answered, but never 200; reason is kproxy's own (e.g. no healthy upstream)
  | { kind: 'not-ready', afterMs: number, polls: number, status: number, reason: string }
  // nothing answered: no kproxy yet, wrong address, or a firewall
  | { kind: 'unreachable', afterMs: number, polls: number, error: string }

export interface ReadyPollOptions {
  // the admin API's base URL, e.g. http://127.0.0.1:9901
  url: string
  timeoutMs: number
  intervalMs: number
  // called after each poll that was not ready (for progress output)
  onPoll?: (outcome: ReadyOutcome) => void
}

// A poll never waits longer than this for one answer: /ready answers in milliseconds when the
// supervisor is alive.
const MAX_POLL_MS = 2_000

export async function waitReady (o: ReadyPollOptions): Promise<ReadyOutcome> {
  const started = Date.now()
  const deadline = started + o.timeoutMs
  const target = new URL('/ready', o.url)
  const dispatcher = new Agent({ connections: 1, pipelining: 1 })
  let polls = 0
  let last: ReadyOutcome = { kind: 'unreachable', afterMs: 0, polls: 0, error: 'not polled yet' }
  try {
    for (;;) {
      polls++
      const pollMs = Math.max(100, Math.min(MAX_POLL_MS, deadline - Date.now()))
      try {
        const res = await request(target, { method: 'GET', dispatcher, headersTimeout: pollMs, bodyTimeout: pollMs, signal: AbortSignal.timeout(pollMs) })
        const body = await res.body.text()
        const afterMs = Date.now() - started
        if (res.statusCode === 200) return { kind: 'ready', afterMs, polls }
        last = { kind: 'not-ready', afterMs, polls, status: res.statusCode, reason: readyReason(body) }
      } catch (err) {
        last = { kind: 'unreachable', afterMs: Date.now() - started, polls, error: describe(err) }
      }
      o.onPoll?.(last)
      const left = deadline - Date.now()
      if (left <= 0) return last
      // the last poll lands on the deadline, not an interval before it
      await sleep(Math.min(o.intervalMs, left))
    }
  } finally {
    await dispatcher.close()
  }
}

// /ready's JSON body carries { ready, reason, ... }; anything else is shown as it came.
function readyReason (body: string): string {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown }
    if (typeof parsed.reason === 'string') return parsed.reason
  } catch {}
  return body.trim().slice(0, 200) || '(empty body)'
}

function describe (err: unknown): string {
  const e = err as { code?: string, message?: string, cause?: { code?: string } }
  return e.cause?.code ?? e.code ?? e.message ?? String(err)
}
