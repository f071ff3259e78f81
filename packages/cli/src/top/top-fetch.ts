// One round of `kproxy top`'s questions to the admin API, answered together.
import type { AdminClient } from '../admin-client/admin-client.ts'
import type { ApiView, FlowsView, OverviewView, WorkersView } from '../admin/api-views.ts'
import type { TopData } from './top-view.ts'

export const TOP_FLOWS = 15

export async function fetchTop (client: AdminClient, withFlows: boolean): Promise<TopData> {
  const [overview, apis, flows, workers] = await Promise.all([
    client.get<OverviewView>('/api/overview'),
    client.get<{ apis: ApiView[] }>('/api/apis'),
    withFlows ? client.get<FlowsView>(`/api/flows?limit=${TOP_FLOWS}`) : Promise.resolve(null),
    client.get<WorkersView>('/api/workers')
  ])
  return { url: client.url, overview, apis: apis.apis, flows, workers }
}
