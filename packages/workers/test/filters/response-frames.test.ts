import t from 'tap'
import { responseFramesProblem } from '../../src/filters/response-frames.ts'

const frame = (size: number, correlationId: number, rest: number): Buffer => {
  const b = Buffer.alloc(8 + rest)
  b.writeInt32BE(size, 0)
  b.writeInt32BE(correlationId, 4)
  return b
}

t.test('one whole response frame for the request passes, in one buffer or several', async t => {
  t.equal(responseFramesProblem([frame(10, 5, 6)], 5), null)
  const whole = frame(10, 5, 6)
  t.equal(responseFramesProblem([whole.subarray(0, 3), whole.subarray(3, 6), whole.subarray(6)], 5), null, 'a head split over buffers')
})

t.test('anything else is named', async t => {
  t.match(responseFramesProblem('x', 5), /not a non-empty list of Buffers/)
  t.match(responseFramesProblem([], 5), /not a non-empty list of Buffers/)
  t.match(responseFramesProblem([Buffer.alloc(8), 'x'], 5), /not a list of Buffers/)
  t.match(responseFramesProblem([Buffer.alloc(7)], 5), /7 bytes, too short/)
  t.match(responseFramesProblem([frame(99, 5, 6)], 5), /size prefix of 99 for 10 bytes/)
  t.match(responseFramesProblem([frame(10, 5, 6), frame(10, 5, 6)], 5), /size prefix of 10 for 24 bytes/, 'two frames are not one')
  t.match(responseFramesProblem([frame(10, 6, 6)], 5), /correlation id 6 instead of the request's 5/)
})
