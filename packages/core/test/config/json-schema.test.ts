// The published JSON Schema (docs/kproxy.schema.json) against a real JSON Schema validator (ajv)
// and against kproxy's own loader: every example config in the docs (every ```yaml block not
// marked as something else, doc-examples.ts) is accepted by both, and broken configs are refused
// by both. A failure names the .md file and line.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import { configJsonSchema, configJsonSchemaText } from '../../src/config/config-docs.ts'
import { parseConfigFile } from '../../src/config/config-file.ts'
import { resolveConfig } from '../../src/config/resolve-config.ts'
import { ConfigError } from '../../src/config/config-error.ts'
import { docExamples, docFences } from './doc-examples.ts'

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

// The ```yaml blocks of the docs that are configs (doc-examples.ts says how a block is marked).
const all = docExamples().filter(e => e.kind === 'config' || e.kind === 'invalid-config' || e.kind === 'config-fragment')

// kproxy's loader. A whole config is taken as it stands; a fragment gets what it leaves out, the
// upstream, as the flag `kproxy serve --upstream` would give it (unless it is in mesh mode).
function loaderErrors (text: string, source: string, fragment: boolean): string[] {
  try {
    const parsed = parseConfigFile(text, source)
    const value = parsed.value as { brokerMode?: { upstream?: unknown }, mesh?: unknown } | null
    const complete = value?.brokerMode?.upstream !== undefined || value?.mesh !== undefined
    resolveConfig({ source, file: parsed.value, locate: parsed.locate, flags: fragment && !complete ? { upstream: '127.0.0.1:9092' } : {} })
    return []
  } catch (err) {
    if (err instanceof ConfigError) return [...err.errors]
    throw err
  }
}

// ajv's errors, each at the line and column of the .md file it points at.
function jsonErrors (text: string, source: string): string[] {
  let parsed
  try {
    parsed = parseConfigFile(text, source)
  } catch (err) {
    if (err instanceof ConfigError) return [...err.errors]
    throw err
  }
  if (validateJson(parsed.value ?? {})) return []
  return (validateJson.errors ?? []).map(e => {
    // a number is a list index to locate() (a map key is matched as a string either way)
    const path = e.instancePath.split('/').slice(1).map(p => /^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~'))
    const extra = (e.params as { additionalProperty?: string }).additionalProperty
    const pos = extra !== undefined ? parsed.locate([...path, extra], true) : parsed.locate(path)
    return `${source}${pos === null ? '' : `:${pos.line}:${pos.column}`}: ${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? ''}${extra !== undefined ? `: ${extra}` : ''}`
  })
}

// A config in a block not marked as YAML would escape the checks below.
t.test('no config hides in a code block not marked ```yaml', async t => {
  const topKeys = Object.keys(configJsonSchema().properties as object).join('|')
  const hidden = docFences().filter(f => !/^ya?ml\b/i.test(f.info) && new RegExp(`^(${topKeys}):`, 'm').test(f.body))
  t.same(hidden.map(f => `${f.file}:${f.line} (\`\`\`${f.info})`), [], 'mark these ```yaml')
})

t.test('the docs hold example configs, valid and invalid ones', async t => {
  t.ok(all.filter(e => e.kind === 'config').length >= 10, `${all.length} examples found`)
  t.ok(all.some(e => e.kind === 'invalid-config'), 'at least one invalid example')
  t.ok(all.some(e => e.kind === 'config-fragment'), 'at least one fragment')
})

for (const ex of all) {
  const label = ex.kind === 'config' ? '' : ex.kind === 'invalid-config' ? ' (invalid)' : ' (fragment)'
  t.test(`${ex.file}:${ex.line}${label}`, { skip: ex.skip ?? false }, async t => {
    const loader = loaderErrors(ex.text, ex.file, ex.kind === 'config-fragment')
    const json = jsonErrors(ex.text, ex.file)
    if (ex.kind === 'invalid-config') {
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
  const base = all.find(e => e.kind === 'config' && e.file === 'docs/configuration.md')!
  for (const [what, breakIt] of breakages) {
    const config = parseConfigFile(base.text, 'x.yaml').value as Record<string, any>
    breakIt(config)
    const text = JSON.stringify(config) // JSON is YAML
    t.ok(loaderErrors(text, 'broken.yaml', false).length > 0, `loader: ${what}`)
    t.ok(jsonErrors(text, 'broken.yaml').length > 0, `JSON Schema: ${what}`)
  }
})
