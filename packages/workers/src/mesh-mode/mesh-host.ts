// What a mesh route needs from its worker's mesh: the clusters, the routing rules, what kproxy
// advertises, the ApiVersions answer, the producer id mappings and the bounds.
import type { Logger } from 'pino'
import type { MeshConfig } from '@kproxy/core/config/proxy-config'
import type { HomeRouter, TopicRouter } from '@kproxy/core/mesh/topic-router'
import type { MeshCluster } from './mesh-cluster.ts'
import type { MeshMetrics } from './mesh-metrics.ts'
import type { MeshProducerIds } from './producer-ids.ts'

export interface MeshHost {
  readonly config: MeshConfig
  readonly logger: Logger
  readonly clusters: ReadonlyMap<string, MeshCluster>
  readonly topics: TopicRouter
  readonly groups: HomeRouter
  readonly transactions: HomeRouter
  readonly meshMetrics: MeshMetrics
  // idempotent producers' ids on the clusters that did not allocate them
  readonly producerIds: MeshProducerIds
  // the one broker clients see
  readonly nodeId: number
  readonly advertisedHost: string
  readonly advertisedPort: number
  readonly clusterId: string
  // per API key: the versions the mesh answers (kproxy's handlers ∩ every cluster)
  versions (): ReadonlyArray<{ apiKey: number, minVersion: number, maxVersion: number }>
}
