import t from 'tap'
import { parseConfigFile, MAX_ALIAS_COUNT } from '../../src/config/config-file.ts'
import { resolveConfig } from '../../src/config/resolve-config.ts'
import type { ProxyConfig } from '../../src/config/proxy-config.ts'
import { errorsOf } from './errors-of.ts'

function load (text: string, flags: Record<string, string> = {}, path = '/etc/kproxy/k.yaml'): ProxyConfig {
  const file = parseConfigFile(text, path)
  return resolveConfig({ source: path, file: file.value, locate: file.locate, flags })
}

t.test('anchors, aliases and merge keys load', async t => {
  const c = load(`
x-upstream: &upstream [10.0.0.1:9092, 10.0.0.2:9092]
x-timeouts: &timeouts
  upstreamConnectTimeoutMs: 2500
  maxFrameSize: 2097152
x-produce-fault: &fault
  percent: 30
  action: { error: NOT_LEADER_OR_FOLLOWER }
brokerMode:
  <<: *timeouts
  maxFrameSize: 4194304   # own keys win over merged ones
  upstream: *upstream
  filters:
    - name: faultInjection
      config:
        rules:
          - <<: *fault
            match: { apiKeys: [Produce] }
          - <<: *fault
            percent: 5
`)
  t.same(c.brokerMode.upstream, [{ host: '10.0.0.1', port: 9092 }, { host: '10.0.0.2', port: 9092 }])
  t.equal(c.brokerMode.upstreamConnectTimeoutMs, 2500, 'merged in')
  t.equal(c.brokerMode.maxFrameSize, 4194304, 'the mapping\'s own key wins')
  t.same(c.brokerMode.filters, [{
    kind: 'builtin',
    name: 'faultInjection',
    config: {
      rules: [
        { percent: 30, action: { error: 'NOT_LEADER_OR_FOLLOWER' }, match: { apiKeys: ['Produce'] } },
        { percent: 5, action: { error: 'NOT_LEADER_OR_FOLLOWER' } }
      ]
    }
  }])
})

t.test('block scalars, flow mappings, quoting and YAML 1.2 scalars', async t => {
  const file = parseConfigFile(`
literal: |
  line one
  line two
folded: >-
  one
  two
flow: { a: 1, b: [x, 'y', "z"] }
multi: "first
  second"
norway: no          # YAML 1.2: a string, not false
octal: 0o17
`, 'x.yaml')
  t.same(file.value, { literal: 'line one\nline two\n', folded: 'one two', flow: { a: 1, b: ['x', 'y', 'z'] }, multi: 'first second', norway: 'no', octal: 15 })
  const c = load(`
brokerMode:
  upstream: >-
    127.0.0.1:9092,
    127.0.0.1:9093
  filters:
    - name: topicPolicy
      config:
        rules:
          - topics: /^orders\\..*/
            message: |-
              Topics under orders. need three replicas;
              ask the platform team.
            minReplicationFactor: 3
`)
  t.same(c.brokerMode.upstream.map(u => u.port), [9092, 9093], 'a folded comma-separated list')
  const f = c.brokerMode.filters[0]!
  t.equal(f.kind === 'builtin' && f.name === 'topicPolicy' && f.config.rules[0]!.message, 'Topics under orders. need three replicas;\nask the platform team.')
  t.equal(f.kind === 'builtin' && f.name === 'topicPolicy' && f.config.rules[0]!.topics, '/^orders\\..*/')
})

t.test('an empty file or one of comments only is an empty config', async t => {
  t.equal(parseConfigFile('', 'e.yaml').value, null)
  t.equal(parseConfigFile('# nothing\n\n', 'e.yaml').value, null)
  t.equal(load('# nothing\n', { upstream: '127.0.0.1:9092' }).workers, 1)
})

const syntax: Array<[string, string, string]> = [
  ['tab indentation', 'a:\n\tb: 1', 'x.yaml:2:1: tabs are not allowed for indentation; use spaces'],
  ['duplicate key', 'a: 1\nb: 2\na: 3', 'x.yaml:3:1: duplicate key: each key may appear once in a mapping (the second one would silently win)'],
  ['unterminated quote', 'a: "x', 'x.yaml:1:6: Missing closing "quote'],
  ['unknown tag', 'a: !secret x', "x.yaml:1:4: Unresolved tag: !secret; kproxy knows only YAML's standard tags (!!str, !!int, ...)"],
  ['two documents', 'a: 1\n---\nb: 2\n', "x.yaml:2:1: a kproxy config file holds one YAML document, this one has 2; remove the '---' that starts the second one or split the file"],
  ['unclosed flow sequence', 'logLevel: [oops\n', 'x.yaml:1:11: this [ is never closed with ] (or a line inside it is not indented enough)'],
  ['unclosed flow mapping', 'a: [1, 2]\nb: {x: 1\n', 'x.yaml:2:4: this { is never closed with } (or a line inside it is not indented enough)'],
  ['alias without anchor', 'a: 1\nb: *nope\n', 'x.yaml:2:4: Unresolved alias (the anchor must be set before the alias): nope']
]

for (const [name, text, message] of syntax) {
  t.test(`YAML error with file:line:column: ${name}`, async t => {
    const errors = errorsOf(() => parseConfigFile(text, 'x.yaml'))
    t.same(errors, [message])
  })
}

t.test('every syntax error at once', async t => {
  const errors = errorsOf(() => parseConfigFile('a: 1\na: 2\nb:\n\tc: 1\nd: "x', 'x.yaml'))
  t.ok(errors.length >= 3, errors.join('\n'))
  t.ok(errors.some(e => e.startsWith('x.yaml:2:1: duplicate key')))
  t.ok(errors.some(e => e.startsWith('x.yaml:4:1: tabs')))
})

t.test('aliases that explode ("billion laughs") are refused with a clear error', async t => {
  const lines = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]']
  for (let i = 1; i < 8; i++) {
    const prev = String.fromCharCode(96 + i)
    const next = String.fromCharCode(97 + i)
    lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`)
  }
  const started = Date.now()
  const errors = errorsOf(() => parseConfigFile(lines.join('\n'), 'lol.yaml'))
  t.equal(errors.length, 1)
  t.match(errors[0], `lol.yaml: the aliases in this file expand to more than ${MAX_ALIAS_COUNT} nodes`)
  t.ok(Date.now() - started < 5000, 'refused before expanding')
})

t.test('schema errors carry the line and column of the key path, also through merge keys', async t => {
  const text = [
    'x-base: &base',
    '  maxFrameSize: 12', // invalid, merged into brokerMode below
    'workers: 0',
    'brokerMode:',
    '  <<: *base',
    '  upstream: [127.0.0.1:9092]',
    '  typo: 1',
    '  filters:',
    '    - name: faultInjection',
    '      config:',
    '        rules:',
    '          - percent: 101',
    '            action: { close: false }',
    '    - name: faultInjektion',
    '    - module: ./f.ts',
    '      extra: 1',
    ''
  ].join('\n')
  const errors = errorsOf(() => load(text, {}, 'k.yaml'))
  const expected = [
    'k.yaml:3:10: workers: got number 0, allowed: an integer from 1 to 256',
    'k.yaml:7:3: brokerMode.typo: unknown key; allowed keys here: listen, advertisedHost, upstream, brokerPorts, apiKeysAllowed, apiKeysDenied, maxFrameSize, upstreamConnectTimeoutMs, bootstrapAnswerTimeoutMs, filters, filterHoldTimeoutMs, versionBridge, tls, upstreamTls, sni',
    'k.yaml:2:17: brokerMode.maxFrameSize: got number 12, allowed: an integer from 1024 to 2147483647',
    'k.yaml:12:22: brokerMode.filters[0].config.rules[0].percent: got number 101, allowed: a number from 0 to 100',
    'k.yaml:13:30: brokerMode.filters[0].config.rules[0].action.close: got boolean false, allowed: true',
    "k.yaml:14:7: brokerMode.filters[1]: 'faultInjektion' is not a built-in filter; allowed: name: one of faultInjection, topicPolicy (a built-in filter), or module: PATH (your own filter)",
    'k.yaml:16:7: brokerMode.filters[2].extra: unknown key; allowed keys here: module, name, config'
  ]
  t.same([...errors].sort(), [...expected].sort(), 'all errors at once, each at its place')
})

t.test('cross-key rules point at the key they are about', async t => {
  const errors = errorsOf(() => load('brokerMode:\n  listen: 127.0.0.1:9000\n  upstream: h:1\n  brokerPorts:\n    base: 9000\n', {}, 'k.yaml'))
  t.same(errors, ['k.yaml:5:11: brokerMode.brokerPorts.base: 9000 is the listen port; allowed: a port above it, e.g. 9001'])
  const sni = errorsOf(() => load('brokerMode:\n  upstream: h:1\n  sni:\n    bootstrapName: kafka.example.com\n', {}, 'k.yaml'))
  t.same(sni, ['k.yaml:4:5: brokerMode.sni needs TLS on the listener; allowed: set brokerMode.tls.cert and key (--tls-cert, --tls-key)'])
})

t.test('a section left empty (its keys commented out) is named', async t => {
  const errors = errorsOf(() => load('brokerMode:\n  upstream: [h:1]\n  tls:\n  #  cert: a.pem\n', {}, 'k.yaml'))
  t.equal(errors.length, 1)
  t.match(errors[0], /^k\.yaml:\d+:\d+: brokerMode\.tls: is empty; allowed: a mapping with the keys cert, key, ca, .*, or leave the key out$/)
})

t.test('flags overlay the file; a bad flag names the flag', async t => {
  const c = load('workers: 4\nbrokerMode:\n  upstream: [h:1]\n  listen: 127.0.0.1:29092\n', { workers: '2', 'upstream-tls': 'true', 'broker-port-base': '40000' })
  t.equal(c.workers, 2)
  t.same(c.brokerMode.listen, { host: '127.0.0.1', port: 29092 }, 'file value where no flag')
  t.same(c.brokerMode.brokerPorts, { kind: 'offset', base: 40000 })
  t.equal(c.brokerMode.upstreamTls?.checkHostname, true)
  const errors = errorsOf(() => load('workers: 4\nbrokerMode:\n  upstream: [h:1]\n', { workers: '0', 'upstream-tls': 'yes' }, 'k.yaml'))
  t.same(errors, [
    "--workers (workers): got '0', allowed: an integer from 1 to 256",
    "--upstream-tls (brokerMode.upstreamTls.enabled): got 'yes', allowed: true or false"
  ])
})
