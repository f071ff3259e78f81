import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { createMembers, prepareFilters } from '../../src/filters/filter-loader.ts'

const fixture = fileURLToPath(new URL('../../../../test/fixtures/filters/deny-topic.ts', import.meta.url))
const where = '/etc/kproxy.yaml: brokerMode.filters'

t.test('the example filter of docs/filters.md is the fixture, word for word', async t => {
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/filters.md', import.meta.url)), 'utf8')
  const code = /```ts\n(import type \{ FilterFactory[\s\S]*?)```/.exec(doc)![1]!
  t.ok(readFileSync(fixture, 'utf8').endsWith(code), 'docs/filters.md shows test/fixtures/filters/deny-topic.ts')
})

t.test('a module filter loads, checks its config and counts into the metrics', async t => {
  const prepared = await prepareFilters([{ kind: 'module', path: fixture, name: null, config: { topic: 'payments', principal: 'ANONYMOUS' } }], where)
  t.equal(prepared[0]!.label, 'denyTopic')
  const metrics = new MetricsRegistry()
  const [member] = createMembers(prepared, { logger: pino({ level: 'silent' }), workerId: 1, metrics })
  const verdict = member!.filter.onRequest!({ connection: { principal: 'ANONYMOUS', clientId: 'c' }, body: { topicData: [{ name: 'payments' }] } } as any)
  t.match(verdict, { kind: 'error', errorCode: 'TOPIC_AUTHORIZATION_FAILED' })
  t.equal(member!.filter.onRequest!({ connection: { principal: 'User:bob' }, body: { topicData: [{ name: 'payments' }] } } as any), undefined)
  t.same(metrics.snapshot().filterEvents, [['denyTopic', 'denied', 1], ['denyTopic', 'passed', 1]])
})

t.test('one sentence naming the file, the key and the filter for each way an entry can be wrong', async t => {
  await t.rejects(prepareFilters([{ kind: 'module', path: '/nowhere/missing.ts', name: null, config: null }], where),
    { code: 'KPROXY_ERR_FILTER_MODULE', message: /^\/etc\/kproxy.yaml: brokerMode.filters\[0\].module: cannot load the filter module \/nowhere\/missing.ts: the file does not exist$/ })
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-filters-'))
  const notAFilter = join(dir, 'not-a-filter.mjs')
  writeFileSync(notAFilter, 'export default { hello: 1 }\n')
  await t.rejects(prepareFilters([{ kind: 'module', path: notAFilter, name: null, config: null }], where),
    { code: 'KPROXY_ERR_FILTER_MODULE', message: /brokerMode.filters\[0\].module: .*not-a-filter.mjs does not export a filter/ })
  await t.rejects(prepareFilters([{ kind: 'module', path: notAFilter, name: 'mine', config: null }], where),
    { code: 'KPROXY_ERR_FILTER_MODULE', message: /brokerMode.filters\[0\].module: the module .*not-a-filter.mjs of filter mine does not export a filter/ }, 'the entry\'s name is the filter\'s name')
  await t.rejects(prepareFilters([{ kind: 'module', path: '/nowhere/missing.ts', name: 'mine', config: null }], where),
    { message: /^\/etc\/kproxy.yaml: brokerMode.filters\[0\].module: cannot load the module \/nowhere\/missing.ts of filter mine: the file does not exist$/ })
  const missingImport = join(dir, 'missing-import.mjs')
  writeFileSync(missingImport, "import x from 'kproxy-no-such-package'\nexport default x\n")
  await t.rejects(prepareFilters([{ kind: 'module', path: missingImport, name: null, config: null }], where),
    { code: 'KPROXY_ERR_FILTER_MODULE', message: /missing-import.mjs: Cannot find package 'kproxy-no-such-package'/ }, 'a file that exists is not called missing when its own import is')
  const broken = join(dir, 'broken.mjs')
  writeFileSync(broken, 'export default {\n')
  await t.rejects(prepareFilters([{ kind: 'module', path: broken, name: null, config: null }], where), { code: 'KPROXY_ERR_FILTER_MODULE' })
  await t.rejects(prepareFilters([{ kind: 'module', path: fixture, name: 'mine', config: { topic: '' } }], where),
    { code: 'KPROXY_ERR_FILTER_CONFIG', message: /brokerMode.filters\[0\].config: filter mine refuses its config: topic: allowed: a topic name; principal: allowed/ })
  await t.rejects(prepareFilters([{ kind: 'builtin', name: 'faultInjection', config: { rules: [{ percent: 200, action: { error: 'NOPE' } }] } } as any], where),
    { code: 'KPROXY_ERR_FILTER_CONFIG', message: /filters\[0\].config: filter faultInjection refuses its config: rules\[0\].percent: got 200, allowed: a number from 0 to 100; rules\[0\].action.error: "NOPE" is not a Kafka error/ })
  await t.rejects(prepareFilters([{ kind: 'builtin', name: 'nope', config: null } as any], where), { code: 'KPROXY_ERR_FILTER_CONFIG', message: /there is no built-in filter "nope"/ })
})

t.test('a factory whose create() throws or returns nothing usable', async t => {
  const logger = pino({ level: 'silent' })
  const metrics = new MetricsRegistry()
  const throwing = { label: 'x', builtin: false, config: null, factory: { name: 'x', create () { throw new Error('cannot') } } }
  t.throws(() => createMembers([throwing], { logger, workerId: 1, metrics }), { code: 'KPROXY_ERR_FILTER_CREATE', message: /filter x could not be created: cannot/ })
  const empty = { label: 'y', builtin: false, config: null, factory: { name: 'y', create: () => null as any } }
  t.throws(() => createMembers([empty], { logger, workerId: 1, metrics }), { code: 'KPROXY_ERR_FILTER_CREATE' })
})
