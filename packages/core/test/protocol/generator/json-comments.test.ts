import t from 'tap'
import { parseJsonWithComments, stripJsonComments } from '../../../src/protocol/generator/json-comments.ts'

t.test('line and block comments go, strings stay as they are', async t => {
  const text = [
    '// licence header',
    '{',
    '  "url": "http://example.com//path", // a comment after a value',
    '  "quote": "say \\"// not a comment\\"",',
    '  "backslash": "ends with \\\\", /* block',
    '  spanning lines */ "slash": "/* not a comment */"',
    '}'
  ].join('\n')
  const stripped = stripJsonComments(text)
  t.equal(stripped.split('\n').length, text.split('\n').length, 'line numbers are kept')
  t.same(JSON.parse(stripped), { url: 'http://example.com//path', quote: 'say "// not a comment"', backslash: 'ends with \\', slash: '/* not a comment */' })
  t.equal(stripJsonComments('{"a": 1}'), '{"a": 1}')
  t.equal(stripJsonComments('1 // end'), '1 ')
})

t.test('errors name the source', async t => {
  t.throws(() => stripJsonComments('{ /* never closed'), { code: 'KPROXY_ERR_GENERATOR', message: /never closed/ })
  t.throws(() => parseJsonWithComments('{ "a": }', 'Broken.json'), { code: 'KPROXY_ERR_GENERATOR', message: /Broken.json is not valid JSON/ })
  t.same(parseJsonWithComments('// x\n[1, 2] // y', 'ok.json'), [1, 2])
})
