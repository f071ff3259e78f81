import t from 'tap'
import { leaderLanes } from '../src/scenarios.ts'

const leader = (partition: number, port: number): { partition: number, leaderId: number, host: string, port: number } => ({ partition, leaderId: port, host: '127.0.0.1', port })

t.test('connections spread over leaders, each leader\'s partitions split among its connections', async t => {
  const one = leaderLanes([0, 1, 2, 3, 4, 5].map(p => leader(p, 9092)), 4)
  t.same(one.map(l => l.partitions), [[0, 4], [1, 5], [2], [3]])
  t.ok(one.every(l => l.port === 9092))
  // more connections than partitions: partitions are shared
  t.same(leaderLanes([leader(0, 1), leader(1, 1)], 3).map(l => l.partitions), [[0], [1], [0]])
  // three leaders, four connections: every leader gets at least one, the first gets two
  const three = leaderLanes([0, 1, 2, 3, 4, 5].map(p => leader(p, 1 + (p % 3))), 4)
  t.same(three.map(l => [l.port, l.partitions]), [[1, [0]], [1, [3]], [2, [1, 4]], [3, [2, 5]]])
  // every partition is covered exactly when there are enough connections
  const covered = new Set(three.flatMap(l => l.partitions))
  t.equal(covered.size, 6)
  t.same(leaderLanes([], 4), [])
})
