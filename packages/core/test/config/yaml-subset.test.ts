import t from 'tap'
import { parseYamlSubset, YamlSubsetError } from '../../src/config/yaml-subset.ts'

t.test('parses mappings, sequences, flow sequences and scalars', async t => {
  const doc = `---
# a comment
workers: 2
admin: "127.0.0.1:9901" # trailing comment
brokerMode:
  listen: 127.0.0.1:19092
  upstream: [127.0.0.1:9092, '127.0.0.1:9093', "a#b"]
  apiKeysDenied:
  - Produce
  - 3
  brokerPorts:
    ports:
      1: 20001
items:
  - name: a
    tags: []
  - 'it''s'
  -
nums: [-1, +2, 1.5, 1e3, .5]
bools: [true, false, True, null, ~]
escaped: "tab\\tq\\"\\u0041"
plain: hello world
empty:
`
  t.same(parseYamlSubset(doc, 'x.yaml'), {
    workers: 2,
    admin: '127.0.0.1:9901',
    brokerMode: {
      listen: '127.0.0.1:19092',
      upstream: ['127.0.0.1:9092', '127.0.0.1:9093', 'a#b'],
      apiKeysDenied: ['Produce', 3],
      brokerPorts: { ports: { 1: 20001 } }
    },
    items: [{ name: 'a', tags: [] }, "it's", null],
    nums: [-1, 2, 1.5, 1000, 0.5],
    bools: [true, false, true, null, null],
    escaped: 'tab\tq"A',
    plain: 'hello world',
    empty: null
  })
})

t.test('an empty document is null; a lone scalar is that scalar', async t => {
  t.equal(parseYamlSubset('# nothing\n\n'), null)
  t.equal(parseYamlSubset('42'), 42)
  t.same(parseYamlSubset('[a]'), ['a'])
})

const bad: Array<[string, string, number, number, RegExp]> = [
  ['tab indentation', 'a:\n\tb: 1', 2, 1, /tabs are not allowed/],
  ['anchor', 'a: &x 1', 1, 4, /anchors/],
  ['alias', 'a: 1\nb: *x', 2, 4, /aliases/],
  ['tag', 'a: !!str 1', 1, 4, /tags/],
  ['block scalar', 'a: |\n  text', 1, 4, /block scalars/],
  ['flow mapping', 'a: {b: 1}', 1, 4, /flow mappings/],
  ['multi-line flow sequence', 'a: [1,\n  2]', 1, 4, /one line/],
  ['nested flow sequence', 'a: [1, [2]]', 1, 8, /nested flow/],
  ['duplicate key', 'a: 1\nb: 2\na: 3', 3, 1, /duplicate key 'a'/],
  ['bad indentation', 'a:\n  b: 1\n    c: 2', 3, 5, /unexpected indentation/],
  ['unterminated quote', 'a: "x', 1, 4, /unterminated/],
  ['text after quote', "a: 'x' y", 1, 7, /after the quoted string/],
  ['colon in plain value', 'a: b: c', 1, 5, /quote the value/],
  ['not a key', 'a: 1\njust text', 2, 1, /expected 'key: value'/],
  ['second document', 'a: 1\n---\nb: 2', 2, 1, /one YAML document/],
  ['inline nested sequence', 'a:\n  - - x', 2, 5, /sequence inside a sequence item/],
  ['bad escape', 'a: "\\q"', 1, 6, /unsupported escape/]
]

for (const [name, text, line, column, message] of bad) {
  t.test(`rejects ${name} with line and column`, async t => {
    try {
      parseYamlSubset(text, 'conf.yaml')
      t.fail('no error thrown')
    } catch (err) {
      t.ok(err instanceof YamlSubsetError, String(err))
      const e = err as YamlSubsetError
      t.equal(e.code, 'KPROXY_ERR_CONFIG')
      t.match(e.message, message)
      t.equal(e.line, line, `line in: ${e.message}`)
      t.equal(e.column, column, `column in: ${e.message}`)
      t.ok(e.message.startsWith(`conf.yaml:${line}:${column}: `), e.message)
    }
  })
}
