import t from 'tap'
import { newHistogram, recordUs, summarize } from '../src/histogram.ts'
import { Pacer } from '../src/pacer.ts'

// A discrete-time simulation of one connection with one request in flight at 1000 requests/s:
// the service takes 100 µs, except that a request sent at t = 5 s stalls for 1 s. The paced
// sender (the generator's Pacer) counts latency from each request's intended send time.
function simulate (): { corrected: ReturnType<typeof summarize>, naive: ReturnType<typeof summarize>, p95: number } {
  const pacer = new Pacer(1000, 0)
  const corrected = newHistogram()
  const naive = newHistogram()
  const endUs = 10_000_000
  let now = 0
  let stalled = false
  while (pacer.nextUs < endUs) {
    if (!pacer.due(now)) now = pacer.nextUs
    const intended = pacer.take()
    const sent = now
    const service = !stalled && sent >= 5_000_000 ? (stalled = true, 1_000_000) : 100
    now = sent + service
    recordUs(corrected, now - intended)
    recordUs(naive, now - sent)
  }
  return { corrected: summarize(corrected), naive: summarize(naive), p95: corrected.getValueAtPercentile(95) }
}

t.test('a stall at fixed rate shows in the tail from intended send times', async t => {
  const { corrected, naive, p95 } = simulate()
  t.equal(corrected.count, 10_000)
  // The k-th request due after the stall began (intended 5 s + k ms) is answered at
  // 6 s + k * 100 µs once the backlog drains (9 ms of backlog per ms): latency 1 s - 0.9 k ms,
  // for about 1111 requests. So the top 1% (k = 100) is at 0.91 s, the top 5% (k = 500) at
  // 0.55 s, the top 10% (k = 1000) at 0.1 s, and the median is the service time.
  t.ok(corrected.p99 >= 890_000 && corrected.p99 <= 930_000, `corrected p99 ${corrected.p99} µs`)
  t.ok(p95 >= 530_000 && p95 <= 570_000, `corrected p95 ${p95} µs`)
  t.ok(corrected.p90 >= 80_000 && corrected.p90 <= 120_000, `corrected p90 ${corrected.p90} µs`)
  t.equal(corrected.p50, 100)
  t.ok(Math.abs(corrected.max - 1_000_100) <= 1000, `max ${corrected.max}`)
  // measured from the actual send time, the same run hides the stall in one sample
  t.equal(naive.count, 10_000)
  t.ok(naive.p99 <= 101, `naive p99 ${naive.p99} µs`)
  t.ok(naive.p999 <= 101, `naive p99.9 ${naive.p999} µs`)
})

t.test('pacer schedule', async t => {
  const p = new Pacer(4, 1000)
  t.equal(p.intervalUs, 250_000)
  t.notOk(p.due(999))
  t.ok(p.due(1000))
  t.equal(p.take(), 1000)
  t.equal(p.take(), 251_000)
  t.equal(p.taken, 2)
  t.throws(() => new Pacer(0, 0), RangeError)
})
