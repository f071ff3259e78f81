// Polls `ok` until it holds (true) or `timeoutMs` has passed (false, after one last look), for
// tests that assert on the outcome themselves; waitFor (e2e-records.ts) throws instead.
import { setTimeout as sleep } from 'node:timers/promises'

export async function eventually (ok: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (ok()) return true
    await sleep(stepMs)
  }
  return ok()
}
