// The process-wide quota table's memory, made by the supervisor (main thread) and handed to every
// worker thread, a restarted one included, so that all workers count into the same buckets
// (quota-table.ts). Made when the config first has policy.quotas (at start or at a reload that
// switches quotas on) and kept for the life of the process: a reload that changes its size
// (maxBuckets) or its window count (window.samples) is reported and waits for a restart.
import type { Logger } from 'pino'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import { policyOf } from '@kproxy/core/config/schema/policy-schema'
import { QuotaTable } from '@kproxy/core/policy/quota-table'
import { parseQuotasFile } from '@kproxy/core/policy/quota-config'
import { loadPolicyFile } from '@kproxy/core/policy/policy-file-watcher'

export function quotaBufferFor (policy: PolicySection, previous: SharedArrayBuffer | null, logger: Logger): SharedArrayBuffer | null {
  let quotas
  try {
    quotas = policyOf(policy).quotas
  } catch {
    return previous // refused by the config check already
  }
  if (quotas === null) return previous
  let samples = quotas.inline.samples
  if (quotas.file !== null) {
    try {
      samples = loadPolicyFile(quotas.file, parseQuotasFile).samples
    } catch {
      // the workers report the file's problems; the table takes the inline (default) count
    }
  }
  if (previous === null) return QuotaTable.create(quotas.maxBuckets, samples).buffer
  const table = new QuotaTable(previous)
  if (table.capacity !== quotas.maxBuckets || table.samples !== samples) {
    logger.warn({ code: 'KPROXY_WARN_QUOTA_RESTART', buckets: table.capacity, samples: table.samples, configuredBuckets: quotas.maxBuckets, configuredSamples: samples }, `the shared quota table keeps ${table.capacity} buckets of ${table.samples} samples until a restart (configured: ${quotas.maxBuckets} of ${samples})`)
  }
  return previous
}
