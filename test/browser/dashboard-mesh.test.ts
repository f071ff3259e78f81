// The dashboard's mesh panel in Debian's Chromium, in front of the mesh sandbox (`kproxy sandbox
// up --topology mesh`: clusters a, b, c behind `kproxy serve --workers 2` in mesh mode) while a
// kafkajs producer writes to a topic of each cluster: the panel lists the three clusters with
// their upstream connections, its request counts grow while the producer runs, the per-cluster
// percentile plot is drawn, the broker-mode upstream panel is hidden, there is no console error,
// and a screenshot is kept
// (test/artifacts/dashboard-mesh.png).
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import type { MeshSandboxInfo } from '@kproxy/cli/sandbox/mesh-topology'
import { sandboxForTest } from '../helpers/sandbox-up.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { hasChromium, NO_CHROMIUM, openPage, screenshot } from '../helpers/chromium.ts'

// seconds of samples taken from the page while the producer runs
const SAMPLES = 8

t.test('the mesh panel of a live mesh-mode kproxy', { skip: hasChromium() ? false : NO_CHROMIUM }, async t => {
  const run = await sandboxForTest<MeshSandboxInfo>(t, ['--topology', 'mesh'])
  const { clientBootstrap, kproxy } = run.info
  const kafka = new Kafka({ clientId: 'mesh-dashboard', brokers: [clientBootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const topics = ['a-dash', 'b-dash', 'c-dash']
  await createTopicsAndWait(admin, topics.map(topic => ({ topic, numPartitions: 2 })))

  const producer = kafka.producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  let running = true
  t.teardown(() => { running = false })
  const loop = (async () => {
    while (running) {
      await producer.sendBatch({ topicMessages: topics.map(topic => ({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: 'm'.repeat(200) })) })) })
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  })()

  const { page, problems } = await openPage(t, `${kproxy.adminUrl}/`)
  await page.waitForFunction(() => document.querySelectorAll('#panel-mesh tbody tr').length >= 3, { timeout: 20_000 })
  const rows = async (): Promise<string[][]> => page.$$eval('#panel-mesh table:not(.u-legend) tbody tr', trs => trs.map(r => [...r.querySelectorAll('td')].map(td => td.textContent ?? '')))
  // cluster -> its "requests" column (the fourth), once a second
  const seen: Array<Record<string, number>> = []
  for (let i = 0; i < SAMPLES; i++) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    seen.push(Object.fromEntries((await rows()).map(c => [c[0]!, Number(c[3]!.replace(/[^\d.]/g, '')) * (/k$/.test(c[3]!) ? 1000 : /M$/.test(c[3]!) ? 1e6 : 1)])))
  }
  const last = await rows()
  t.same(last.map(c => c[0]).sort(), ['a', 'b', 'c'], `the three clusters listed: ${JSON.stringify(last)}`)
  for (const c of last) t.ok(Number(c[1]) >= 1, `cluster ${c[0]}: ${c[1]} upstream connection(s) open`)
  for (const name of ['a', 'b', 'c']) {
    const counts = seen.map(s => s[name] ?? 0)
    t.ok(counts.at(-1)! > counts[0]!, `cluster ${name}: requests counted live while the producer runs (${counts.join(' -> ')})`)
  }
  t.ok(last.every(c => /\d (µs|ms|s)$/.test(c[6]!)), `a p99 upstream latency for each cluster: ${last.map(c => `${c[0]} ${c[6]}`).join(', ')}`)
  t.ok(await page.$('#panel-mesh .percentile-plot canvas') !== null, 'the per-cluster percentile plot is drawn')
  t.ok(last.every(c => /^(Produce|Metadata) /.test(c[9]!)), `the slowest API of the last interval is one the producer used: ${last.map(c => `${c[0]} ${c[9]}`).join(', ')}`)
  t.ok(await page.$eval('#panel-upstreams', el => (el as HTMLElement).hidden), 'the broker-mode upstream panel is hidden')

  running = false
  await loop
  const path = await screenshot(page, 'dashboard-mesh.png')
  t.comment(`screenshot: ${path}`)
  t.same(problems, [], 'no console error, page error or failed request')
})
