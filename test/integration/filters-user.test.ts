// Issue 8 acceptance: a user filter loaded from a path (test/fixtures/filters/deny-topic.ts, the
// example of docs/filters.md) through `kproxy serve --workers 2 --config FILE` in front of a real
// 3-node cluster. kcat (librdkafka) and Kafka's Java console producer are refused Produce to the
// denied topic with TOPIC_AUTHORIZATION_FAILED and produce to another topic as usual; the
// filter's counters in /metrics match what kproxy itself counted. And the three ways a filter
// entry can be wrong stop `check-config` and `serve` with one sentence naming the file, the key
// and the filter.
import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import type { ProcessResult, TeardownHost } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics, tally } from '../helpers/e2e-records.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))
const FIXTURE = fileURLToPath(new URL('../fixtures/filters/deny-topic.ts', import.meta.url))

function kproxyCli (args: readonly string[], timeoutMs = 30_000): Promise<ProcessResult> {
  return new Promise(resolve => {
    execFile(KPROXY, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

function tempDir (t: TeardownHost): string {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-filters-user-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('a filter module from the config file: kcat and the Java console producer through kproxy serve --workers 2', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const unique = Date.now()
  const denied = `payments-${unique}`
  const open = `orders-${unique}`
  const dir = tempDir(t)
  const configFile = join(dir, 'kproxy.yaml')
  // plaintext clients have no certificate: their principal is ANONYMOUS
  writeFileSync(configFile, [
    'brokerMode:',
    `  upstream: ${cluster.bootstrap}`,
    '  filters:',
    `    - module: ${FIXTURE}`,
    '      config:',
    `        topic: ${denied}`,
    '        principal: ANONYMOUS',
    ''
  ].join('\n'))

  const checked = await kproxyCli(['check-config', configFile])
  t.equal(checked.code, 0, `check-config accepts it: ${checked.stderr}`)
  t.match(checked.stdout, /filters .*deny-topic\.ts/, 'and names the filter in its summary')

  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', configFile] })
  const direct = new Kafka({ clientId: 'setup', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING })
  const admin = direct.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  await createDurableTopics(admin, [denied, open], 3)

  // Everything a topic holds, read directly from the cluster (not through kproxy).
  async function stored (t: Test, topic: string): Promise<string[]> {
    const r = await kcat(['-C', '-b', cluster.bootstrap, '-t', topic, '-e', '-q', '-f', '%s\n'], { timeoutMs: 30_000 })
    t.equal(r.code, 0, `kcat -C ${topic} on the cluster: ${r.stderr}`)
    return r.stdout.split('\n').filter(Boolean)
  }

  t.test('kcat: produce to the denied topic fails with "Topic authorization failed"', async t => {
    const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', denied, '-X', 'acks=all'], { input: 'kcat-denied-1\nkcat-denied-2\n', timeoutMs: 30_000 })
    t.comment(`kcat exit ${String(r.code)}; stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
    t.match(r.stderr, /Topic authorization failed/, 'librdkafka reports the Kafka error (TOPIC_AUTHORIZATION_FAILED)')
    t.not(r.code, 0, 'and kcat exits non-zero')
  })

  t.test('kcat: produce to another topic works', async t => {
    const values = Array.from({ length: 500 }, (_, i) => `kcat-open-${i}`)
    const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', open, '-X', 'acks=all'], { input: values.join('\n') + '\n', timeoutMs: 30_000 })
    t.equal(r.code, 0, r.stderr)
    t.same(tally((await stored(t, open)).filter(v => v.startsWith('kcat-')), values), { count: 500, missing: 0, duplicates: 0, unexpected: 0, examples: [] })
  })

  t.test('Java console producer: produce to the denied topic fails with TopicAuthorizationException', async t => {
    const r = await cluster.runKafkaTool('org.apache.kafka.tools.ConsoleProducer', [
      '--bootstrap-server', kproxy.bootstrap, '--topic', denied, '--producer-property', 'acks=all'
    ], { input: 'java-denied-1\njava-denied-2\n', timeoutMs: 60_000 })
    const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter(l => /Authoriz/.test(l))
    t.comment(`ConsoleProducer exit ${String(r.code)}; ${lines.slice(0, 2).join(' | ')}`)
    t.match(r.stderr, new RegExp(`TopicAuthorizationException: Not authorized to access topics: \\[${denied}\\]`), 'the Java client reports TOPIC_AUTHORIZATION_FAILED for the topic')
    t.notOk(r.timedOut, 'and does not hang')
  })

  t.test('Java console producer: produce to another topic works', async t => {
    const values = Array.from({ length: 500 }, (_, i) => `java-open-${i}`)
    const r = await cluster.runKafkaTool('org.apache.kafka.tools.ConsoleProducer', [
      '--bootstrap-server', kproxy.bootstrap, '--topic', open, '--producer-property', 'acks=all'
    ], { input: values.join('\n') + '\n', timeoutMs: 60_000 })
    t.equal(r.code, 0, r.stderr.slice(-2000))
    t.same(tally((await stored(t, open)).filter(v => v.startsWith('java-')), values), { count: 500, missing: 0, duplicates: 0, unexpected: 0, examples: [] })
  })

  t.test('nothing reached the denied topic; /metrics counts match the filter\'s log and kproxy\'s own counts', async t => {
    t.same(await stored(t, denied), [], 'the denied topic is empty on the cluster')
    const m = await kproxy.metrics()
    const deniedCount = metricSum(m, 'kproxy_filter_events_total', 'filter="denyTopic",event="denied"')
    const passedCount = metricSum(m, 'kproxy_filter_events_total', 'filter="denyTopic",event="passed"')
    const produces = metricSum(m, 'kproxy_requests_total', 'api="produce"')
    const deniedLogs = kproxy.logs.filter(l => l.msg === 'produce denied' && l.filter === 'denyTopic' && l.topic === denied)
    t.comment(`denyTopic: denied ${deniedCount}, passed ${passedCount}; kproxy saw ${produces} Produce requests; ${deniedLogs.length} 'produce denied' log lines`)
    t.ok(deniedCount >= 2, 'at least one denied Produce per client')
    t.equal(deniedCount, deniedLogs.length, 'one log line per denied request')
    t.ok(passedCount >= 2, 'at least one passed Produce per client')
    t.equal(deniedCount + passedCount, produces, 'every Produce kproxy read passed the filter once: denied + passed = kproxy_requests_total{api="produce"}')
    t.equal(metricSum(m, 'kproxy_response_errors_total', 'api="produce",code="29"'), deniedCount, 'each denial in kproxy_response_errors_total as TOPIC_AUTHORIZATION_FAILED')
    const versions = [...m.matchAll(/^kproxy_requests_total\{api="produce",api_key="0",version="(\d+)"\} (\d+)$/gm)].map(x => `v${x[1]}: ${x[2]}`)
    t.comment(`Produce requests by version: ${versions.join(', ')}`)
    t.equal(metricSum(m, 'kproxy_requests_total', 'api="produce",api_key="0",version="13"'), 0, 'no client sent Produce v13 (topic ids): the filter advertises at most v12')
    const workers = new Set(deniedLogs.map(l => l.worker))
    t.comment(`denials logged by worker(s) ${[...workers].join(', ')}`)
    t.same(kproxy.logs.filter(l => l.code === 'KPROXY_ERR_FILTER_FAILED'), [], 'the filter never failed')
  })
})

t.test('a filter entry that cannot be used: check-config and serve exit 1 with one sentence naming the file, the key and the filter', async t => {
  const dir = tempDir(t)
  const notAFilter = join(dir, 'not-a-filter.ts')
  writeFileSync(notAFilter, 'export const threshold = 3\n')
  const cases = [
    {
      what: 'a module path that does not exist',
      entry: ['    - module: ./filters/missing.ts', '      name: denyPayments', '      config: { topic: payments, principal: ANONYMOUS }'],
      sentence: (file: string) => `${file}: brokerMode.filters[0].module: cannot load the module ${join(dir, 'filters/missing.ts')} of filter denyPayments: the file does not exist`,
      code: 'KPROXY_ERR_FILTER_MODULE'
    },
    {
      what: 'a module that exports no filter',
      entry: ['    - module: ./not-a-filter.ts', '      name: denyPayments'],
      sentence: (file: string) => `${file}: brokerMode.filters[0].module: the module ${notAFilter} of filter denyPayments does not export a filter: its default export (or export \`filter\`) must be an object with a name and create(config, env), and optionally parseConfig(config)`,
      code: 'KPROXY_ERR_FILTER_MODULE'
    },
    {
      what: 'a config the filter refuses',
      entry: [`    - module: ${FIXTURE}`, '      config: { topic: payments }'],
      sentence: (file: string) => `${file}: brokerMode.filters[0].config: filter denyTopic refuses its config: principal: allowed: a principal, e.g. User:alice or ANONYMOUS`,
      code: 'KPROXY_ERR_FILTER_CONFIG'
    }
  ]
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `case-${i}.yaml`)
    writeFileSync(file, ['brokerMode:', '  upstream: 127.0.0.1:9', '  filters:', ...c.entry, ''].join('\n'))
    const check = await kproxyCli(['check-config', file])
    t.equal(check.code, 1, `check-config, ${c.what}: exit 1`)
    t.equal(check.stderr, `${c.sentence(file)}\n`, `check-config, ${c.what}: the one sentence`)
    t.equal(check.stdout, '')
    // serve stops before it listens or dials (the upstream is a closed port)
    const serve = await kproxyCli(['serve', '--config', file, '--listen', '127.0.0.1:1'])
    t.equal(serve.code, 1, `serve, ${c.what}: exit 1`)
    t.equal(serve.stderr, `kproxy: ${c.sentence(file)} [${c.code}]\n`, `serve, ${c.what}: the same sentence with its code`)
  }
})
