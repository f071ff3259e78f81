// The Grafana dashboard as a file: the committed JSON is its generator's output, it is a
// well-formed dashboard (unique ids, panels on the 24-column grid, every query on the chosen
// Prometheus data source and instance), and every query parses (promtool). That the queries name
// only what kproxy exports is checked against a live /metrics in test/integration/metrics-live.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { grafanaToPromql } from '../helpers/promql.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0

interface Panel { id: number, type: string, title: string, gridPos: { x: number, y: number, w: number, h: number }, datasource?: { uid: string }, targets?: Array<{ expr: string, refId: string, datasource: { uid: string } }> }
const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/kproxy.json'), 'utf8')) as { uid: string, panels: Panel[], templating: { list: Array<{ name: string }> } }

t.test('the committed dashboard is the generator\'s output', async t => {
  const gen = spawnSync(process.execPath, [join(ROOT, 'scripts/grafana-dashboard.ts'), '--check'], { encoding: 'utf8' })
  t.equal(gen.status, 0, `node scripts/grafana-dashboard.ts --check: ${gen.stderr}`)
})

t.test('a well-formed dashboard', async t => {
  t.equal(dashboard.uid, 'kproxy')
  t.same(dashboard.templating.list.map(v => v.name), ['datasource', 'instance'])
  const ids = dashboard.panels.map(p => p.id)
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique')
  for (const p of dashboard.panels) {
    t.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: within the 24 columns`)
    if (p.type === 'row') continue
    t.equal(p.datasource?.uid, '${datasource}', `${p.title}: on the chosen data source`)
    t.ok((p.targets ?? []).length > 0, `${p.title}: has queries`)
    for (const x of p.targets ?? []) {
      t.equal(x.datasource.uid, '${datasource}')
      t.match(x.expr, /instance=~"\$instance"/, `${p.title} ${x.refId}: filtered by the instance variable`)
    }
  }
})

t.test('every query parses', { skip: hasPromtool ? false : 'promtool is not installed (Debian package `prometheus`)' }, async t => {
  const rules = { groups: [{ name: 'dashboard', rules: dashboard.panels.flatMap(p => p.targets ?? []).map((x, i) => ({ record: `kproxy_dashboard:query_${i}`, expr: grafanaToPromql(x.expr) })) }] }
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-dashboard-'))
  writeFileSync(join(dir, 'rules.yaml'), JSON.stringify(rules, null, 2))
  const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' })
  t.equal(check.status, 0, `promtool check rules: ${check.stdout}${check.stderr}`)
  t.match(check.stdout, new RegExp(`SUCCESS: ${rules.groups[0]!.rules.length} rules found`))
  writeFileSync(join(dir, 'bad.yaml'), JSON.stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: grafanaToPromql('sum(rate(kproxy_requests_total{instance=~"$instance"}[$__rate_interval])') }] }] }))
  t.not(spawnSync('promtool', ['check', 'rules', join(dir, 'bad.yaml')]).status, 0, 'an unbalanced query is refused (the check can fail)')
})
