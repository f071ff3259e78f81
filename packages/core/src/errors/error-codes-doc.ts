// What docs/errors.md is made of: the codes the source uses (read from the source text), checked
// against the registry (error-codes.ts) both ways, rendered as a table. scripts/error-codes-doc.ts
// writes or checks the file; a test runs the same check.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { ErrorCodeSpec } from './error-codes.ts'

export const REGISTRY_FILE = 'packages/core/src/errors/error-codes.ts'
// Where kproxy's code lives, relative to the repository root.
export const SOURCE_DIRS = ['packages/core/src', 'packages/workers/src', 'packages/cli/src', 'bench/src']

function sourceFiles (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (name === 'node_modules' || name === 'generated') continue
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (name.endsWith('.ts')) out.push(p)
  }
  return out
}

export interface Use { file: string, message: string }

const CODE = /'(KPROXY_(?:ERR|WARN)_[A-Z0-9_]+)'/g

// The codes one source text uses (quoted literals), with the message literal written right after the code.
export function usesIn (text: string, file: string): Array<[string, Use]> {
  const out: Array<[string, Use]> = []
  for (const m of text.matchAll(CODE)) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 600)
    const literal = /^\s*,\s*((?:`[^`]*`|'[^']*')(?:\s*\+\s*(?:`[^`]*`|'[^']*'))*)/.exec(after)
    const message = literal
      ? literal[1]!.split(/\s*\+\s*/).map(s => s.slice(1, -1)).join('').replace(/\s+/g, ' ').trim()
      : ''
    out.push([m[1]!, { file, message }])
  }
  return out
}

export function collectUses (root: string): Map<string, Use[]> {
  const codes = new Map<string, Use[]>()
  const files = SOURCE_DIRS
    .flatMap(d => { try { return sourceFiles(join(root, d)) } catch { return [] } })
  for (const file of files) {
    const rel = relative(root, file)
    if (rel === REGISTRY_FILE) continue
    for (const [code, use] of usesIn(readFileSync(file, 'utf8'), rel)) {
      const uses = codes.get(code) ?? []
      if (!uses.some(u => u.file === use.file && u.message === use.message)) uses.push(use)
      codes.set(code, uses)
    }
  }
  return codes
}

// Codes the source uses that the registry lacks, and registered codes nobody uses.
export function registryProblems (used: ReadonlyMap<string, Use[]>, registry: Readonly<Record<string, ErrorCodeSpec>>): string[] {
  const problems: string[] = []
  for (const [code, uses] of used) {
    if (!Object.hasOwn(registry, code)) problems.push(`${code} is used in ${uses.map(u => u.file).join(', ')} but not registered in ${REGISTRY_FILE}; add it there (what it means, what to do)`)
  }
  for (const code of Object.keys(registry)) {
    if (!used.has(code)) problems.push(`${code} is registered in ${REGISTRY_FILE} but used nowhere; remove it`)
  }
  return problems
}

function cell (text: string): string {
  return text.replaceAll('|', '\\|')
}

export function renderErrorsDoc (used: ReadonlyMap<string, Use[]>, registry: Readonly<Record<string, ErrorCodeSpec>>): string {
  const lines = [
    '# Error codes',
    '',
    'Every error kproxy reports to a user carries a stable code: `KPROXY_ERR_*` for errors,',
    '`KPROXY_WARN_*` for warnings (in log lines as `"code"`, in command output after the sentence).',
    'The sentence says what happened with the values of the moment; `${…}` marks such a value below.',
    `Generated from the registry (\`${REGISTRY_FILE}\`) and the source by`,
    '`node scripts/error-codes-doc.ts` — do not edit by hand (`pnpm test` fails when it is stale, or',
    'when the source uses a code the registry lacks).',
    '',
    '| code | what happened | what to do | raised in | message |',
    '|---|---|---|---|---|'
  ]
  for (const code of Object.keys(registry).sort((a, b) => a.localeCompare(b))) {
    const spec = registry[code]!
    const uses = used.get(code) ?? []
    const files = [...new Set(uses.map(u => `\`${u.file}\``))].join('<br>')
    const message = uses.map(u => u.message).filter(Boolean)[0] ?? '_composed at run time from the underlying error_'
    lines.push(`| \`${code}\` | ${cell(spec.gist)} | ${cell(spec.action)} | ${files} | ${cell(message)} |`)
  }
  return lines.join('\n') + '\n'
}

