// The ACL filter's topic id lookup in mesh mode. Topic ids belong to a cluster (each cluster gives
// its topics its own random UUIDs; the mesh hands each topic's own id to clients, never mixed), and
// the ACL rules name topics as clients see them, before any rename. So an id no answer has named
// yet is looked up the way the mesh's Metadata does: every cluster is asked for all its topics
// (MeshCluster.metadata(null): one request per cluster however many ask at once), and each id
// found there is named by the client's name of that topic (TopicRouter.clientName); an upstream
// topic clients cannot see (not routed to that cluster) is left out, so its id stays unknown and
// the filter refuses it. A cluster that does not answer contributes nothing (the id is refused
// until a later lookup finds it). Rare (the filter asks at most once a second), so plain promises.
import type { TopicRouter } from '@kproxy/core/mesh/topic-router'
import type { TopicLookup, TopicNameId } from '../policy/acl-topic-ids.ts'

export interface TopicIdSource {
  readonly name: string
  readonly topicIds: ReadonlyMap<string, string>
  metadata (topics: readonly string[] | null, allowAutoTopicCreation: boolean, done: (answer: unknown, error: string | null) => void): void
}

export function meshTopicLookup (clusters: () => Iterable<TopicIdSource>, router: TopicRouter): TopicLookup {
  return () => Promise.all([...clusters()].map(c => new Promise<TopicNameId[]>(resolve => {
    c.metadata(null, false, () => {
      const found: TopicNameId[] = []
      for (const [id, upstream] of c.topicIds) {
        const name = router.clientName(c.name, upstream)
        if (name !== null) found.push({ name, id })
      }
      resolve(found)
    })
  }))).then(lists => lists.flat())
}
