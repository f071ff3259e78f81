import t from 'tap'
import { RequestQueue } from '../../src/broker-mode/request-queue.ts'

t.test('FIFO across growth and wrap-around', async t => {
  const q = new RequestQueue()
  let next = 0
  let expect = 0
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 37; i++) { q.push(next, next % 70, next % 13, next * 1.5); next++ }
    for (let i = 0; i < 30; i++) {
      t.equal(q.headCorrelationId, expect)
      if (q.headApiKey !== expect % 70 || q.headApiVersion !== expect % 13 || q.headStartTime !== expect * 1.5) t.fail(`entry ${expect}`)
      q.shift()
      expect++
    }
  }
  t.equal(q.length, next - expect)
  while (q.length > 0) { t.equal(q.headCorrelationId, expect++); q.shift() }
  t.equal(expect, next)
})

t.test('synthetic responses ride along and are released', async t => {
  const q = new RequestQueue()
  const frame = [Buffer.from('x')]
  q.push(1, 0, 0, 0)
  q.push(2, 19, 7, 0, frame)
  t.equal(q.headSynthetic, undefined)
  q.shift()
  t.equal(q.headSynthetic, frame)
  q.shift()
  t.equal(q.length, 0)
  q.shift() // no-op when empty
  t.equal(q.length, 0)
  q.push(3, 0, 0, 0, frame)
  q.clear()
  t.equal(q.length, 0)
})
