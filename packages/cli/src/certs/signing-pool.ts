// A long-lived signing pool for certificates issued while the proxy runs (per-principal
// upstream certificates): node-forge's RSA signing is pure JavaScript and would block the
// thread that runs it, so it runs on piscina threads, never on a worker's event loop.
// (issue-pool.ts is the batch variant for `kproxy certs issue`.)
import { Piscina } from 'piscina'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { CertificateAuthority, IssueCertificateOptions, IssuedCertificate } from '@kproxy/core/certs/x509'
import type { IssueOutcome, IssueTask } from './issue-worker.ts'

export interface SigningPool {
  sign (options: IssueCertificateOptions): Promise<IssuedCertificate>
  close (): Promise<void>
}

export function createSigningPool (ca: CertificateAuthority, threads = 1): SigningPool {
  const pool = new Piscina<IssueTask, IssueOutcome>({
    filename: new URL('./issue-worker.ts', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, Math.floor(threads)),
    // idle threads go away: certificates are issued rarely
    idleTimeout: 30_000
  })
  return {
    async sign (options) {
      const outcome = await pool.run({ ca, options })
      if (!outcome.ok) throw new KproxyError(outcome.code ?? 'KPROXY_ERR_CERTS_ISSUE', outcome.message)
      return outcome.issued
    },
    async close () {
      await pool.destroy()
    }
  }
}
