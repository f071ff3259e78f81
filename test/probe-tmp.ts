import { Socket } from 'node:net'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
const [host, port] = process.argv[2]!.split(':')
const sock = new Socket()
await new Promise<void>(r => sock.connect(Number(port), host!, r))
let buf = Buffer.alloc(0)
const waiters: Array<(b: Buffer) => void> = []
sock.on('data', c => {
  buf = Buffer.concat([buf, c])
  while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
    const f = buf.subarray(4, 4 + buf.readInt32BE(0)); buf = buf.subarray(4 + f.length); waiters.shift()!(f)
  }
})
let id = 1
async function call (apiKey: number, v: number, body: any): Promise<any> {
  const p = new Promise<Buffer>(r => waiters.push(r))
  sock.write(Buffer.concat(encodeRequest({ apiKey, apiVersion: v, correlationId: id++, clientId: 'probe' }, body)))
  return decodeResponse(await p, apiKey, v).body
}
const ip = { ...getApi(ApiKey.InitProducerId).request.create(), transactionalId: process.argv[3] ?? 'probe-tx', transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 }
const r1 = await call(ApiKey.InitProducerId, 4, ip)
console.log('InitProducerId', r1)
const ap = { ...getApi(ApiKey.AddPartitionsToTxn).request.create(), v3AndBelowTransactionalId: ip.transactionalId, v3AndBelowProducerId: r1.producerId, v3AndBelowProducerEpoch: r1.producerEpoch, v3AndBelowTopics: [{ name: 'berries', partitions: [0] }] }
console.log('AddPartitionsToTxn', JSON.stringify(await call(ApiKey.AddPartitionsToTxn, 3, ap), (k, v) => typeof v === 'bigint' ? String(v) : v))
sock.destroy()
