import t from 'tap'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { RequestView } from '../../src/filters/request-view.ts'
import { produceBody, request } from '../session/session-harness.ts'

// a payload (size prefix dropped) cut into chunks of `size` bytes, as socket reads deliver it
function chunked (frames: Buffer[], size: number): Frame {
  const payload = Buffer.concat(frames).subarray(4)
  const chunks: Buffer[] = []
  for (let at = 0; at < payload.length; at += size) chunks.push(payload.subarray(at, at + size))
  return { size: payload.length, chunks }
}

const connection = { principal: 'User:ANONYMOUS' } as any

t.test('the header of a frame spread over many chunks: read from its first bytes, any client id length', async t => {
  for (const clientId of ['', 'c', 'x'.repeat(300), null]) {
    for (const version of [3, 9, 12]) {
      const frame = chunked(request(0, version, 5, produceBody(['a', 'b']), clientId as string), 3)
      const view = new RequestView(connection, frame, 0, version, 5, true)
      t.equal(view.header.clientId, clientId, `v${version} client id of ${clientId?.length ?? 'null'}`)
      t.equal(view.decoded, false)
      t.same(view.body.topicData.map((d: any) => d.name), ['a', 'b'], 'the body still decodes after the header peek')
    }
  }
})

t.test('scanRecords: the topics and partitions of a Produce request, without a decode', async t => {
  const frame = chunked(request(0, 9, 5, produceBody(['a', 'b'])), 4)
  const view = new RequestView(connection, frame, 0, 9, 5, true)
  const seen: Array<string | number> = []
  t.equal(view.scanRecords({ onTopic: name => seen.push(name), onPartition: p => seen.push(p) }), true)
  t.same(seen, ['a', 0, 'b', 0])
  t.equal(view.decoded, false)
  view.body = { ...view.body, topicData: [] }
  t.equal(view.scanRecords({ onTopic: () => t.fail('changed'), onPartition: () => {} }), false, 'a changed body is not the frame: read body instead')
  const md = new RequestView(connection, chunked(request(3, 12, 1), 4), 3, 12, 1, true)
  t.equal(md.scanRecords({ onTopic: () => {}, onPartition: () => {} }), false, 'only Produce')
})
