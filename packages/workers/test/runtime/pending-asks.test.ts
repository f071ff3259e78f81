import t from 'tap'
import { PendingAsks } from '../../src/runtime/pending-asks.ts'

t.test('each question gets its own id and only the answer with that id reaches it, once', async t => {
  const asks = new PendingAsks<string>()
  const sent: number[] = []
  const got: string[] = []
  asks.ask(id => sent.push(id), a => got.push(`first:${a}`))
  asks.ask(id => sent.push(id), a => got.push(`second:${a}`))
  t.equal(new Set(sent).size, 2, 'two distinct request ids')
  t.equal(asks.waiting, 2)
  asks.answer(sent[1]!, 'b')
  t.same(got, ['second:b'], 'answers reach the question they belong to, in any order')
  asks.answer(sent[1]!, 'again')
  asks.answer(9999, 'never asked')
  t.same(got, ['second:b'], 'a repeated or unknown id is ignored')
  asks.answer(sent[0]!, 'a')
  t.same(got, ['second:b', 'first:a'])
  t.equal(asks.waiting, 0, 'nothing is kept once answered')
})

t.test('the id is known when the question is sent, so an answer posted at once still arrives', async t => {
  const asks = new PendingAsks<number>()
  let got = -1
  asks.ask(id => asks.answer(id, 42), a => { got = a })
  t.equal(got, 42)
})
