// kproxy's metrics as Prometheus and Grafana see them, from a real `kproxy serve` in front of a
// real Kafka with kcat traffic: the stats selection (inclusionRegexps keeps one family), the
// label cap with 10,000 distinct client ids, and the dashboards as code: every metric and label
// the Grafana dashboard and the alerting rules name is in the live /metrics (their syntax:
// test/deploy).
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeRequest } from '@kproxy/core/protocol/codec'
import { encodeRecordBatch } from '@kproxy/core/protocol/record-batch-encode'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'
import { WireConnection } from '../helpers/wire-connection.ts'
import { promqlNames, readExposition } from '../helpers/promql.ts'
import type { Exposition } from '../helpers/promql.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
// labels Prometheus adds when it scrapes, and the summary's quantile
const SCRAPE_LABELS = new Set(['instance', 'job'])
// not kproxy's: Prometheus' own scrape health, used by the KproxyDown alert
const PROMETHEUS_METRICS = new Set(['up'])

const dir = mkdtempSync(join(tmpdir(), 'kproxy-metrics-live-'))
function configFile (name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

// Every name of the expression is in the exposition; every label it uses is on one of those
// metrics (when they have samples: a family without samples shows no labels yet).
function checkExpression (t: { ok (value: unknown, message: string): unknown }, where: string, expr: string, live: Exposition, empty: Set<string>): void {
  const { metrics, labels } = promqlNames(expr)
  t.ok(metrics.length > 0, `${where}: names a metric`)
  for (const m of metrics) t.ok(live.names.has(m) || PROMETHEUS_METRICS.has(m), `${where}: ${m} is in the live /metrics`)
  const withSamples = metrics.filter(m => live.labels.has(m))
  if (withSamples.length < metrics.filter(m => !PROMETHEUS_METRICS.has(m)).length) {
    for (const m of metrics) if (!live.labels.has(m) && !PROMETHEUS_METRICS.has(m)) empty.add(m)
    return
  }
  const known = new Set([...SCRAPE_LABELS, ...withSamples.flatMap(m => [...live.labels.get(m)!])])
  for (const l of labels) t.ok(known.has(l), `${where}: label ${l} is on ${withSamples.join(', ')}`)
}


t.test('live /metrics', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 1 })
  const everything = await serveKproxy(t, {
    upstream: cluster.bootstrap,
    workers: 2,
    args: ['--config', configFile('all.yaml', 'stats:\n  flows: true\n  labels:\n    principal: true\n    clientId: true\n    topic: true\n    clientSoftware: true\n  maxLabelValues: 100\n  maxFlows: 20000\n')]
  })
  const onlyRequests = await serveKproxy(t, {
    upstream: cluster.bootstrap,
    workers: 1,
    args: ['--config', configFile('only.yaml', 'stats:\n  inclusionRegexps: [kproxy_requests_total]\n')]
  })
  const topic = `metrics-live-${Date.now()}`
  for (const k of [everything, onlyRequests]) {
    const p = await kcat(['-P', '-b', k.bootstrap, '-t', topic, '-X', 'client.id=live-producer'], { input: Array.from({ length: 100 }, (_, i) => `r${i}`).join('\n') + '\n' })
    t.equal(p.code, 0, p.stderr)
    const c = await kcat(['-C', '-b', k.bootstrap, '-t', topic, '-X', 'client.id=live-consumer', '-o', 'beginning', '-c', '100', '-e'])
    t.equal(c.code, 0, c.stderr)
  }

  t.test('stats.inclusionRegexps: [kproxy_requests_total] keeps only that family', async t => {
    const text = await onlyRequests.metrics()
    t.same([...text.matchAll(/^# TYPE (\S+)/gm)].map(m => m[1]), ['kproxy_requests_total'])
    t.ok(text.split('\n').filter(l => l !== '' && !l.startsWith('#')).every(l => l.startsWith('kproxy_requests_total{')), 'every sample is of that family')
    t.match(text, /^kproxy_requests_total\{api="produce",api_key="0",version="\d+"\} [1-9]\d*$/m, 'with the producer\'s requests')
  })

  t.test('the Grafana dashboard and the alerting rules name what kproxy exports', async t => {
    const live = readExposition(await everything.metrics())
    const empty = new Set<string>()
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/kproxy.json'), 'utf8')) as { panels: Array<{ title: string, targets?: Array<{ expr: string }> }> }
    const exprs = dashboard.panels.flatMap(p => (p.targets ?? []).map((x, i) => ({ where: `panel "${p.title}" query ${i + 1}`, expr: x.expr })))
    t.ok(exprs.length >= 30, `${exprs.length} dashboard queries`)
    for (const e of exprs) checkExpression(t, e.where, e.expr, live, empty)
    const rules = readFileSync(join(ROOT, 'deploy/prometheus/kproxy-rules.yaml'), 'utf8')
    const ruleExprs = [...rules.matchAll(/^\s+- alert: (\S+)\n\s+expr: (.+)$/gm)].map(m => ({ where: `alert ${m[1]}`, expr: m[2]! }))
    t.equal(ruleExprs.length, 9, 'every alert found')
    for (const e of ruleExprs) checkExpression(t, e.where, e.expr, live, empty)
    t.comment(`families without samples in this run (labels not checked): ${[...empty].sort().join(', ') || 'none'}`)
    // a misspelt metric must fail this check
    t.notOk(live.names.has('kproxy_request_total'), 'a name kproxy does not export is absent (the check can fail)')
  })

  t.test('10,000 distinct client ids: the client_id label stays within maxLabelValues', async t => {
    const ids = 10_000
    let next = 0
    // a broker does not answer a Produce without records: one small batch each
    const records = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ value: Buffer.from('x') }] })
    // one connection per client id, as 10,000 different applications would come
    const worker = async (): Promise<void> => {
      for (let i = next++; i < ids; i = next++) {
        const conn = await WireConnection.open('127.0.0.1', everything.listenPort)
        try {
          conn.send(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: i, clientId: `cardinality-${i}` }, {
            transactionalId: null, acks: 1, timeoutMs: 5000,
            topicData: [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records }] }]
          }))
          if (await conn.nextFrame() === null) throw new Error(`no answer to client ${i}'s Produce`)
        } finally {
          conn.close()
        }
      }
    }
    await Promise.all(Array.from({ length: 20 }, () => worker()))
    const text = await everything.metrics()
    const values = new Set([...text.matchAll(/^kproxy_flow_requests_total\{[^}]*client_id="([^"]*)"/gm)].map(m => m[1]))
    t.ok(values.size <= 101, `${values.size} client_id values (100 and "other")`)
    t.ok(values.has('other'), 'the rest is "other"')
    t.match(text, /^kproxy_stats_label_values_folded\{label="client_id"\} [1-9]\d*$/m, 'and counted')
  })
})
