// The ConnectionContext filters see: who the client is and where it came from. The session owns
// it and fills in what it learns (client id, software name and version from ApiVersions).
import { ApiVersionSet } from '@kproxy/core/bridge/api-version-set'
import type { ConnectionContext, ListenerInfo } from '../filters/filter-api.ts'

// Kafka's name for a client without an identity (plaintext, or TLS without a certificate).
export const ANONYMOUS = 'ANONYMOUS'

let nextConnectionId = 1

export class SessionContext implements ConnectionContext {
  readonly id = nextConnectionId++
  readonly workerId: number
  readonly peer: { readonly address: string, readonly port: number }
  readonly listener: ListenerInfo
  // null: no identity at all (plaintext listener); `principal` then says ANONYMOUS. Set from
  // the client certificate at accept, or by SASL termination once the client authenticated.
  verifiedPrincipal: string | null
  clientId: string | null = null
  clientSoftwareName: string | null = null
  clientSoftwareVersion: string | null = null
  // the (API, version) pairs this connection used (set by a tap, read by the readiness report)
  readonly usedVersions = new ApiVersionSet()
  // ms since the epoch
  readonly openedAt = Date.now()
  #attributes: Map<unknown, unknown> | null = null
  readonly #throttle: (ms: number) => void

  constructor (workerId: number, peer: { address: string, port: number }, listener: ListenerInfo, principal: string | null, throttle: (ms: number) => void) {
    this.workerId = workerId
    this.peer = peer
    this.listener = listener
    this.verifiedPrincipal = principal
    this.#throttle = throttle
  }

  get principal (): string { return this.verifiedPrincipal ?? ANONYMOUS }

  get attributes (): Map<unknown, unknown> {
    return (this.#attributes ??= new Map())
  }

  throttle (ms: number): void {
    this.#throttle(ms)
  }
}
