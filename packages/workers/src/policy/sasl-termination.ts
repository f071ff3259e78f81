// SASL termination for one worker (policy.sasl): the mechanisms offered, the credentials file
// (polled; a new exchange takes the set current when it starts, one in flight finishes with the
// one it started with), the KIP-368 session limit and the counters. Each client connection gets
// its own SaslStage (sasl-stage.ts) that asks this object for what it needs.
import type { Logger } from 'pino'
import type { ProxyMetrics, SaslEvent } from '@kproxy/core/metrics/proxy-metrics'
import type { SaslPolicyConfig } from '@kproxy/core/policy/policy-config'
import { CredentialSet, watchCredentials } from '@kproxy/core/policy/credential-set'
import type { WatchedPolicyFile } from '@kproxy/core/policy/policy-file-watcher'
import type { SaslCredentials } from '@kproxy/core/sasl/sasl-credentials'
import type { SaslMechanismName } from '@kproxy/core/sasl/sasl-mechanism'

export interface SaslTerminationOptions {
  readonly config: SaslPolicyConfig
  readonly logger: Logger
  readonly metrics: ProxyMetrics
  // tests: a fixed set instead of the watched file
  readonly credentials?: SaslCredentials
}

export class SaslTermination {
  readonly config: SaslPolicyConfig
  readonly mechanisms: readonly SaslMechanismName[]
  readonly maxReauthMs: number | null
  readonly #metrics: ProxyMetrics
  readonly #watched: WatchedPolicyFile<CredentialSet> | null
  readonly #fixed: SaslCredentials | null

  // Reads the credentials file now: a file that does not parse stops the start (or, on a
  // reload, leaves the running termination in place).
  constructor (options: SaslTerminationOptions) {
    this.config = options.config
    this.mechanisms = options.config.mechanisms
    this.maxReauthMs = options.config.maxReauthMs
    this.#metrics = options.metrics
    const log = options.logger
    if (options.credentials !== undefined) {
      this.#fixed = options.credentials
      this.#watched = null
      return
    }
    this.#fixed = null
    this.#watched = watchCredentials(options.config.credentialsFile, {
      onChange: (set, version) => log.info({ file: options.config.credentialsFile, users: set.size, version }, 'SASL credentials file reloaded; new logins use it'),
      onError: err => log.error({ code: err.code, err: err.message }, 'the SASL credentials file changed but cannot be used; the users loaded before stay')
    })
  }

  // the set a new exchange runs against
  credentials (): SaslCredentials {
    return this.#fixed ?? this.#watched!.current
  }

  offers (mechanism: string): mechanism is SaslMechanismName {
    return (this.mechanisms as readonly string[]).includes(mechanism)
  }

  count (mechanism: string, event: SaslEvent): void {
    this.#metrics.sasl?.(this.offers(mechanism) ? mechanism : 'none', event)
  }

  // for tests and SIGHUP: read the file now
  reload (): Promise<boolean> {
    return this.#watched?.reload() ?? Promise.resolve(false)
  }

  close (): void {
    this.#watched?.close()
  }
}
