// Writes docs/errors.md: every stable error code kproxy can raise (KPROXY_ERR_*), where it is
// raised and the sentence it says, read from the source. `--check` exits 1 when the file is stale
// (pnpm test runs it), so a new code cannot land undocumented.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const docPath = join(root, 'docs/errors.md')

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

interface Use { file: string, message: string }

export function collect (): Map<string, Use[]> {
  const codes = new Map<string, Use[]>()
  const files = ['packages/core/src', 'packages/workers/src', 'packages/cli/src', 'bench/src']
    .flatMap(d => { try { return sourceFiles(join(root, d)) } catch { return [] } })
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/'(KPROXY_ERR_[A-Z0-9_]+)'/g)) {
      const code = m[1]
      // the message is the literal(s) after the code, up to the closing parenthesis, when written inline
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + 600)
      const literal = /^\s*,\s*((?:`[^`]*`|'[^']*')(?:\s*\+\s*(?:`[^`]*`|'[^']*'))*)/.exec(after)
      const message = literal
        ? literal[1].split(/\s*\+\s*/).map(s => s.slice(1, -1)).join('').replace(/\s+/g, ' ').trim()
        : ''
      const uses = codes.get(code) ?? []
      const rel = relative(root, file)
      if (!uses.some(u => u.file === rel && u.message === message)) uses.push({ file: rel, message })
      codes.set(code, uses)
    }
  }
  return new Map([...codes].sort(([a], [b]) => a.localeCompare(b)))
}

export function render (codes: Map<string, Use[]>): string {
  const lines = [
    '# Error codes',
    '',
    'Every error kproxy reports to a user carries a stable code. The sentence says what happened and',
    'what to do; `${…}` marks a value filled in at run time. Generated from the source by',
    '`node scripts/error-codes-doc.ts` — do not edit by hand (`pnpm test` fails when it is stale).',
    '',
    '| code | raised in | message |',
    '|---|---|---|'
  ]
  for (const [code, uses] of codes) {
    const files = [...new Set(uses.map(u => `\`${u.file}\``))].join('<br>')
    const message = uses.map(u => u.message).filter(Boolean)[0] ?? '_composed at run time from the underlying error; see the file_'
    lines.push(`| \`${code}\` | ${files} | ${message.replaceAll('|', '\\|')} |`)
  }
  return lines.join('\n') + '\n'
}

if (import.meta.main) {
  const text = render(collect())
  if (process.argv.includes('--check')) {
    let current = ''
    try { current = readFileSync(docPath, 'utf8') } catch {}
    if (current !== text) {
      process.stderr.write('docs/errors.md is stale: run `node scripts/error-codes-doc.ts` and commit it.\n')
      process.exitCode = 1
    }
  } else {
    writeFileSync(docPath, text)
    process.stdout.write(`wrote ${relative(root, docPath)}\n`)
  }
}
