// Every ```yaml block of the docs (docs/**/*.md and README.md), sorted by what it is, so that the
// tests can check each one with the parser kproxy uses for it. The block's first line says what
// it is:
//
//   # kproxy.yaml                      a whole config, as `kproxy serve --config` takes it
//   (no marker)                        the same: a block without a marker is a whole config
//   # kproxy.yaml (invalid: why)       a config shown as an example of an error; must be refused
//   # fragment of kproxy.yaml          some sections of a config; checked with what a runnable
//                                      config needs added (brokerMode.upstream, as --upstream)
//   # acl.yaml                         an ACL rules file (policy.acl.rulesFile)
//   # quotas.yaml                      a quotas file (policy.quotas.file)
//   # users.yaml                       a SASL credentials file (policy.sasl.credentialsFile)
//
// Any of them may add `(not checked: why)` to be skipped; the tests list the skips with the
// reason. So no block escapes silently: a YAML block that is no config (a Kubernetes manifest,
// a file of some other tool) needs a marker saying so, else it fails as a config.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type ExampleKind = 'config' | 'invalid-config' | 'config-fragment' | 'acl-rules' | 'quotas' | 'credentials'

export interface DocExample {
  readonly kind: ExampleKind
  readonly file: string // relative to the repository, e.g. docs/mesh.md
  readonly line: number // of the opening fence
  // the block as a file, with blank lines in front so that a parser's line numbers are the
  // lines of the .md file (its columns count from the block's indentation, for one in a list)
  readonly text: string
  readonly skip: string | null // the reason given with `(not checked: ...)`
}

export interface DocFence { readonly file: string, readonly line: number, readonly info: string, readonly body: string }

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))

const MARKERS: ReadonlyArray<[RegExp, ExampleKind]> = [
  [/^# kproxy\.yaml \(invalid\b/, 'invalid-config'],
  [/^# kproxy\.yaml\b/, 'config'],
  [/^# fragment of kproxy\.yaml\b/, 'config-fragment'],
  [/^# acl\.yaml\b/, 'acl-rules'],
  [/^# quotas\.yaml\b/, 'quotas'],
  [/^# users\.yaml\b/, 'credentials']
]

export function docFiles (): string[] {
  const docs = readdirSync(join(repoRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter(n => n.endsWith('.md')).map(n => join('docs', n))
  return [...docs.sort(), 'README.md']
}

// Every fenced code block (``` fences, also indented ones inside a list), with its info string.
export function docFences (): DocFence[] {
  const out: DocFence[] = []
  for (const file of docFiles()) {
    const text = readFileSync(join(repoRoot, file), 'utf8')
    for (const m of text.matchAll(/^( *)```([^\n`]*)\n([\s\S]*?)^ *```[ \t]*$/gm)) {
      const indent = m[1]!.length
      const body = m[3]!.split('\n').map(l => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n')
      out.push({ file, line: text.slice(0, m.index).split('\n').length, info: m[2]!.trim(), body })
    }
  }
  return out
}

export function docExamples (): DocExample[] {
  return docFences().filter(f => /^ya?ml\b/i.test(f.info)).map(f => {
    const first = f.body.split('\n', 1)[0]!
    const kind = MARKERS.find(([re]) => re.test(first))?.[1] ?? 'config'
    const skip = /\(not checked: ([^)]*)\)/.exec(first)?.[1] ?? null
    return { kind, file: f.file, line: f.line, text: '\n'.repeat(f.line) + f.body, skip }
  })
}
