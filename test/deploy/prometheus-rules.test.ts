// The alerting rules: promtool accepts them (and would refuse a broken copy), and their unit
// tests pass (the alerts fire on the series that should fire them). That every metric they name
// is one kproxy exports is checked against a live /metrics in
// test/integration/grafana-dashboard.test.ts.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promqlNames } from '../helpers/promql.ts'

const DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url))
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0

t.test('promtool check rules and test rules', { skip: hasPromtool ? false : 'promtool is not installed (Debian package `prometheus`)' }, async t => {
  const check = spawnSync('promtool', ['check', 'rules', 'kproxy-rules.yaml'], { cwd: DIR, encoding: 'utf8' })
  t.equal(check.status, 0, `promtool check rules: ${check.stdout}${check.stderr}`)
  t.match(check.stdout, /SUCCESS: 9 rules found/)
  const test = spawnSync('promtool', ['test', 'rules', 'kproxy-rules.test.yaml'], { cwd: DIR, encoding: 'utf8' })
  t.equal(test.status, 0, `promtool test rules: ${test.stdout}${test.stderr}`)
  const broken = join(mkdtempSync(join(tmpdir(), 'kproxy-rules-')), 'broken.yaml')
  writeFileSync(broken, readFileSync(join(DIR, 'kproxy-rules.yaml'), 'utf8').replace('kproxy_workers < kproxy_workers_configured', 'kproxy_workers < < kproxy_workers_configured'))
  t.not(spawnSync('promtool', ['check', 'rules', broken], { encoding: 'utf8' }).status, 0, 'promtool refuses a broken expression (the check can fail)')
})

t.test('the PromQL scanner the dashboard checks rely on', async t => {
  t.same(promqlNames('sum by (api, error) (rate(kproxy_response_errors_total{instance=~"$instance", error!="NONE"}[$__rate_interval])) / ignoring(error) kproxy_x'), { metrics: ['kproxy_response_errors_total', 'kproxy_x'], labels: ['instance', 'error', 'api'] })
  t.same(promqlNames('topk(10, sum by (topic) (rate(a[5m]) + rate(b_total{x="a{b}"}[1h]))) > 0.5e3'), { metrics: ['a', 'b_total'], labels: ['x', 'topic'] })
  t.same(promqlNames('up{job=~".*kproxy.*"} == 0'), { metrics: ['up'], labels: ['job'] })
})
