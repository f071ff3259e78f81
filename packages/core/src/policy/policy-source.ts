// Policy documents (ACL rules, quotas, credentials) come from two places: their own YAML files,
// where an error names file, line and column, and kproxy's config file, already parsed by the
// config loader, where an error names the key path. Validators see one shape for both: a plain
// value plus `locate`, which turns a path inside the value into the prefix of an error line.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import type { Node } from 'yaml'
import { KproxyError } from '../kproxy-error.ts'
import type { KproxyCode } from '../kproxy-error.ts'

export type PathSegment = string | number

// 'rules.yaml:12:5: rules[3].allow[1]' or 'kproxy.yaml: policy.acl.rules[3].allow[1]'.
// `part: 'key'` points at a mapping key instead of its value (for unknown keys).
export type Locate = (path: readonly PathSegment[], part?: 'key' | 'value') => string

export interface PolicySource {
  readonly value: unknown
  readonly locate: Locate
}

// Every problem found, as full lines; the error's message lists them all.
export class PolicyFileError extends KproxyError {
  readonly errors: readonly string[]
  constructor (code: KproxyCode, what: string, errors: readonly string[]) {
    super(code, errors.length === 1 ? `${what}: ${errors[0]!}` : `${what}: ${errors.length} errors:\n  ${errors.join('\n  ')}`)
    this.errors = errors
  }
}

export function pathText (root: string, path: readonly PathSegment[]): string {
  let out = root
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`
  return out === '' ? '(the document)' : out
}

// Collects problems with their places; validators keep going after the first one.
export class Problems {
  readonly list: string[] = []
  readonly #locate: Locate
  constructor (locate: Locate) {
    this.#locate = locate
  }

  add (path: readonly PathSegment[], message: string, part: 'key' | 'value' = 'value'): void {
    this.list.push(`${this.#locate(path, part)}: ${message}`)
  }

  get empty (): boolean { return this.list.length === 0 }
}

// For values that came from kproxy's config file: errors name the key path under `root`.
export function configSource (value: unknown, source: string, root: string): PolicySource {
  return { value, locate: path => `${source}: ${pathText(root, path)}` }
}

// Parses a policy file. Syntax errors, duplicate keys and anything the parser only warns about
// are errors (a policy file is never read half-right); they throw a PolicyFileError.
export function parsePolicyYaml (text: string, file: string, code: KproxyCode, what: string): PolicySource {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true })
  const problems = [...doc.errors, ...doc.warnings].map(e => {
    const pos = lineCounter.linePos(e.pos[0])
    return `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`
  })
  if (problems.length > 0) throw new PolicyFileError(code, what, problems)
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset)
    return `${file}:${line}:${col}`
  }
  const locate: Locate = (path, part = 'value') => {
    let node: unknown = doc.contents
    let place = node !== null && typeof node === 'object' && 'range' in (node as object) ? (node as Node).range?.[0] ?? 0 : 0
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!
      let next: unknown
      if (isMap(node)) {
        const pair = node.items.find(p => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg))
        if (pair === undefined) break
        const wantKey = part === 'key' && i === path.length - 1
        const target = wantKey ? pair.key : (pair.value ?? pair.key)
        next = target
        const range = (target as Node | null)?.range
        if (range !== undefined && range !== null) place = range[0]
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg]
        const range = (next as Node | null)?.range
        if (range !== undefined && range !== null) place = range[0]
      } else {
        break
      }
      node = next
    }
    return `${at(place)}: ${pathText('', path)}`
  }
  return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, locate }
}

export function isPlainObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

export function describeValue (v: unknown): string {
  if (v === null || v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') return `'${v.length > 60 ? v.slice(0, 57) + '...' : v}'`
  return String(v)
}
