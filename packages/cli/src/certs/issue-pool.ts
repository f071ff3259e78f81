// Bulk issuing: RSA signing in node-forge is pure JavaScript and blocks its thread, so many
// certificates are signed on a small piscina pool. (Key generation already runs on libuv's pool.)
import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { CertificateAuthority, IssueCertificateOptions, IssuedCertificate } from '@kproxy/core/certs/x509'
import type { IssueOutcome, IssueTask } from './issue-worker.ts'

export interface PoolIssued {
  issued: IssuedCertificate
  // The worker thread that signed it (never 0, the main thread).
  threadId: number
}

// One core stays with the main thread (and, in a running proxy, with the event loop).
export function defaultPoolSize (): number {
  return Math.max(1, availableParallelism() - 1)
}

// Results are in the order of `requests`.
export async function issueOnPool (ca: CertificateAuthority, requests: readonly IssueCertificateOptions[], threads: number = defaultPoolSize()): Promise<PoolIssued[]> {
  if (requests.length === 0) return []
  const size = Math.max(1, Math.min(Math.floor(threads), requests.length))
  const pool = new Piscina<IssueTask, IssueOutcome>({
    filename: new URL('./issue-worker.ts', import.meta.url).href,
    minThreads: size,
    maxThreads: size
  })
  try {
    const outcomes = await Promise.all(requests.map(options => pool.run({ ca, options })))
    return outcomes.map(outcome => {
      if (!outcome.ok) throw new KproxyError(outcome.code ?? 'KPROXY_ERR_CERTS_ISSUE', outcome.message)
      return { issued: outcome.issued, threadId: outcome.threadId }
    })
  } finally {
    await pool.destroy()
  }
}
