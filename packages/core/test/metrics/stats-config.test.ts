// The stats section: defaults, every problem collected with its key path, regexps compiled.
import t from 'tap'
import { checkStatsConfig, DEFAULT_STATS_CONFIG, resolveStatsConfig, statsOf } from '../../src/metrics/stats-config.ts'

t.test('defaults', async t => {
  t.same(resolveStatsConfig(undefined, 'k.yaml'), DEFAULT_STATS_CONFIG)
  t.same(resolveStatsConfig({}, 'k.yaml'), DEFAULT_STATS_CONFIG)
  t.equal(DEFAULT_STATS_CONFIG.flows, false, 'flows are opt-in: they read every Produce and Fetch')
  t.same(DEFAULT_STATS_CONFIG.labels, { principal: false, clientId: false, topic: false, clientSoftware: false })
  t.same(statsOf({}), DEFAULT_STATS_CONFIG)
})

t.test('a full section', async t => {
  const c = resolveStatsConfig({
    flows: true,
    inclusionRegexps: ['kproxy_requests_total', 'kproxy_flow_.*'],
    exclusionRegexps: ['.*api="heartbeat".*'],
    labels: { clientId: true, topic: true },
    maxLabelValues: 50,
    maxFlows: 5000
  }, 'k.yaml')
  t.same(c, {
    flows: true,
    inclusionRegexps: ['kproxy_requests_total', 'kproxy_flow_.*'],
    exclusionRegexps: ['.*api="heartbeat".*'],
    labels: { principal: false, clientId: true, topic: true, clientSoftware: false },
    maxLabelValues: 50,
    maxFlows: 5000
  })
})

t.test('every error, with its path', async t => {
  const { errors } = checkStatsConfig({
    flows: 'yes',
    inclusionRegexps: ['ok', '(unclosed', 3],
    exclusionRegexps: 'x',
    labels: { clientId: 1, host: true },
    maxLabelValues: 0,
    maxFlows: 1.5,
    extra: 1
  }, 'k.yaml')
  t.same(errors.sort(), [
    'k.yaml: stats.exclusionRegexps: got "x", allowed: a list of regular expressions',
    'k.yaml: stats.extra: unknown key; allowed keys here: flows, inclusionRegexps, exclusionRegexps, labels, maxLabelValues, maxFlows',
    'k.yaml: stats.flows: got "yes", allowed: true or false',
    'k.yaml: stats.inclusionRegexps[1]: \'(unclosed\' is not a valid regular expression (Invalid regular expression: /^(?:(unclosed)$/u: Unterminated group)',
    'k.yaml: stats.inclusionRegexps[2]: got 3, allowed: a non-empty regular expression',
    'k.yaml: stats.labels.clientId: got 1, allowed: true or false',
    'k.yaml: stats.labels.host: unknown key; allowed keys here: principal, clientId, topic, clientSoftware',
    'k.yaml: stats.maxFlows: got 1.5, allowed: an integer from 1 to 1000000',
    'k.yaml: stats.maxLabelValues: got 0, allowed: an integer from 1 to 100000'
  ])
  t.throws(() => resolveStatsConfig({ flows: 1 }, 'k.yaml'), { code: 'KPROXY_ERR_CONFIG', message: 'k.yaml: stats.flows: got 1, allowed: true or false' })
  t.same(checkStatsConfig([], 'k.yaml').errors, ['k.yaml: stats: got [], allowed: a mapping with flows, inclusionRegexps, exclusionRegexps, labels, maxLabelValues, maxFlows'])
})
