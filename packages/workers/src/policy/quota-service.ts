// The quotas of one worker thread: the process-wide table (the SharedArrayBuffer the supervisor
// made, quota-shared.ts), the rules in force (policy.quotas, or its file, which is watched and
// reloaded live) and the enforcer every connection of the worker resolves its limits with.
//
// A rules change (config reload or file change) gives the enforcer a new version; connections
// notice it on their next request and resolve again. A bad quotas file is refused as a whole
// (every problem with file:line:column) and the running rules stay; at start it stops the worker,
// as any bad config does.
import type { Logger } from 'pino'
import { QuotaEnforcer } from '@kproxy/core/policy/quota-enforcer'
import type { ConnectionQuota } from '@kproxy/core/policy/quota-enforcer'
import { QuotaTable } from '@kproxy/core/policy/quota-table'
import { parseQuotasFile } from '@kproxy/core/policy/quota-config'
import type { QuotaRules } from '@kproxy/core/policy/quota-config'
import { loadPolicyFile, watchPolicyFile } from '@kproxy/core/policy/policy-file-watcher'
import type { WatchedPolicyFile } from '@kproxy/core/policy/policy-file-watcher'
import type { QuotaPolicyConfig } from '@kproxy/core/policy/policy-config'
import type { KproxyError } from '@kproxy/core/kproxy-error'

const FULL_WARNING_EVERY_MS = 60_000

export interface QuotaServiceOptions {
  readonly logger: () => Logger
  readonly pollMs?: number
}

// The process-wide table and this thread's record of the places it holds (quota-shared.ts);
// null: this thread makes a table of its own (tests, a worker without a supervisor).
export interface SharedQuota {
  readonly table: SharedArrayBuffer
  readonly holds: SharedArrayBuffer
}

export class QuotaService {
  readonly #options: QuotaServiceOptions
  #table: QuotaTable | null = null
  #enforcer: QuotaEnforcer | null = null
  #config: QuotaPolicyConfig | null = null
  #watcher: WatchedPolicyFile<QuotaRules> | null = null
  #version = 0
  #fullWarnedAt = -Infinity
  #fullSeen = 0
  // connections holding a place in a connections bucket: given back if quotas are switched off
  readonly #open = new Set<ConnectionQuota>()

  constructor (options: QuotaServiceOptions) {
    this.#options = options
  }

  // null while quotas are off
  get enforcer (): QuotaEnforcer | null { return this.#enforcer }
  get table (): QuotaTable | null { return this.#table }

  // Start (throws on a bad or missing quotas file) and every config reload (logs and keeps the
  // running rules instead). `shared`: the supervisor's table, which may first arrive with a reload
  // that switches quotas on; it never changes after that.
  configure (config: QuotaPolicyConfig | null, shared: SharedQuota | null, starting: boolean): void {
    if (shared !== null && this.#table === null) {
      this.#table = new QuotaTable(shared.table)
      this.#table.trackHolds(new Int32Array(shared.holds))
    }
    if (config === null) {
      this.#stopWatching()
      this.#config = null
      this.#enforcer = null
      for (const q of this.#open) q.close()
      this.#open.clear()
      return
    }
    const previous = this.#config
    let rules: QuotaRules
    try {
      if (config.file === null) {
        this.#stopWatching()
        rules = config.inline
      } else if (this.#watcher !== null && previous?.file === config.file) {
        // the same file: its watcher keeps it current; a reload re-reads it now
        rules = this.#watcher.current
        void this.#watcher.reload()
      } else {
        this.#stopWatching()
        this.#watcher = watchPolicyFile({
          path: config.file,
          parse: parseQuotasFile,
          intervalMs: this.#options.pollMs ?? 1000,
          onChange: next => this.#apply(next, 'the quotas file changed'),
          onError: err => this.#refused(err)
        })
        rules = this.#watcher.current
      }
    } catch (err) {
      if (starting) throw err
      this.#refused(err as KproxyError)
      return
    }
    this.#config = config
    if (this.#table === null) this.#table = QuotaTable.create(config.maxBuckets, rules.samples)
    else if (config.maxBuckets !== this.#table.capacity && !starting && previous?.maxBuckets !== config.maxBuckets) {
      this.#options.logger().warn({ code: 'KPROXY_WARN_QUOTA_RESTART', running: this.#table.capacity, configured: config.maxBuckets }, `policy.quotas.maxBuckets ${config.maxBuckets} needs a restart; the shared quota table keeps ${this.#table.capacity} buckets until then`)
    }
    this.#apply(rules, starting ? null : 'configuration reloaded')
  }

  #apply (rules: QuotaRules, why: string | null): void {
    const table = this.#table!
    if (rules.samples !== table.samples) {
      this.#options.logger().warn({ code: 'KPROXY_WARN_QUOTA_RESTART', running: table.samples, configured: rules.samples }, `quota window.samples ${rules.samples} needs a restart; the shared quota table keeps ${table.samples} samples until then`)
      rules = { ...rules, samples: table.samples }
    }
    this.#version++
    if (this.#enforcer === null) this.#enforcer = new QuotaEnforcer(table, rules, this.#version)
    else this.#enforcer.update(rules, this.#version)
    if (why !== null) this.#options.logger().info({ quotaEntities: rules.entities.length, version: this.#version }, `quotas updated: ${why}`)
  }

  #refused (err: KproxyError): void {
    this.#options.logger().error({ code: err.code, err: err.message }, err.message)
  }

  #stopWatching (): void {
    this.#watcher?.close()
    this.#watcher = null
  }

  // The limits of a connection, or null while quotas are off. Warns (at most once a minute) when
  // the shared table is too full to give new keys a bucket.
  forConnection (user: string, clientId: string): ConnectionQuota | null {
    const enforcer = this.#enforcer
    if (enforcer === null) return null
    const q = enforcer.forConnection(user, clientId)
    const full = this.#table!.stats().full
    if (full > this.#fullSeen) {
      this.#fullSeen = full
      const now = Date.now()
      if (now - this.#fullWarnedAt >= FULL_WARNING_EVERY_MS) {
        this.#fullWarnedAt = now
        const s = this.#table!.stats()
        this.#options.logger().warn({ code: 'KPROXY_WARN_QUOTA_TABLE_FULL', used: s.used, capacity: s.capacity, refused: s.full }, `the shared quota table is full (${s.used} of ${s.capacity} buckets): limits of new users and client ids are not enforced; raise policy.quotas.maxBuckets`)
      }
    }
    return q
  }

  holding (q: ConnectionQuota): void { this.#open.add(q) }
  released (q: ConnectionQuota): void { this.#open.delete(q) }

  close (): void {
    this.#stopWatching()
  }
}
