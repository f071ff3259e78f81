// The published JSON Schema (docs/kproxy.schema.json) against a real JSON Schema validator (ajv)
// and against kproxy's own loader: every example config in docs/ is accepted by both, and broken
// configs are refused by both.
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import { configJsonSchema, configJsonSchemaText } from '../../src/config/config-docs.ts'
import { parseConfigFile } from '../../src/config/config-file.ts'
import { resolveConfig } from '../../src/config/resolve-config.ts'
import { ConfigError } from '../../src/config/config-error.ts'

const docsDir = fileURLToPath(new URL('../../../../docs/', import.meta.url))
const schemaPath = join(docsDir, 'kproxy.schema.json')

t.test('docs/kproxy.schema.json is the schema as generated now', async t => {
  const fresh = configJsonSchemaText()
  const current = readFileSync(schemaPath, 'utf8')
  if (current !== fresh && process.env.KPROXY_UPDATE_DOCS === '1') {
    writeFileSync(schemaPath, fresh)
    t.comment('docs/kproxy.schema.json rewritten')
    return
  }
  t.equal(current, fresh, 'stale: run `pnpm exec kproxy config schema > docs/kproxy.schema.json` (or KPROXY_UPDATE_DOCS=1)')
})

// strict: an unknown keyword or a malformed schema fails to compile instead of being ignored
const ajv = new Ajv({ strict: true, allErrors: true })
const validateJson = ajv.compile(configJsonSchema())

interface Example { file: string, line: number, text: string, invalid: boolean }

// ```yaml blocks whose first line is `# kproxy.yaml` are configs; `# kproxy.yaml (invalid ...)`
// marks one shown as an example of an error.
function examples (): Example[] {
  const out: Example[] = []
  for (const name of readdirSync(docsDir).filter(n => n.endsWith('.md')).sort()) {
    const text = readFileSync(join(docsDir, name), 'utf8')
    for (const m of text.matchAll(/^```yaml\n(# kproxy\.yaml[^\n]*)\n([\s\S]*?)^```$/gm)) {
      out.push({ file: name, line: text.slice(0, m.index).split('\n').length + 1, text: `${m[1]}\n${m[2]}`, invalid: m[1]!.includes('(invalid') })
    }
  }
  return out
}

// kproxy's loader; a fragment without upstream gets it as a flag (as `kproxy serve --upstream`).
function loaderErrors (text: string, source: string): string[] {
  try {
    const parsed = parseConfigFile(text, source)
    const hasUpstream = (parsed.value as { brokerMode?: { upstream?: unknown } } | null)?.brokerMode?.upstream !== undefined
    resolveConfig({ source, file: parsed.value, locate: parsed.locate, flags: hasUpstream ? {} : { upstream: '127.0.0.1:9092' } })
    return []
  } catch (err) {
    if (err instanceof ConfigError) return [...err.errors]
    throw err
  }
}

function jsonErrors (text: string): string[] {
  const value = parseConfigFile(text, 'x.yaml').value ?? {}
  return validateJson(value) ? [] : (validateJson.errors ?? []).map(e => `${e.instancePath} ${e.message ?? ''}`)
}

const all = examples()

t.test('the docs hold example configs, valid and invalid ones', async t => {
  t.ok(all.filter(e => !e.invalid).length >= 3, `${all.length} examples found`)
  t.ok(all.some(e => e.invalid), 'at least one invalid example')
})

for (const ex of all) {
  t.test(`docs/${ex.file}:${ex.line}${ex.invalid ? ' (invalid)' : ''}`, async t => {
    const loader = loaderErrors(ex.text, `docs/${ex.file}`)
    const json = jsonErrors(ex.text)
    if (ex.invalid) {
      t.ok(loader.length > 0, 'the loader refuses it')
      t.ok(json.length > 0, 'the JSON Schema refuses it')
    } else {
      t.same(loader, [], 'the loader accepts it')
      t.same(json, [], 'the JSON Schema accepts it')
    }
  })
}

// Ways to break a valid config, each refused by both.
const breakages: Array<[string, (c: Record<string, any>) => void]> = [
  ['workers out of range', c => { c.workers = 0 }],
  ['an unknown top-level key', c => { c.wrokers = 2 }],
  ['an unknown brokerMode key', c => { (c.brokerMode ??= {}).lissen = '127.0.0.1:1' }],
  ['a log level that does not exist', c => { c.logLevel = 'loud' }],
  ['a listen address without a port', c => { (c.brokerMode ??= {}).listen = 'localhost' }],
  ['an API name that does not exist', c => { (c.brokerMode ??= {}).apiKeysDenied = ['Produce', 'NoSuchApi'] }],
  ['a TLS version that does not exist', c => { ((c.brokerMode ??= {}).tls ??= {}).minVersion = 'TLSv1.1' }],
  ['a filter that does not exist', c => { (c.brokerMode ??= {}).filters = [{ name: 'faultInjektion' }] }],
  ['a builtin filter without its config', c => { (c.brokerMode ??= {}).filters = [{ name: 'faultInjection' }] }],
  ['a percentage above 100', c => { (c.brokerMode ??= {}).filters = [{ name: 'faultInjection', config: { rules: [{ percent: 150, action: { close: true } }] } }] }],
  ['an action of two kinds', c => { (c.brokerMode ??= {}).filters = [{ name: 'faultInjection', config: { rules: [{ percent: 1, action: { close: true, delayMs: 5 } }] } }] }],
  ['a Kafka error that does not exist', c => { (c.brokerMode ??= {}).filters = [{ name: 'faultInjection', config: { rules: [{ percent: 1, action: { error: 'NOT_AN_ERROR' } }] } }] }],
  ['a module that is no .ts/.js file', c => { (c.brokerMode ??= {}).filters = [{ module: './filter.txt' }] }],
  ['a filter entry with an unknown key', c => { (c.brokerMode ??= {}).filters = [{ module: './f.ts', cfg: {} }] }],
  ['a topic policy rule with an unknown key', c => { (c.brokerMode ??= {}).filters = [{ name: 'topicPolicy', config: { rules: [{ minReplicas: 3 }] } }] }]
]

t.test('broken configs are refused by the loader and by the JSON Schema', async t => {
  const base = all.find(e => !e.invalid && e.file === 'configuration.md')!
  for (const [what, breakIt] of breakages) {
    const config = parseConfigFile(base.text, 'x.yaml').value as Record<string, any>
    breakIt(config)
    const text = JSON.stringify(config) // JSON is YAML
    t.ok(loaderErrors(text, 'broken.yaml').length > 0, `loader: ${what}`)
    t.ok(jsonErrors(text).length > 0, `JSON Schema: ${what}`)
  }
})
