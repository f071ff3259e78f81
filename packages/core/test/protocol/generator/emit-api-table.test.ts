import t from 'tap'
import { emitApiTable, emitMessageIndex, pairApis } from '../../../src/protocol/generator/emit-api-table.ts'
import { parseMessage } from '../../../src/protocol/generator/spec.ts'

const msg = (type: string, apiKey: number, name: string, validVersions = '0-1', extra: object = {}): ReturnType<typeof parseMessage> =>
  parseMessage({ type, apiKey, name, validVersions, flexibleVersions: '1+', fields: [], ...extra }, `${name}.json`)

t.test('requests and responses pair up by API key', async t => {
  const specs = [msg('request', 1, 'BRequest'), msg('response', 0, 'AResponse'), msg('request', 0, 'ARequest', '0-1', { listeners: ['broker'] }), msg('response', 1, 'BResponse'),
    parseMessage({ type: 'data', name: 'Extra', validVersions: '0', flexibleVersions: 'none', fields: [] }, 'Extra.json')]
  t.same(pairApis(specs).map(p => [p.apiKey, p.name]), [[0, 'A'], [1, 'B']])
  const table = emitApiTable(specs, '9.9.9')
  t.match(table, /export const ApiKey = \{\n {2}A: 0,\n {2}B: 1\n\} as const/)
  t.match(table, /listeners: \['broker'\],/)
  t.match(table, /import \{ aRequestCodec \} from '\.\/a-request\.ts'/)
  const index = emitMessageIndex(specs, '9.9.9')
  t.match(index, /\{ name: 'Extra', type: 'data', minVersion: 0, maxVersion: 0, flexibleMin: -1, codec: extraCodec \}/)
})

t.test('inconsistent definitions are refused', async t => {
  t.throws(() => pairApis([msg('request', 0, 'ARequest')]), { code: 'KPROXY_ERR_GENERATOR', message: /no response definition for apiKey 0/ })
  t.throws(() => pairApis([msg('request', 0, 'ARequest'), msg('response', 0, 'BResponse')]), { message: /response BResponse does not match request ARequest/ })
  t.throws(() => pairApis([msg('request', 0, 'ARequest'), msg('response', 0, 'AResponse', '0-2')]), { message: /validVersions differ/ })
  t.throws(() => pairApis([msg('request', 0, 'ARequest'), msg('response', 0, 'AResponse'), msg('response', 1, 'BResponse')]), { message: /a response without a request/ })
  t.throws(() => emitApiTable([msg('request', 1, 'BRequest'), msg('response', 1, 'BResponse')], '9'), { message: /API keys are not contiguous \(expected 0\)/ })
})
