import t from 'tap'
import { encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { NEED_MORE, produceAcks } from '../../src/session/produce-acks.ts'

function produce (version: number, acks: number, transactionalId: string | null, clientId: string | null, tags = false): Buffer {
  const body = { ...getApi(0).request.create(), acks, transactionalId, timeoutMs: 1000, topicData: [] }
  const header: any = { apiKey: 0, apiVersion: version, correlationId: 9, clientId }
  if (tags) header._unknownTaggedFields = [{ tag: 7, data: Buffer.from('abc') }]
  return Buffer.concat(encodeRequest(header, body)).subarray(4)
}

t.test('acks of every Produce version, with and without transactional id and client id', async t => {
  const api = getApi(0)
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    for (const acks of [0, 1, -1]) {
      for (const txn of [null, '', 'txn-ä-1']) {
        for (const clientId of [null, 'client']) {
          t.equal(produceAcks(produce(v, acks, txn, clientId), v), acks, `v${v} acks=${acks} txn=${txn} client=${clientId}`)
        }
      }
    }
  }
})

t.test('header tagged fields (flexible versions) are skipped', async t => {
  t.equal(produceAcks(produce(12, 0, 'tx', 'c', true), 12), 0)
  t.equal(produceAcks(produce(12, -1, null, 'c', true), 12), -1)
})

t.test('a payload cut before acks asks for more', async t => {
  const full = produce(12, 1, 'a-transactional-id', 'client')
  t.equal(produceAcks(full, 12), 1)
  for (let n = 0; n < 36; n++) t.equal(produceAcks(full.subarray(0, n), 12), n >= 36 ? 1 : NEED_MORE, `${n} bytes`)
  const old = produce(5, 1, 'abc', 'client')
  t.equal(produceAcks(old.subarray(0, 20), 5), NEED_MORE)
})

// Produce v0-2 (no transactional id): acks is the body's first field. The codec has no v0-2, so
// the frames are written by hand: header v1, then acks int16, timeoutMs int32, topics int32 0.
t.test('Produce v0-2: acks comes first', async t => {
  for (const v of [0, 1, 2]) {
    for (const acks of [0, 1, -1]) {
      const clientId = Buffer.from('old-client')
      const buf = Buffer.alloc(10 + clientId.length + 10)
      buf.writeInt16BE(0, 0)
      buf.writeInt16BE(v, 2)
      buf.writeInt32BE(5, 4)
      buf.writeInt16BE(clientId.length, 8)
      clientId.copy(buf, 10)
      buf.writeInt16BE(acks, 10 + clientId.length)
      buf.writeInt32BE(1000, 12 + clientId.length)
      t.equal(produceAcks(buf, v), acks, `v${v} acks=${acks}`)
      t.equal(produceAcks(buf.subarray(0, 11 + clientId.length), v), NEED_MORE, `v${v} cut inside acks`)
    }
  }
})
