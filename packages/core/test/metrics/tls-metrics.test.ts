import t from 'tap'
import { spawnSync } from 'node:child_process'
import { MetricsRegistry } from '../../src/metrics/metrics-registry.ts'
import type { MetricsSnapshot } from '../../src/metrics/metrics-registry.ts'
import { foldSnapshots, mergeSnapshots, retireSnapshot } from '../../src/metrics/metrics-merge.ts'
import { renderPrometheus } from '../../src/metrics/prometheus.ts'
import { renderEnvoyStats } from '../../src/metrics/envoy-stats.ts'
import { noopProxyMetrics } from '../../src/metrics/proxy-metrics.ts'
import { TLS_FAILURE_REASONS } from '../../src/tls/handshake-failure.ts'
import type { TlsFailureReason } from '../../src/tls/handshake-failure.ts'

function worker (handshakes: number, failures: TlsFailureReason[]): MetricsRegistry {
  const r = new MetricsRegistry()
  for (let i = 0; i < handshakes; i++) r.tlsHandshake()
  for (const f of failures) r.tlsHandshakeFailure(f)
  return r
}

const at = (reason: TlsFailureReason): number => TLS_FAILURE_REASONS.indexOf(reason)

t.test('the registry counts handshakes and failures by reason', async t => {
  const r = worker(3, ['unknown_ca', 'unknown_ca', 'not_tls', 'upstream_hostname_mismatch'])
  const array = r.tlsFailures
  r.tlsHandshakeFailure('bogus' as TlsFailureReason)
  t.equal(r.tlsFailures, array, 'the same typed array, counted in place')
  const s = r.snapshot()
  t.equal(s.tlsHandshakes, 3)
  t.equal(s.tlsHandshakeFailures.length, TLS_FAILURE_REASONS.length)
  t.equal(s.tlsHandshakeFailures[at('unknown_ca')], 2)
  t.equal(s.tlsHandshakeFailures[at('not_tls')], 1)
  t.equal(s.tlsHandshakeFailures[at('upstream_hostname_mismatch')], 1)
  t.equal(s.tlsHandshakeFailures[at('other')], 1, 'an unknown reason counts as other')
  t.equal(s.tlsHandshakeFailures.reduce((a, b) => a + b, 0), 5)
  t.same(structuredClone(s), s, 'snapshot survives structured clone')
})

t.test('merge, fold and retire keep the TLS counters', async t => {
  const a = worker(2, ['no_client_cert'])
  const b = worker(5, ['no_client_cert', 'cert_expired'])
  const m = mergeSnapshots([a.snapshot(), b.snapshot()])
  t.equal(m.tlsHandshakes, 7)
  t.equal(m.tlsHandshakeFailures[at('no_client_cert')], 2)
  t.equal(m.tlsHandshakeFailures[at('cert_expired')], 1)
  const folded = foldSnapshots([retireSnapshot(a.snapshot()), retireSnapshot(b.snapshot())])
  t.equal(folded.tlsHandshakes, 7)
  t.same(folded.tlsHandshakeFailures, m.tlsHandshakeFailures)
  const again = mergeSnapshots([folded, worker(1, ['not_tls']).snapshot()])
  t.equal(again.tlsHandshakes, 8)
  t.equal(again.tlsHandshakeFailures[at('not_tls')], 1)
  t.equal(again.tlsHandshakeFailures[at('no_client_cert')], 2)
  // A snapshot from before the TLS counters (a worker of an older build during a reload).
  const old = { ...worker(0, []).snapshot() } as Partial<MetricsSnapshot>
  delete old.tlsHandshakeFailures
  delete old.tlsHandshakes
  const mixed = mergeSnapshots([old as MetricsSnapshot, b.snapshot()])
  t.equal(mixed.tlsHandshakes, 5)
  t.equal(mixed.tlsHandshakeFailures[at('cert_expired')], 1)
  t.equal(mergeSnapshots([]).tlsHandshakeFailures.length, TLS_FAILURE_REASONS.length, 'no workers: all zero, all present')
})

t.test('Prometheus: every reason is a series, zeros included', async t => {
  const text = renderPrometheus(mergeSnapshots([worker(4, ['unknown_ca', 'unknown_ca', 'tls_on_plaintext_port']).snapshot()]))
  t.match(text, /^# TYPE kproxy_tls_handshakes_total counter$/m)
  t.match(text, /^kproxy_tls_handshakes_total 4$/m)
  t.match(text, /^# TYPE kproxy_tls_handshake_failures_total counter$/m)
  const series = text.split('\n').filter(l => l.startsWith('kproxy_tls_handshake_failures_total{'))
  t.equal(series.length, TLS_FAILURE_REASONS.length)
  for (const reason of TLS_FAILURE_REASONS) {
    const want = reason === 'unknown_ca' ? 2 : reason === 'tls_on_plaintext_port' ? 1 : 0
    t.ok(series.includes(`kproxy_tls_handshake_failures_total{reason="${reason}"} ${want}`), `${reason} ${want}`)
  }
})

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0
t.test('promtool accepts the TLS families', { skip: hasPromtool ? false : 'promtool is not installed' }, async t => {
  const text = renderPrometheus(mergeSnapshots([worker(1, ['other']).snapshot()]))
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  t.equal(check.status, 0, check.stdout + check.stderr)
  t.equal((check.stdout + check.stderr).trim(), '')
})

t.test('/stats names: kproxy.<prefix>.tls.*', async t => {
  const stats = renderEnvoyStats(mergeSnapshots([worker(6, ['handshake_timeout']).snapshot()]), 'edge')
  const counters = new Map(stats.stats.flatMap(s => 'name' in s ? [[s.name, s.value]] : []))
  t.equal(counters.get('kproxy.edge.tls.handshake'), 6)
  t.equal(counters.get('kproxy.edge.tls.handshake_failures.handshake_timeout'), 1)
  t.equal(counters.get('kproxy.edge.tls.handshake_failures.unknown_ca'), 0)
  t.equal([...counters.keys()].filter(n => n.startsWith('kproxy.edge.tls.handshake_failures.')).length, TLS_FAILURE_REASONS.length)
})

t.test('noopProxyMetrics takes the TLS calls', async t => {
  t.doesNotThrow(() => {
    noopProxyMetrics.tlsHandshake()
    noopProxyMetrics.tlsHandshakeFailure('not_tls')
  })
})
