// The codecs against Apache Kafka's own Java: every sample of the round-trip test (every API key
// and version, requests and responses, header and data messages; unknown tagged fields included)
// is handed to Kafka's generated message classes from the pinned jar, which must read it, write
// back the same bytes, and see the values that were encoded. (generated/error-codes.ts is checked
// against the jar by `pnpm gen:check`.) Skipped when Java or the Kafka jars are missing.
import t from 'tap'
import type { Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { dumpErrors } from '../../../src/protocol/generator/error-codes.ts'
import { defaultJarPath } from '../../../src/protocol/generator/main.ts'
import { BRIDGE_KAFKA_VERSION } from '../../../src/kafka-release.ts'
import { API_TABLE } from '../../../src/protocol/generated/api-table.ts'
import { OTHER_MESSAGES } from '../../../src/protocol/generated/messages.ts'
import type { MessageCodec } from '../../../src/protocol/primitives/message-codec.ts'
import { Writer } from '../../../src/protocol/primitives/writer.ts'
import { injectUnknownTags, SampleBuilder, versionsOf } from './samples.ts'

const lib = dirname(defaultJarPath())
const java = process.env.JAVA ?? 'java'
const skip = !existsSync(defaultJarPath())
  ? 'the Kafka jars are not downloaded (pnpm exec kproxy sandbox fetch)'
  : spawnSync(java, ['-version']).error !== undefined ? 'no java on PATH' : false

function runJava (args: string[], input: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}

interface Item { cls: string, version: number, sample: any, hex: string }

// which: the versions of the pinned release, or the bridged ones (checked against the 3.x jar)
function samples (which: 'supported' | 'bridged' = 'supported'): Item[] {
  const codecs: Array<{ codec: MessageCodec<any>, cls: string }> = []
  for (const api of API_TABLE) codecs.push({ codec: api.request, cls: `${api.request.name}Data` }, { codec: api.response, cls: `${api.response.name}Data` })
  // Kafka names the classes of "data" definitions without the Data suffix
  if (which === 'supported') for (const m of OTHER_MESSAGES) codecs.push({ codec: m.codec, cls: m.type === 'header' ? `${m.name}Data` : m.name })
  const items: Item[] = []
  for (const { codec, cls } of codecs) {
    for (const version of versionsOf(codec.schema, which)) {
      for (const variant of ['full', 'nulls'] as const) {
        const b = new SampleBuilder(codec.schema, version, variant)
        const message = b.build(codec)
        if (variant === 'full') injectUnknownTags(b, message)
        const w = new Writer()
        codec.encode(w, message, version)
        const bytes = w.toBuffer()
        items.push({ cls, version, sample: message, hex: bytes.toString('hex') })
      }
    }
  }
  return items
}

// Kafka's JSON view against the sample kproxy encoded: every field Kafka prints must hold the
// value that was meant.
// Records are compared as bytes only (Kafka prints them as parsed batches).
function compare (mine: any, theirs: any, path: string, problems: string[]): void {
  const bad = (): void => { problems.push(`${path}: kproxy ${String(mine).slice(0, 60)} kafka ${JSON.stringify(theirs).slice(0, 60)}`) }
  if (/records$/i.test(path) && Buffer.isBuffer(mine)) return
  if (theirs === null) {
    if (mine !== null) bad()
  } else if (Array.isArray(theirs)) {
    if (!Array.isArray(mine) || mine.length !== theirs.length) bad()
    else theirs.forEach((x, i) => compare(mine[i], x, `${path}[${i}]`, problems))
  } else if (typeof theirs === 'object') {
    if (mine === null || typeof mine !== 'object') bad()
    else for (const k of Object.keys(theirs)) compare(mine[k], theirs[k], `${path}.${k}`, problems)
  } else if (Buffer.isBuffer(mine)) {
    if (mine.toString('base64') !== theirs) bad()
  } else if (typeof mine === 'bigint') {
    if (mine !== BigInt(theirs)) bad()
  } else if (mine !== theirs) {
    bad()
  }
}

// JSON.parse keeping integers beyond 2^53 exact (int64 fields)
function parseExact (json: string): unknown {
  return JSON.parse(json, (_k, v, ctx?: { source?: string }) =>
    typeof v === 'number' && ctx?.source !== undefined && /^-?\d+$/.test(ctx.source) && !Number.isSafeInteger(v) ? BigInt(ctx.source) : v)
}

async function crossCheck (t: Test, items: Item[], classpath: string): Promise<void> {
  const cross = await runJava(['-cp', classpath, join(import.meta.dirname, 'CrossCheck.java')], items.map(i => `${i.cls} ${i.version} ${i.hex}`).join('\n') + '\n')
  t.equal(cross.code, 0, cross.stderr.slice(0, 500))
  const lines = cross.stdout.split('\n')
  const refused: string[] = []
  const rewritten: string[] = []
  const problems: string[] = []
  items.forEach((it, i) => {
    const line = lines[i] ?? 'ERR no answer'
    const what = `${it.cls} v${it.version}`
    if (line.startsWith('ERR')) {
      refused.push(`${what}: ${line}`)
      return
    }
    if (line.startsWith('DIFF')) rewritten.push(what)
    const json = line.slice(line.indexOf(' {') + 1)
    const found: string[] = []
    compare(it.sample, parseExact(json), '', found)
    problems.push(...found.map(p => `${what} ${p}`))
  })
  t.same(refused.slice(0, 5), [], 'Kafka could read every sample')
  t.same(rewritten.slice(0, 5), [], 'Kafka wrote every sample back byte for byte')
  t.same(problems.slice(0, 5), [], 'Kafka saw the values kproxy encoded')
}

t.test('Kafka reads every sample, writes the same bytes and sees the same values', { skip }, async t => {
  const items = samples()
  await crossCheck(t, items, join(lib, '*'))
  t.ok(items.length > 1000, `${items.length} samples checked against Kafka's Java classes`)
})

// The bridged versions against the classes of the 3.x release they come from (its JSON view
// needs Jackson, which kafka-clients does not bring: the pinned release's copy is used).
const oldLib = dirname(defaultJarPath(BRIDGE_KAFKA_VERSION))
const oldSkip = skip !== false ? skip : !existsSync(defaultJarPath(BRIDGE_KAFKA_VERSION)) ? `the kafka-clients ${BRIDGE_KAFKA_VERSION} jar is not downloaded (pnpm exec kproxy sandbox fetch)` : false

t.test(`Kafka ${BRIDGE_KAFKA_VERSION} reads every sample of a bridged version the same way`, { skip: oldSkip }, async t => {
  const items = samples('bridged')
  const jackson = readdirSync(lib).filter(n => /^jackson-(core|databind|annotations)-/.test(n)).map(n => join(lib, n))
  t.equal(jackson.length, 3, 'Jackson is in the pinned release\'s lib')
  await crossCheck(t, items, [join(oldLib, '*'), ...jackson].join(':'))
  t.ok(items.length >= 100, `${items.length} samples of bridged versions checked against Kafka ${BRIDGE_KAFKA_VERSION}'s Java classes`)
})

t.test('dumpErrors reports a missing java clearly', async t => {
  t.throws(() => dumpErrors(lib, '/nonexistent/java'), { code: 'KPROXY_ERR_GENERATOR', message: /install Java 17\+ or set JAVA/ })
})
