import t from 'tap'
import { encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { intersectApiVersionsResponse } from '../../../src/filters/builtin/api-versions.ts'
import { ApiVersionsMemo } from '../../../src/filters/builtin/api-versions-memo.ts'

function brokerAnswer (version: number, correlationId: number, maxProduce: number, errorCode = 0): Buffer {
  const body = getApi(18).response.create()
  body.errorCode = errorCode
  body.apiKeys = [{ apiKey: 0, minVersion: 3, maxVersion: maxProduce }, { apiKey: 3, minVersion: 0, maxVersion: 12 }, { apiKey: 999, minVersion: 0, maxVersion: 1 }]
  return Buffer.concat(encodeResponse(18, version, { correlationId }, body)).subarray(4)
}

t.test('a repeated answer is the same bytes as a fresh intersection, with its own correlation id', async t => {
  const memo = new ApiVersionsMemo()
  for (const v of [0, 3, 4]) {
    for (const id of [7, 8, 2_000_000_000]) {
      const payload = brokerAnswer(v, id, 11)
      const want = Buffer.concat(intersectApiVersionsResponse(payload, v)!)
      const got = Buffer.concat(memo.intersect(payload, v)!)
      t.same(got, want, `v${v} correlation id ${id}`)
      t.equal(got.readInt32BE(4), id)
    }
  }
})

t.test('a different answer is intersected again; errors still pass through', async t => {
  const memo = new ApiVersionsMemo()
  const first = Buffer.concat(memo.intersect(brokerAnswer(3, 1, 11), 3)!)
  const changed = brokerAnswer(3, 2, 9)
  const second = Buffer.concat(memo.intersect(changed, 3)!)
  t.same(second, Buffer.concat(intersectApiVersionsResponse(changed, 3)!))
  t.not(second.subarray(8).toString('hex'), first.subarray(8).toString('hex'), 'the new ranges, not the kept ones')
  t.equal(memo.intersect(brokerAnswer(3, 3, 9, 35), 3), null)
  t.equal(memo.intersect(brokerAnswer(3, 4, 9, 35), 3), null, 'kept as "forward as it is"')
})

t.test('the kept output is not shared with what was sent', async t => {
  const memo = new ApiVersionsMemo()
  memo.intersect(brokerAnswer(3, 1, 11), 3)
  const a = memo.intersect(brokerAnswer(3, 5, 11), 3)![0]!
  const b = memo.intersect(brokerAnswer(3, 6, 11), 3)![0]!
  t.equal(a.readInt32BE(4), 5, 'an earlier answer keeps its correlation id')
  t.equal(b.readInt32BE(4), 6)
})
