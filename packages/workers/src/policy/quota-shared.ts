// The process-wide quota table's memory, made by the supervisor (main thread) and handed to every
// worker thread, a restarted one included, so that all workers count into the same buckets
// (quota-table.ts). Made when the config first has policy.quotas (at start or at a reload that
// switches quotas on) and kept for the life of the process: a reload that changes its size
// (maxBuckets) or its window count (window.samples) is reported and waits for a restart.
//
// Each worker slot also gets a small array of its own, where its thread records the connection
// places it holds: when a worker dies with connections open, the supervisor gives those places
// back (workerGone), so that a crash does not leave clients counted against `connections` forever.
import type { Logger } from 'pino'
import type { WorkerQuota } from '../runtime/messages.ts'
import type { PolicySection } from '@kproxy/core/config/schema/policy-schema'
import { policyOf } from '@kproxy/core/config/schema/policy-schema'
import { QuotaTable } from '@kproxy/core/policy/quota-table'
import { parseQuotasFile } from '@kproxy/core/policy/quota-config'
import { loadPolicyFile } from '@kproxy/core/policy/policy-file-watcher'

// `kproxy check-config`: the quotas in force for this config (its quotas file read and checked as
// a worker would at start; throws its KPROXY_ERR_QUOTAS / KPROXY_ERR_POLICY_FILE_READ), or null.
export function checkQuotas (policy: PolicySection): { entities: number, file: string | null } | null {
  const quotas = policyOf(policy).quotas
  if (quotas === null) return null
  const rules = quotas.file === null ? quotas.inline : loadPolicyFile(quotas.file, parseQuotasFile)
  return { entities: rules.entities.length, file: quotas.file }
}

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

// The supervisor's side: the table, and per worker slot its record of places held.
export class SharedQuotaState {
  #table: SharedArrayBuffer | null
  readonly #holds = new Map<number, SharedArrayBuffer>()
  readonly #logger: Logger

  constructor (policy: PolicySection, logger: Logger) {
    this.#logger = logger
    this.#table = quotaBufferFor(policy, null, logger)
  }

  get table (): SharedArrayBuffer | null { return this.#table }

  // a reload: the table is made if quotas were just switched on
  reload (policy: PolicySection): void {
    this.#table = quotaBufferFor(policy, this.#table, this.#logger)
  }

  // what worker slot `id` is given (the same record for every thread that runs in that slot)
  forWorker (id: number): WorkerQuota | null {
    if (this.#table === null) return null
    let holds = this.#holds.get(id)
    if (holds === undefined) {
      holds = new SharedArrayBuffer(QuotaTable.holdsBytes(new QuotaTable(this.#table).capacity))
      this.#holds.set(id, holds)
    }
    return { table: this.#table, holds }
  }

  // The thread of slot `id` is gone: the connection places it held are free again.
  workerGone (id: number): number {
    const holds = this.#holds.get(id)
    if (this.#table === null || holds === undefined) return 0
    const released = new QuotaTable(this.#table).releaseHolds(new Int32Array(holds))
    if (released > 0) this.#logger.info({ worker: id, released }, `worker ${id} held ${released} connection place(s) in the quota table; given back`)
    return released
  }
}
