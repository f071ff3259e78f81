// Piscina worker: issues one certificate. Node runs this .ts file directly in a worker thread.
import { threadId } from 'node:worker_threads'
import { issueCertificate } from '@kproxy/core/certs/x509'
import type { CertificateAuthority, IssueCertificateOptions, IssuedCertificate } from '@kproxy/core/certs/x509'
import { isKproxyCode } from '@kproxy/core/errors/error-codes'
import type { KproxyCode } from '@kproxy/core/errors/error-codes'

export interface IssueTask {
  ca: CertificateAuthority
  options: IssueCertificateOptions
}

// Errors come back as values: a thrown KproxyError would lose its class and code crossing threads.
export type IssueOutcome =
  | { ok: true, issued: IssuedCertificate, threadId: number }
  | { ok: false, code: KproxyCode | undefined, message: string, threadId: number }

export default async function issueTask (task: IssueTask): Promise<IssueOutcome> {
  try {
    return { ok: true, issued: await issueCertificate(task.ca, task.options), threadId }
  } catch (err) {
    const code = (err as { code?: unknown }).code
    return { ok: false, code: typeof code === 'string' && isKproxyCode(code) ? code : undefined, message: err instanceof Error ? err.message : String(err), threadId }
  }
}
