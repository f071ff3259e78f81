// The upstream side of the ACL filter's topic id directory: every topic's name and id, asked of
// one bootstrap server with a Metadata request for all topics on a short-lived connection of
// kproxy's own. Rare (an id the worker has not seen in any answer, at most once a second), so
// plain promises.
import type { HostPort } from '@kproxy/core/config/proxy-config'
import { DEFAULT_MAX_FRAME_SIZE } from '@kproxy/core/protocol/frame-reader'
import { getApi } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { UpstreamDialer } from '../net/upstream-dialer.ts'
import { KafkaConnection } from '../upstream/kafka-connection.ts'
import type { TopicNameId } from './acl-topic-ids.ts'

// Metadata v12: names and ids of every topic, answered by every Kafka 4 broker
const METADATA_VERSION = 12
// a cluster's full Metadata answer can be large
const MAX_FRAME = Math.max(DEFAULT_MAX_FRAME_SIZE, 64 * 1024 * 1024)

export function fetchTopicIds (servers: readonly HostPort[], timeoutMs: number, dialer: UpstreamDialer): Promise<TopicNameId[]> {
  const server = servers[Math.floor(Math.random() * servers.length)]
  if (server === undefined) return Promise.resolve([])
  return new Promise((resolve, reject) => {
    let done = false
    const finish = (err: Error | null, topics?: TopicNameId[]): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      conn.close()
      if (err !== null) reject(err)
      else resolve(topics!)
    }
    const conn = new KafkaConnection({
      dialer,
      address: server,
      connectTimeoutMs: timeoutMs,
      maxFrameSize: MAX_FRAME,
      correlation: 'client',
      listener: {
        upstreamReady () {},
        upstreamFull () {},
        upstreamClosed () { finish(new Error(`upstream ${server.host}:${server.port} closed the connection`)) }
      }
    })
    const timer = setTimeout(() => finish(new Error(`upstream ${server.host}:${server.port} did not answer Metadata within ${timeoutMs} ms`)), timeoutMs)
    const body = getApi(ApiKey.Metadata).request.create()
    body.topics = null
    body.allowAutoTopicCreation = false
    conn.request(ApiKey.Metadata, METADATA_VERSION, body).then(({ body }) => {
      finish(null, body.topics.filter((t: { errorCode: number }) => t.errorCode === 0).map((t: { name: string, topicId: string }) => ({ name: t.name, id: t.topicId })))
    }, (err: Error) => finish(err))
  })
}
