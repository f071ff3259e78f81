import t from 'tap'
import { InFlightQueue } from '../../src/session/in-flight.ts'

function entry (q: InFlightQueue, n: number) {
  const e = q.take()
  e.state = 'upstream'
  e.correlationId = n
  e.apiKey = n % 70
  e.apiVersion = n % 13
  e.startTime = n * 1.5
  return e
}

t.test('FIFO across growth and wrap-around', async t => {
  const q = new InFlightQueue()
  let next = 0
  let expect = 0
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 37; i++) { q.push(entry(q, next)); next++ }
    for (let i = 0; i < 30; i++) {
      const head = q.head!
      t.equal(head.correlationId, expect)
      if (head.apiKey !== expect % 70 || head.apiVersion !== expect % 13 || head.startTime !== expect * 1.5) t.fail(`entry ${expect}`)
      t.equal(q.shift(), head)
      q.release(head)
      expect++
    }
  }
  t.equal(q.length, next - expect)
  for (let k = 0; k < q.length; k++) t.equal(q.at(k).correlationId, expect + k, 'at() walks in order')
  while (q.length > 0) { t.equal(q.head!.correlationId, expect++); q.release(q.shift()!) }
  t.equal(expect, next)
})

t.test('entries are recycled: released ones come back reset, with a new generation when reused', async t => {
  const q = new InFlightQueue()
  const a = entry(q, 1)
  a.responseFrames = [Buffer.from('x')]
  a.gen = 7
  q.push(a)
  t.equal(q.shift(), a)
  q.release(a)
  t.equal(a.state, 'free')
  t.equal(a.responseFrames, null, 'the answer is dropped')
  const b = q.take()
  t.equal(b, a, 'the same object comes back')
  t.equal(q.shift(), undefined, 'shift of an empty queue is a no-op')
  q.push(b)
  q.clear()
  t.equal(q.length, 0)
  t.equal(q.head, undefined)
})
