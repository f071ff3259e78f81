import t from 'tap'
import { isKproxyError } from '@kproxy/core/kproxy-error'
import { parseBenchArgs, parseHostPort } from '../src/options.ts'

function usageMessage (argv: string[]): string {
  try {
    parseBenchArgs(argv)
  } catch (err) {
    if (isKproxyError(err, 'KPROXY_ERR_BENCH_USAGE')) return err.message
    throw err
  }
  throw new Error(`no error for ${argv.join(' ')}`)
}

t.test('defaults and flags', async t => {
  const o = parseBenchArgs(['produce', '--target', '127.0.0.1:9092'])
  t.match(o, { scenario: 'produce', host: '127.0.0.1', port: 9092, connections: 4, threads: 2, durationMs: 10_000, rate: 0, inFlight: 5, recordSize: 1024, recordsPerBatch: 100, partitions: 6, acks: 1, topic: 'kproxy-bench', label: '127.0.0.1:9092' })
  const p = parseBenchArgs(['produce', '--target', 'localhost:1', '--acks', 'all', '--rate', '500', '--duration', '0.5', '--connections', '1', '--record-size', '10'])
  t.equal(p.acks, -1)
  t.equal(p.rate, 500)
  t.equal(p.durationMs, 500)
  t.equal(p.threads, 1)
  t.equal(parseBenchArgs(['produce', '--target', 'h:1', '--acks', '0']).acks, 0)
  const r = parseBenchArgs(['roundtrip', '--target', 'h:1', '--pipeline', '16', '--request', 'metadata'])
  t.equal(r.inFlight, 16)
  t.equal(r.request, 'metadata')
  t.equal(parseBenchArgs(['connections', '--target', 'h:1', '--count', '10', '--target-pid', '1']).count, 10)
  t.same(parseHostPort('[::1]:9092'), { host: '::1', port: 9092 })
})

t.test('every bad input is one clear sentence', async t => {
  t.match(usageMessage([]), /Name a scenario/)
  t.match(usageMessage(['load', '--target', 'h:1']), /Unknown scenario 'load'/)
  t.match(usageMessage(['produce']), /--target HOST:PORT is required/)
  t.match(usageMessage(['produce', '--target', 'nohost']), /--target must be HOST:PORT/)
  t.match(usageMessage(['produce', '--target', 'h:70000']), /--target must be HOST:PORT/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--acks', '2']), /--acks must be 0, 1 or all/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--connections', '0']), /--connections must be a whole number from 1/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--connections', '2.5']), /--connections/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--duration', '-1']), /--duration/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--rate', 'fast']), /--rate must be a positive number/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--rate', '10', '--acks', '0']), /--rate needs responses/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--pipeline', '4']), /--pipeline does not apply to the produce scenario/)
  t.match(usageMessage(['roundtrip', '--target', 'h:1', '--acks', '1']), /--acks does not apply to the roundtrip scenario/)
  t.match(usageMessage(['roundtrip', '--target', 'h:1', '--request', 'fetch']), /--request must be apiversions or metadata/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--bogus']), /Unknown option '--bogus'/)
  t.match(usageMessage(['produce', '--target', 'h:1', '--record-size', '1048576', '--records-per-batch', '100']), /under 16 MiB/)
})

t.test('TLS toward the target and the client id', async t => {
  t.same(parseBenchArgs(['produce', '--target', 'h:1']).tls, null)
  t.equal(parseBenchArgs(['produce', '--target', 'h:1']).clientId, 'kproxy-bench')
  const o = parseBenchArgs(['roundtrip', '--target', 'h:1', '--tls-ca', 'ca.crt', '--tls-cert', 'alice.crt', '--tls-key', 'alice.key', '--client-id', 'reporting'])
  t.same(o.tls, { ca: 'ca.crt', cert: 'alice.crt', key: 'alice.key' })
  t.equal(o.clientId, 'reporting')
  t.same(parseBenchArgs(['fetch', '--target', 'h:1', '--tls-ca', 'ca.crt']).tls, { ca: 'ca.crt', cert: null, key: null }, 'TLS without a client certificate')
  t.throws(() => parseBenchArgs(['produce', '--target', 'h:1', '--tls-ca', 'ca.crt', '--tls-cert', 'a.crt']), /--tls-cert and --tls-key go together/)
  t.throws(() => parseBenchArgs(['produce', '--target', 'h:1', '--tls-cert', 'a.crt', '--tls-key', 'a.key']), /--tls-cert needs --tls-ca/)
  t.throws(() => parseBenchArgs(['produce', '--target', 'h:1', '--client-id', '']), /--client-id must be a non-empty name/)
})
