// The ACL filter's topic id lookup in mesh mode: every cluster's ids, named by the client's name
// of the topic (renames undone), topics clients cannot see left out, a cluster that does not
// answer contributing nothing.
import t from 'tap'
import { TopicRouter } from '@kproxy/core/mesh/topic-router'
import { meshTopicLookup } from '../../src/mesh-mode/mesh-topic-ids.ts'
import type { TopicIdSource } from '../../src/mesh-mode/mesh-topic-ids.ts'

// a cluster's metadata as MeshCluster keeps it: metadata(null) refreshes every topic's id
function cluster (name: string, ids: Record<string, string>, answers = true): TopicIdSource & { asked: number } {
  const topicIds = new Map<string, string>()
  return {
    name,
    topicIds,
    asked: 0,
    metadata (topics, _auto, done) {
      this.asked++
      if (topics !== null) throw new Error('the lookup asks for all topics')
      if (!answers) { done(null, 'down'); return }
      topicIds.clear()
      for (const [id, n] of Object.entries(ids)) topicIds.set(id, n)
      done({}, null)
    }
  }
}

const router = new TopicRouter([
  { kind: 'prefix', match: 'a', cluster: 'one', rename: null },
  { kind: 'prefix', match: 'b', cluster: 'two', rename: 'fruit.b' }
], null)

t.test('ids of every cluster, by the client\'s names', async t => {
  const one = cluster('one', { 'id-1': 'apples', 'id-x': 'zucchini' })
  const two = cluster('two', { 'id-2': 'fruit.berries', 'id-3': 'berries' })
  const found = await meshTopicLookup(() => [one, two], router)()
  t.same([...found].sort((x, y) => x.id.localeCompare(y.id)), [
    { name: 'apples', id: 'id-1' },
    { name: 'berries', id: 'id-2' }
  ], 'fruit.berries on cluster two is the client\'s berries; zucchini (not routed) and two\'s own berries (hidden by the rename) are left out')
  t.equal(one.asked, 1)
  t.equal(two.asked, 1)
})

t.test('a cluster that does not answer contributes nothing', async t => {
  const one = cluster('one', { 'id-1': 'apples' }, false)
  const two = cluster('two', { 'id-2': 'fruit.berries' })
  t.same(await meshTopicLookup(() => [one, two], router)(), [{ name: 'berries', id: 'id-2' }])
})
