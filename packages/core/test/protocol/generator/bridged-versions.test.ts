// Which versions are bridged, from two sets of definitions written for the test, and from the
// real jars when they are there.
import t from 'tap'
import { existsSync } from 'node:fs'
import { deriveBridgedApis } from '../../../src/protocol/generator/bridged-versions.ts'
import { readSpecs } from '../../../src/protocol/generator/generate.ts'
import { Jar } from '../../../src/protocol/generator/jar.ts'
import { defaultJarPath } from '../../../src/protocol/generator/main.ts'
import { formatRange, parseMessage } from '../../../src/protocol/generator/spec.ts'
import type { MessageSpec } from '../../../src/protocol/generator/spec.ts'
import { BRIDGE_KAFKA_VERSION } from '../../../src/kafka-release.ts'
import { BRIDGED_APIS } from '../../../src/protocol/generated/bridged-versions.ts'

const req = (apiKey: number, name: string, validVersions: string, extra: object = {}): MessageSpec =>
  parseMessage({ type: 'request', apiKey, name: `${name}Request`, validVersions, flexibleVersions: 'none', listeners: ['broker'], fields: [], ...extra }, `${name}Request.json`)

t.test('dropped versions of client-facing, stable APIs are bridged', async t => {
  const old = [req(0, 'Produce', '0-11'), req(1, 'Fetch', '0-17'), req(3, 'Metadata', '0-12'), req(4, 'LeaderAndIsr', '0-7', { listeners: ['zkBroker'] }),
    req(78, 'ShareFetch', '0', { latestVersionUnstable: true }), req(9, 'OffsetFetch', '0-9'), req(99, 'Gone', '0-3')]
  const cur = [req(0, 'Produce', '3-13'), req(1, 'Fetch', '4-18'), req(3, 'Metadata', '0-13'), req(4, 'LeaderAndIsr', 'none', { listeners: [] }),
    req(78, 'ShareFetch', '1-2'), req(9, 'OffsetFetch', '1-10')]
  const got = deriveBridgedApis(cur, old).map(b => `${b.apiKey} ${b.name} ${formatRange(b.current)} ${formatRange(b.bridged)}`)
  t.same(got, ['0 Produce 3-13 0-2', '1 Fetch 4-18 0-3', '9 OffsetFetch 1-10 0'])
})

t.test('the latest stable version counts when the latest is unstable', async t => {
  const got = deriveBridgedApis([req(5, 'X', '3-5')], [req(5, 'X', '0-3', { latestVersionUnstable: true })])
  t.same(got.map(b => formatRange(b.bridged)), ['0-2'])
})

t.test('gaps and renames are refused', async t => {
  t.throws(() => deriveBridgedApis([req(5, 'X', '4-6')], [req(5, 'X', '0-2')]), { code: 'KPROXY_ERR_GENERATOR', message: /versions 3 are in neither release/ })
  t.throws(() => deriveBridgedApis([req(5, 'Y', '2-6')], [req(5, 'X', '0-3')]), { message: /API key 5 was XRequest and is now YRequest/ })
  t.same(deriveBridgedApis([req(5, 'Y', '0-6')], [req(5, 'X', '0-3')]), [], 'a rename without dropped versions is fine')
})

const jars = [defaultJarPath(), defaultJarPath(BRIDGE_KAFKA_VERSION)]
t.test('from the real jars: what generated/bridged-versions.ts holds', { skip: jars.every(existsSync) ? false : 'the Kafka jars are not downloaded' }, async t => {
  const got = deriveBridgedApis(readSpecs(new Jar(jars[0])), readSpecs(new Jar(jars[1])))
  t.same(got.map(b => [b.apiKey, b.name, b.current.lo, b.current.hi, b.bridged.lo, b.bridged.hi]),
    BRIDGED_APIS.map(b => [b.apiKey, b.name, b.minVersion, b.maxVersion, b.bridgedMinVersion, b.bridgedMaxVersion]))
  t.ok(got.length >= 10)
})
