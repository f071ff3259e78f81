// The dashboard in Debian's Chromium shows what clients chose (client ids, topic names,
// principals, software names) as text: markup and script in them are displayed, never parsed or
// run. The admin server is the real one; its supervisor is a stand-in whose metrics come from
// real registries fed with real encoded Produce/Fetch frames carrying those strings (no Kafka
// broker accepts such a topic name, but a hostile client can send one and kproxy counts it).
import t from 'tap'
import { pino } from 'pino'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { mergeSnapshots } from '@kproxy/core/metrics/metrics-merge'
import { FlowRegistry } from '@kproxy/core/metrics/flow-registry'
import { encodeRequest, encodeResponse } from '@kproxy/core/protocol/codec'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { startAdminServer } from '@kproxy/cli/admin/admin-server'
import type { Supervisor } from '@kproxy/cli/supervisor/supervisor'
import { hasChromium, NO_CHROMIUM, openPage, screenshot } from '../helpers/chromium.ts'

const HOSTILE = {
  clientId: '<img src=x onerror="window.__xss=1">',
  topic: '<script>window.__xss=2</script>',
  principal: 'CN=<b onmouseover="window.__xss=3">mallory</b>',
  softwareName: '<svg onload="window.__xss=4">',
  softwareVersion: '"><iframe src="javascript:window.__xss=5">'
}

function payload (chunks: Buffer[]): Frame {
  const whole = Buffer.concat(chunks)
  return { size: whole.length - 4, chunks: [whole.subarray(4)] }
}

t.test('client-chosen strings are shown escaped', { skip: hasChromium() ? false : NO_CHROMIUM }, async t => {
  const flows = new FlowRegistry()
  const registry = new MetricsRegistry({ flows })
  const client = flows.client({ principal: HOSTILE.principal, clientId: HOSTILE.clientId, softwareName: HOSTILE.softwareName, softwareVersion: HOSTILE.softwareVersion, target: 'broker-1' })
  const feed = (): void => {
    flows.produce(client, payload(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: HOSTILE.clientId }, {
      transactionalId: null, acks: 1, timeoutMs: 1000,
      topicData: [{ name: HOSTILE.topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: Buffer.alloc(500) }] }]
    })), 9)
    flows.produceResponse(client, payload(encodeResponse(ApiKey.Produce, 9, { correlationId: 1 }, {
      throttleTimeMs: 0, nodeEndpoints: [],
      responses: [{ name: HOSTILE.topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionResponses: [{ index: 0, errorCode: 17, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } }] }]
    })), 9)
    registry.request(ApiKey.Produce, 9)
    registry.response(ApiKey.Produce, 9, 2000)
    registry.responseError(ApiKey.Produce, 17)
  }
  feed()
  const timer = setInterval(feed, 200)
  t.teardown(() => clearInterval(timer))
  const config = resolveConfig({ flags: { upstream: '127.0.0.1:1' } })
  const stand = {
    config,
    workerCount: 1,
    startedAt: Date.now(),
    restarts: [],
    metrics: async () => mergeSnapshots([registry.snapshot()]),
    readiness: async () => ({ ready: true, reason: null, spare: 'none', workers: [{ id: 0, state: 'ready', activeConnections: 1, upstreamHealthy: true, logLevel: 'info' }] }),
    brokers: () => [],
    setLogLevel () {},
    crashWorker: () => false
  }
  const admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, { supervisor: stand as unknown as Supervisor, logger: pino({ level: 'silent' }), reload: () => { throw new Error('no') }, debugEndpoints: false })
  t.teardown(() => admin.close())

  const { page, problems } = await openPage(t, `http://127.0.0.1:${admin.address.port}/`)
  await page.waitForFunction(() => document.querySelector('#panel-flows svg') !== null, { timeout: 15_000 })
  // a second tick: rates and the red (error) edge
  await page.waitForFunction(() => document.querySelector('#panel-flows path.edge[data-rate]:not([data-rate="0.0"])') !== null, { timeout: 15_000 })
  const flowsText = await page.$eval('#panel-flows', el => el.textContent ?? '')
  for (const [what, text] of Object.entries(HOSTILE)) t.ok(flowsText.includes(text), `the ${what} is shown as text: ${text}`)
  // the topic's partitions, on a click
  await page.click('#panel-flows g.node.topic')
  await page.waitForFunction(() => document.querySelector('#panel-flows .topic-name') !== null, { timeout: 10_000 })
  t.equal(await page.$eval('#panel-flows .topic-name', el => el.textContent), HOSTILE.topic, 'the partitions heading names the topic as text')
  const injected = await page.evaluate(() => ({
    xss: (window as unknown as { __xss?: number }).__xss ?? null,
    elements: document.querySelectorAll('#panels img, #panels script, #panels iframe, #panels b, #panels svg svg').length,
    handlers: document.querySelectorAll('[onerror], [onload], [onmouseover]').length
  }))
  t.same(injected, { xss: null, elements: 0, handlers: 0 }, 'no element, handler or script came from a client string')
  const edgeColour = await page.$eval('#panel-flows path.edge', el => el.getAttribute('stroke'))
  t.equal(edgeColour, 'hsl(0, 60%, 38%)', 'every produce answered with an error: the edge is red')
  t.comment(`screenshot: ${await screenshot(page, 'dashboard-escaping.png')}`)
  t.same(problems, [], 'no console error, page error or failed request')
})
