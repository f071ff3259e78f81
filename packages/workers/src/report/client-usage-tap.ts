// Marks every request's (API key, version) in its connection's bitset for the readiness report:
// an index computation and an OR per frame, no decode, no allocation (after the connection's
// first request).
import type { Tap } from '../filters/filter-chain.ts'
import type { SessionContext } from '../session/session-context.ts'

export class ClientUsageTap implements Tap {
  request (apiKey: number, apiVersion: number, _size: number, connection: SessionContext): void {
    connection.usedVersions.add(apiKey, apiVersion)
  }

  response (): void {}
}
