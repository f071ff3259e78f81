import t from 'tap'
import { encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { RequestView } from '../../src/filters/request-view.ts'

function chunked (clientId: string): any {
  const api = getApi(0).request
  const body = { ...api.create(), acks: 1, timeoutMs: 1000, topicData: [{ ...api.structs.TopicProduceData!(), name: 't', partitionData: [{ ...api.structs.PartitionProduceData!(), index: 0, records: Buffer.alloc(5000, 1) }] }] }
  const payload = Buffer.concat(encodeRequest({ apiKey: 0, apiVersion: 9, correlationId: 7, clientId }, body)).subarray(4)
  const chunks: Buffer[] = []
  for (let i = 0; i < payload.length; i += 300) chunks.push(payload.subarray(i, i + 300))
  return { size: payload.length, chunks, prefix: Buffer.alloc(4) }
}

t.test('the header of a request spanning several chunks, short and long client ids', async t => {
  for (const clientId of ['app', 'x'.repeat(2000)]) {
    const view = new RequestView({} as any, chunked(clientId), 0, 9, 7, true)
    t.equal(view.header.clientId, clientId)
    t.equal(view.header.correlationId, 7)
    t.equal(view.body.topicData[0].partitionData[0].records.length, 5000, 'the body decodes after it')
  }
})
