// The dashboard of a real `kproxy serve` (2 workers, stats.flows on) in front of a real 3-broker
// Kafka, in Debian's Chromium, while kcat (with a client id full of HTML and script), kafkajs and
// Kafka's Java ProducerPerformance produce to three topics: the page loads without a console
// error, its numbers change while the producers run, and a screenshot is kept
// (test/artifacts/dashboard-live.png; KPROXY_UPDATE_DOCS_SCREENSHOT=1 also writes
// docs/images/dashboard.png). The flow graph part waits for the data path to report flows.
import t from 'tap'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { hasKcat, kafkaCluster } from '../helpers/kafka.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'
import { createTopicsAndWait } from '../helpers/kafkajs-topics.ts'
import { hasChromium, NO_CHROMIUM, openPage, screenshot } from '../helpers/chromium.ts'

const XSS_CLIENT_ID = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
const DOCS_IMAGE = fileURLToPath(new URL('../../docs/images/dashboard.png', import.meta.url))

t.test('the dashboard of a live kproxy', { skip: !hasChromium() ? NO_CHROMIUM : !hasKcat() ? 'kcat not installed' : false }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-dashboard-live-'))
  writeFileSync(join(dir, 'kproxy.yaml'), 'stats:\n  flows: true\n  labels:\n    clientId: true\n    topic: true\n')
  const k = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', join(dir, 'kproxy.yaml')] })
  const kafka = new Kafka({ clientId: 'payments-service', brokers: [k.bootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const topics = { orders: 'orders', payments: 'payments', audit: 'audit' }
  await createTopicsAndWait(admin, Object.values(topics).map(topic => ({ topic, numPartitions: 3, replicationFactor: 3 })))

  const { page, problems } = await openPage(t, `${k.adminUrl}/`)
  await page.waitForFunction(() => document.querySelector('[data-metric="requests"] .value') !== null, { timeout: 15_000 })

  // the producers, for about 25 seconds
  let running = true
  t.teardown(() => { running = false })
  const producer = kafka.producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const kafkajsLoop = (async () => {
    while (running) {
      await producer.send({ topic: topics.payments, messages: Array.from({ length: 20 }, (_, i) => ({ key: String(i), value: 'p'.repeat(300) })) })
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })()
  const kcatLoop = spawn('bash', ['-c', `while true; do seq 1 200 | kcat -P -b ${k.bootstrap} -t ${topics.orders} -X 'client.id=${XSS_CLIENT_ID}'; sleep 0.5; done`], { stdio: 'ignore', detached: true })
  t.teardown(() => { try { process.kill(-kcatLoop.pid!, 'SIGKILL') } catch {} })
  const java = cluster.runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', topics.audit, '--num-records', '12000', '--record-size', '400', '--throughput', '500',
    '--producer-props', `bootstrap.servers=${k.bootstrap}`, 'client.id=audit-producer', 'acks=all'
  ], { timeoutMs: 90_000 })

  t.test('live numbers change while the producers run', async t => {
    const seen = new Set<string>()
    for (let i = 0; i < 12; i++) {
      await new Promise(resolve => setTimeout(resolve, 1000))
      seen.add(await page.$eval('[data-metric="requests"] .value', el => el.textContent ?? ''))
    }
    const values = [...seen].filter(v => /^[\d.]+( [kM])?\/s$/.test(v))
    t.ok(values.length >= 3, `the requests/s card showed ${values.length} different rates: ${[...seen].join(', ')}`)
    t.ok(values.some(v => Number.parseFloat(v) > 0), 'above zero')
    const produce = await page.$$eval('#panel-apis tbody tr', rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent ?? '')).find(c => c[0] === 'Produce'))
    t.ok(produce !== undefined && Number(produce[2]) > 0, `the Produce row counts requests: ${produce?.join(' | ')}`)
    t.ok(await page.$('#panel-apis .percentile-plot canvas') !== null, 'the percentile plot is drawn')
    const workers = await page.$$eval('#panel-workers table:not(.u-legend) tbody tr', rows => rows.length)
    t.equal(workers, 2, 'both workers listed')
    const cells = await page.$$eval('#panel-upstreams tbody tr', rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent ?? '')))
    const brokers = cells.filter(c => /^\d+$/.test(c[0]!) && /^\d+$/.test(c[2]!))
    t.same(brokers.map(c => c[0]), ['1', '2', '3'], `the 3 brokers with the ports they are served on: ${JSON.stringify(brokers)}`)
  })

  t.test('the flow graph: clients -> topics -> brokers, client strings as text', async t => {
    await page.waitForFunction(() => document.querySelectorAll('#panel-flows g.node.topic').length >= 3, { timeout: 20_000 })
    const text = await page.$eval('#panel-flows', el => el.textContent ?? '')
    for (const s of [XSS_CLIENT_ID, 'payments-service', 'audit-producer', topics.orders, topics.payments, topics.audit]) t.ok(text.includes(s), `shows ${s}`)
    const targets = await page.$$eval('#panel-flows g.node.target', gs => gs.map(g => g.textContent ?? ''))
    t.ok(targets.every(x => /^broker-\d/.test(x)), `targets are brokers: ${targets.join(', ')}`)
    const injected = await page.evaluate(() => ({
      xss: (window as unknown as { __xss?: number }).__xss ?? null,
      elements: document.querySelectorAll('#panels img, #panels script').length
    }))
    t.same(injected, { xss: null, elements: 0 }, 'the client id\'s markup was not parsed')
  })

  const perf = await java
  running = false
  await kafkajsLoop
  t.equal(perf.code, 0, `ProducerPerformance: ${perf.stderr.slice(-1000)}`)
  const path = await screenshot(page, 'dashboard-live.png')
  t.comment(`screenshot: ${path}`)
  if (process.env.KPROXY_UPDATE_DOCS_SCREENSHOT === '1') {
    mkdirSync(join(DOCS_IMAGE, '..'), { recursive: true })
    copyFileSync(path, DOCS_IMAGE)
    t.comment(`copied to ${DOCS_IMAGE}`)
  }
  t.same(problems, [], 'no console error, page error or failed request')
})
