// `kproxy bench` as a user runs it: the real binary loading the harness from bench/.
import t from 'tap'
import { kproxy } from '../helpers/run-kproxy.ts'


t.test('listed in kproxy --help, with its own usage', async t => {
  const help = await kproxy('--help')
  t.match(help.stdout, /\n {2}bench\s+load-test a Kafka endpoint/)
  const usage = await kproxy('bench', '--help')
  t.equal(usage.code, 0)
  t.match(usage.stdout, /^Usage: kproxy bench <produce\|fetch\|roundtrip\|connections> --target HOST:PORT/)
  const all = await kproxy('bench', 'help')
  t.match(all.stdout, /--record-size BYTES \(1024\)/)
})

t.test('bad input: one sentence, exit 2 for usage, exit 1 for an unreachable target', async t => {
  const bad = await kproxy('bench', 'produce', '--target', '127.0.0.1:9092', '--acks', 'maybe')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^kproxy bench: --acks must be 0, 1 or all, not 'maybe'\.\n/)
  const unknown = await kproxy('bench', 'stress', '--target', '127.0.0.1:9092')
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /^kproxy bench: Unknown scenario 'stress'; choose one of produce, fetch, roundtrip, connections\./)
  const down = await kproxy('bench', 'roundtrip', '--target', '127.0.0.1:1', '--duration', '1')
  t.equal(down.code, 1)
  t.equal(down.stderr, 'kproxy bench: Cannot connect to 127.0.0.1:1 (ECONNREFUSED); check that the target is running.\n')
  const gate = await kproxy('bench', 'gate', '--thresholds', '/nonexistent/gate.json')
  t.equal(gate.code, 2, 'the gate checks its thresholds file before starting anything')
  t.match(gate.stderr, /nonexistent\/gate\.json/)
})
