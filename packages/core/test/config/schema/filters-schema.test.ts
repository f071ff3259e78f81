import t from 'tap'
import { configJsonSchema } from '../../../src/config/config-docs.ts'
import { applyLiveChanges } from '../../../src/config/live-reload.ts'
import { resolveConfig } from '../../../src/config/resolve-config.ts'
import { BUILTIN_FILTERS } from '../../../src/config/schema/builtin-filters/builtin-filters.ts'
import { LIVE_KEYS } from '../../../src/config/schema/config-keys.ts'
import { errorsOf } from '../errors-of.ts'

const withFilters = (filters: unknown, source: string | null = '/etc/kproxy/kproxy.yaml'): ReturnType<typeof resolveConfig> =>
  resolveConfig({ source, file: { brokerMode: { upstream: ['h:1'], filters } } })

t.test('no filters by default; the hold timeout has its default', async t => {
  const c = resolveConfig({ flags: { upstream: 'h:1' } })
  t.same(c.brokerMode.filters, [])
  t.equal(c.brokerMode.filterHoldTimeoutMs, 30000)
})

t.test('built-in and module filters resolve in order; module paths become absolute', async t => {
  const c = withFilters([
    { name: 'faultInjection', config: { seed: 7, rules: [{ match: { apiKeys: ['Produce', 1], topics: ['orders', '/^t-\\d+$/'], principals: ['CN=a'], clientIds: ['c'] }, percent: 30, action: { error: 'NOT_LEADER_OR_FOLLOWER' } }, { percent: 100, action: { delayMs: 250 } }, { percent: 0.5, action: { close: true } }, { percent: 1, action: { error: 7 } }] } },
    { name: 'topicPolicy', config: { rules: [{ partitions: { min: 1, max: 12 }, minReplicationFactor: 3, requiredConfigs: { 'min.insync.replicas': 2, 'cleanup.policy': null }, forbiddenConfigs: ['unclean.leader.election.enable'], message: 'ask the platform team' }] } },
    { module: './filters/deny.ts', name: 'deny', config: { topic: 'payments' } },
    { module: '/opt/filters/count.mjs' }
  ])
  t.same(c.brokerMode.filters, [
    { kind: 'builtin', name: 'faultInjection', config: { seed: 7, rules: [{ match: { apiKeys: ['Produce', 1], topics: ['orders', '/^t-\\d+$/'], principals: ['CN=a'], clientIds: ['c'] }, percent: 30, action: { error: 'NOT_LEADER_OR_FOLLOWER' } }, { percent: 100, action: { delayMs: 250 } }, { percent: 0.5, action: { close: true } }, { percent: 1, action: { error: 7 } }] } },
    { kind: 'builtin', name: 'topicPolicy', config: { rules: [{ topics: '*', partitions: { min: 1, max: 12 }, minReplicationFactor: 3, requiredConfigs: { 'min.insync.replicas': 2, 'cleanup.policy': null }, forbiddenConfigs: ['unclean.leader.election.enable'], message: 'ask the platform team' }] } },
    { kind: 'module', path: '/etc/kproxy/filters/deny.ts', name: 'deny', config: { topic: 'payments' } },
    { kind: 'module', path: '/opt/filters/count.mjs', name: null, config: null }
  ], 'topicPolicy rule topics defaults to *')
  const noFile = withFilters([{ module: 'f.ts' }], null).brokerMode.filters[0]
  t.equal(noFile?.kind === 'module' && noFile.path, `${process.cwd()}/f.ts`, 'without a file: relative to the working directory')
})

t.test('every problem in a filter chain at once, pointing inside the entry', async t => {
  const errors = errorsOf(() => withFilters([
    { name: 'faultInjection' },
    { name: 'faultInjection', config: { rules: [{ percent: -1, action: {} }, { percent: 5, action: { error: 'NOPE' }, match: { apiKeys: ['Nope'], colour: 1 } }] } },
    { name: 'topicPolicy', config: { rules: [{ topics: '/(/', partitions: { min: 9, max: 3 }, minReplicationFactor: 0 }] } },
    { module: './f.ts', config: 'anything goes' },
    { module: './f.ts', nmae: 'typo' },
    { config: {} },
    'faultInjection',
    { name: 'nope' }
  ]))
  t.same(errors, [
    "/etc/kproxy/kproxy.yaml: brokerMode.filters[0].config is required; allowed: a mapping with the keys rules, seed",
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[1].config.rules[0].percent: got number -1, allowed: a number from 0 to 100',
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[1].config.rules[0].action: no action given; allowed: exactly one of error: ERROR (a Kafka error name or code), delayMs: 0..600000, or close: true',
    "/etc/kproxy/kproxy.yaml: brokerMode.filters[1].config.rules[1].action.error: 'NOPE' is not a Kafka error name; got string \"NOPE\", allowed: a Kafka error name such as NOT_LEADER_OR_FOLLOWER or REQUEST_TIMED_OUT, or its code",
    "/etc/kproxy/kproxy.yaml: brokerMode.filters[1].config.rules[1].match.apiKeys: 'Nope' is not a Kafka API key; got a list [\"Nope\"], allowed: a list of API keys (0..92) or names such as Produce",
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[1].config.rules[1].match.colour: unknown key; allowed keys here: apiKeys, topics, principals, clientIds',
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[2].config.rules[0].topics: /(/ is not a valid regular expression (Invalid regular expression: /(/: Unterminated group); got string "/(/", allowed: a topic name, a glob (orders.*) or a /regular expression/',
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[2].config.rules[0].partitions: min 9 is above max 3',
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[2].config.rules[0].minReplicationFactor: got number 0, allowed: an integer from 1 to 32767',
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[4].nmae: unknown key; allowed keys here: module, name, config',
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[5]: a filter entry needs name: one of faultInjection, topicPolicy (a built-in filter), or module: PATH (your own filter)',
    '/etc/kproxy/kproxy.yaml: brokerMode.filters[6]: a filter entry is a mapping: name: one of faultInjection, topicPolicy (a built-in filter), or module: PATH (your own filter)',
    "/etc/kproxy/kproxy.yaml: brokerMode.filters[7]: 'nope' is not a built-in filter; allowed: name: one of faultInjection, topicPolicy (a built-in filter), or module: PATH (your own filter)"
  ])
  t.match(errorsOf(() => withFilters({ name: 'faultInjection' })).join('\n'), /brokerMode\.filters: got a mapping, allowed: a list of filter entries/)
})

t.test('filters and the hold timeout reload live', async t => {
  t.ok(LIVE_KEYS.includes('brokerMode.filters'))
  t.ok(LIVE_KEYS.includes('brokerMode.filterHoldTimeoutMs'))
  const a = withFilters([])
  const b = resolveConfig({ source: '/etc/kproxy/kproxy.yaml', file: { brokerMode: { upstream: ['h:1'], filterHoldTimeoutMs: 500, filters: [{ module: './f.ts' }] } } })
  const { config, applied, needsRestart } = applyLiveChanges(a, b)
  t.same(applied.sort(), ['brokerMode.filterHoldTimeoutMs', 'brokerMode.filters'])
  t.same(needsRestart, [])
  t.same(config.brokerMode.filters, [{ kind: 'module', path: '/etc/kproxy/f.ts', name: null, config: null }])
})

t.test('every built-in filter is in the published JSON Schema with its config', async t => {
  const entries = (configJsonSchema() as any).properties.brokerMode.properties.filters.items.anyOf as Array<{ properties: Record<string, any> }>
  for (const name of Object.keys(BUILTIN_FILTERS)) {
    const entry = entries.find(e => e.properties.name?.const === name)
    t.ok(entry, name)
    t.same(entry?.properties.config.properties.rules.type, 'array', `${name} config.rules`)
  }
  t.ok(entries.some(e => e.properties.module !== undefined), 'the module entry')
})
