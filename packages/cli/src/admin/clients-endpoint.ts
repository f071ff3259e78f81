// GET /clients on the admin API: the readiness report (docs/version-bridge.md). Every worker's
// client records merged by the supervisor, then assessed: which clients use versions the upstream
// does not accept (they need the version bridge), and which would fail on the pinned Kafka 4
// release (read this before an upgrade).
import { assessClients } from '@kproxy/core/bridge/client-report'
import type { ClientsReport, ClientsSnapshot } from '@kproxy/core/bridge/client-report'

export interface ClientsSource {
  clients (): Promise<ClientsSnapshot>
}

export async function clientsReport (source: ClientsSource): Promise<ClientsReport> {
  return assessClients(await source.clients())
}
