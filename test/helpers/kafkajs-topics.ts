// kafkajs's createTopics({ waitForLeaders: true }) can leak an unhandled UNKNOWN_TOPIC_OR_PARTITION
// rejection from its internal metadata retry while a fresh topic propagates (seen with direct
// connections too), which fails a tap test. Create without waiting, then poll ourselves. Each
// poll may ask a different broker, and brokers learn of a new topic one after another, so one
// good answer is not enough: wait for several in a row.
const GOOD_ANSWERS = 5
import type { Admin, ITopicConfig } from 'kafkajs'

export async function createTopicsAndWait (admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false })
  const names = topics.map(t => t.topic)
  const until = Date.now() + timeoutMs
  let good = 0
  for (;;) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: names })
      const ok = md.topics.length === names.length && md.topics.every(t => t.partitions.length > 0 && t.partitions.every(p => p.leader >= 0))
      good = ok ? good + 1 : 0
      if (good >= GOOD_ANSWERS) return
      if (ok) continue
    } catch (err) {
      good = 0
      if (Date.now() > until) throw err
    }
    if (Date.now() > until) throw new Error(`topics ${names.join(', ')} have no leaders after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}
