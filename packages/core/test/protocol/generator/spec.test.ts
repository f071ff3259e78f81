import t from 'tap'
import {
  contains, formatRange, hull, intersect, isEmpty, lowerFirst, MAX_VERSION, NO_VERSIONS, parseMessage, parseVersions
} from '../../../src/protocol/generator/spec.ts'

t.test('version ranges as Kafka writes them', async t => {
  t.same(parseVersions('3+', 'x'), { lo: 3, hi: MAX_VERSION })
  t.same(parseVersions('1-4', 'x'), { lo: 1, hi: 4 })
  t.same(parseVersions('7', 'x'), { lo: 7, hi: 7 })
  t.ok(isEmpty(parseVersions('none', 'x')))
  t.ok(isEmpty(parseVersions(undefined, 'x')))
  t.throws(() => parseVersions('2..3', 'F.json versions'), { code: 'KPROXY_ERR_GENERATOR', message: /F.json versions: cannot parse versions "2..3"/ })
  t.throws(() => parseVersions(3, 'x'), { message: /is not a string/ })
  t.same(intersect({ lo: 0, hi: 5 }, { lo: 3, hi: MAX_VERSION }), { lo: 3, hi: 5 })
  t.equal(intersect({ lo: 0, hi: 2 }, { lo: 3, hi: 4 }), NO_VERSIONS)
  t.same(hull({ lo: 0, hi: 2 }, { lo: 5, hi: 6 }), { lo: 0, hi: 6 })
  t.same(hull(NO_VERSIONS, { lo: 5, hi: 6 }), { lo: 5, hi: 6 })
  t.same(hull({ lo: 5, hi: 6 }, NO_VERSIONS), { lo: 5, hi: 6 })
  t.ok(contains({ lo: 0, hi: 9 }, { lo: 2, hi: 3 }))
  t.ok(contains({ lo: 0, hi: 1 }, NO_VERSIONS))
  t.notOk(contains({ lo: 2, hi: 9 }, { lo: 1, hi: 3 }))
  t.same([formatRange(NO_VERSIONS), formatRange({ lo: 2, hi: MAX_VERSION }), formatRange({ lo: 2, hi: 2 }), formatRange({ lo: 1, hi: 3 })], ['none', '2+', '2', '1-3'])
  t.equal(lowerFirst('KRaftVersion'), 'kRaftVersion')
})

const base = { type: 'request', apiKey: 1000, name: 'TestRequest', validVersions: '0-3', flexibleVersions: '2+' }

t.test('structs: inline, common, contexts from their uses', async t => {
  const spec = parseMessage({
    ...base,
    listeners: ['broker'],
    latestVersionUnstable: true,
    fields: [
      { name: 'Topics', type: '[]Topic', versions: '1+', fields: [{ name: 'Name', type: 'string', versions: '0+' }, { name: 'Shared', type: 'Common', versions: '0+' }] },
      { name: 'Other', type: 'Common', versions: '3+', nullableVersions: '3+', default: 'null' },
      { name: 'Tagged', type: 'int32', versions: '2+', taggedVersions: '2+', tag: 0 }
    ],
    commonStructs: [{ name: 'Common', versions: '0+', fields: [{ name: 'X', type: 'int8', versions: '0+' }] }]
  }, 'Test.json')
  t.same(spec.structs.map(s => [s.name, s.common, formatRange(s.context)]), [['Topic', false, '1-3'], ['Common', true, '1-3']])
  t.same(spec.listeners, ['broker'])
  t.equal(spec.latestVersionUnstable, true)
  t.equal(spec.fields[2].tag, 0)
  t.same(spec.fields[1].nullableVersions, { lo: 3, hi: MAX_VERSION }, 'nullable versions are clipped to the field versions')
})

t.test('definitions the generator does not understand are refused', async t => {
  const bad = (over: object, message: RegExp): void => {
    t.throws(() => parseMessage({ ...base, ...over }, 'Bad.json'), { code: 'KPROXY_ERR_GENERATOR', message }, String(message))
  }
  t.throws(() => parseMessage(null, 'Null.json'), { message: /no message name/ })
  bad({ type: 'event' }, /unknown message type event/)
  bad({ apiKey: undefined }, /without apiKey/)
  bad({ fields: [{ name: 'A' }] }, /a field without name or type/)
  bad({ fields: 'nope' }, /fields is not an array/)
  bad({ fields: [{ name: 'A', type: 'int8', versions: '2+', tag: 0, taggedVersions: '3+' }] }, /taggedVersions differ from versions/)
  bad({ fields: [{ name: 'A', type: 'int8', versions: '0+', tag: 0, taggedVersions: '0+' }] }, /tagged outside the flexible versions/)
  bad({ fields: [{ name: 'A', type: 'int8', versions: '2+', tag: -1, taggedVersions: '2+' }] }, /tag is not a non-negative integer/)
  bad({ fields: [{ name: 'A', type: 'int8', versions: '2+', tag: 1, taggedVersions: '2+' }, { name: 'B', type: 'int8', versions: '2+', tag: 1, taggedVersions: '2+' }] }, /tag 1 used twice/)
  bad({ fields: [{ name: 'A', type: 'int8', versions: '2+', taggedVersions: '2+' }] }, /taggedVersions without tag/)
  bad({ fields: [{ name: 'A', type: '[]records', versions: '0+' }] }, /arrays of records/)
  bad({ fields: [{ name: 'A', type: 'S', versions: '0+', fields: [] }, { name: 'B', type: 'S', versions: '0+', fields: [] }] }, /struct S is defined twice/)
  bad({ fields: [{ name: 'A', type: 'Nowhere', versions: '0+' }] }, /unknown struct type Nowhere/)
  bad({ commonStructs: [{ name: 'C' }] }, /common struct without name or fields/)
  bad({ fields: [{ name: 'A', type: 'TestRequestData', versions: '0+', fields: [] }] }, /collides with the message type/)
  bad({ fields: [{ name: 'A', type: 'Loop', versions: '0+' }], commonStructs: [{ name: 'Loop', fields: [{ name: 'L', type: 'Loop', versions: '0+' }] }] }, /nest more than 32 deep/)
})
