// What the schema says to people and editors: the key reference of docs/configuration.md (a test
// fails when the document is stale) and the JSON Schema published as docs/kproxy.schema.json
// (`kproxy config schema` prints it).
import type { TSchema } from 'typebox'
import { BUILTIN_FILTERS } from './schema/builtin-filters/builtin-filters.ts'
import { configKeys } from './schema/config-keys.ts'
import { KPROXY_SCHEMA } from './schema/kproxy-schema.ts'
import { allowedText, defaultText } from './schema/schema-kit.ts'

function cell (text: string): string {
  return text.replaceAll('|', '\\|')
}

function builtinTable (config: TSchema): string[] {
  const rows = configKeys(config).filter(k => k.kind === 'key')
    .map(k => `| \`${k.path}\` | ${cell(allowedText(k.schema))} | ${k.required ? '(required)' : cell(defaultText(k.schema))} | ${cell(k.meta?.doc ?? '')} |`)
  return ['| Key | Allowed | Default | Meaning |', '|---|---|---|---|', ...rows]
}

// The generated part of docs/configuration.md: every key, then the config of each built-in filter.
export function configKeyTable (): string {
  const rows = configKeys().filter(k => k.kind === 'key').map(k => {
    const flag = k.meta?.flag !== undefined ? `\`${k.meta.flag}\`` : ''
    return `| \`${k.path}\` | ${flag} | ${cell(allowedText(k.schema))} | ${cell(defaultText(k.schema))} | ${k.unit?.live === true ? 'yes' : 'no (restart)'} | ${cell(k.meta?.doc ?? '')} |`
  })
  const out = ['| Key | Flag | Allowed | Default | Live reload | Meaning |', '|---|---|---|---|---|---|', ...rows]
  for (const [name, spec] of Object.entries(BUILTIN_FILTERS)) {
    out.push('', `Built-in filter \`${name}\` (\`- name: ${name}\`), keys under \`config\`: ${spec.doc}`, '', ...builtinTable(spec.config))
  }
  return out.join('\n') + '\n'
}

// The JSON Schema of a kproxy config file (draft-07, which every editor's YAML support reads).
// TypeBox schemas are JSON Schema already; kproxy's own annotations sit under a symbol and
// JSON.stringify leaves them out.
// As committed in docs/kproxy.schema.json and printed by `kproxy config schema`.
export function configJsonSchemaText (): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n'
}

export function configJsonSchema (): Record<string, unknown> {
  const body = JSON.parse(JSON.stringify(KPROXY_SCHEMA)) as Record<string, unknown>
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'kproxy configuration (kproxy.yaml)',
    ...body
  }
}
