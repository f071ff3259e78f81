// Reads the text of a config file with the `yaml` library (YAML 1.2: anchors, aliases, merge keys,
// block scalars, flow collections all work) into a plain value, and keeps the document so that a
// key path can be turned back into the line and column it was written at. Syntax errors come all
// at once, each as file:line:column.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from 'yaml'
import type { Document, Node, Pair } from 'yaml'
import { ConfigError } from './config-error.ts'
import type { PathPart } from './schema/schema-kit.ts'

// How many alias nodes one document may expand (the yaml library's guard against "billion
// laughs": aliases of aliases that grow exponentially). A config file needs a handful.
export const MAX_ALIAS_COUNT = 100

export interface Position { line: number, column: number }

export interface ConfigFile {
  readonly path: string
  readonly value: unknown
  // Where the value at a key path was written (the key itself with atKey), or the nearest
  // enclosing node that was; null for an empty document.
  locate (path: readonly PathPart[], atKey?: boolean): Position | null
}

export function parseConfigFile (text: string, path: string): ConfigFile {
  const lines = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false, version: '1.2' })
  const at = (offset: number): string => {
    const p = lines.linePos(offset)
    return `${path}:${p.line}:${p.col}`
  }
  const all = Array.isArray(docs) ? docs : [docs]
  if (all.length === 0) return { path, value: null, locate: () => null }
  const errors: string[] = []
  for (const doc of all) {
    const unclosed = unclosedFlowCollections(doc, text)
    for (const e of [...doc.errors, ...doc.warnings]) {
      // The library notices an unclosed [ or { where the input ends; point at where it opened.
      const flow = /^Flow (sequence|map) .* end with a ([\]}])/.exec(e.message)
      const opened = flow !== null ? unclosed.findLast(c => c.close === flow[2] && c.start < e.pos[0]) : undefined
      if (opened !== undefined) {
        unclosed.splice(unclosed.indexOf(opened), 1)
        errors.push(`${at(opened.start)}: this ${opened.close === ']' ? '[' : '{'} is never closed with ${opened.close} (or a line inside it is not indented enough)`)
        continue
      }
      errors.push(`${at(e.pos[0])}: ${sentence(e.code, e.message)}`)
    }
  }
  if (all.length > 1) {
    const second = all[1]!.range[0]
    errors.push(`${at(second)}: a kproxy config file holds one YAML document, this one has ${all.length}; remove the '---' that starts the second one or split the file`)
  }
  if (errors.length > 0) throw new ConfigError(errors)
  const doc = all[0]!
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (err) {
    throw new ConfigError([aliasError(doc, err as Error, path, at)])
  }
  return { path, value, locate: (keyPath, atKey = false) => locate(doc, keyPath, atKey, lines) }
}

// The library's message, with what to do for the ones a config author meets most.
function sentence (code: string, message: string): string {
  switch (code) {
    case 'TAB_AS_INDENT': return 'tabs are not allowed for indentation; use spaces'
    case 'DUPLICATE_KEY': return 'duplicate key: each key may appear once in a mapping (the second one would silently win)'
    case 'TAG_RESOLVE_FAILED': return `${message}; kproxy knows only YAML's standard tags (!!str, !!int, ...)`
    default: return message.replace(/\s+/g, ' ').trim()
  }
}

// Flow collections ([...] and {...}) whose closing bracket is missing, in order of their start.
function unclosedFlowCollections (doc: Document, text: string): Array<{ start: number, close: ']' | '}' }> {
  const out: Array<{ start: number, close: ']' | '}' }> = []
  const check = (node: { flow?: boolean, range?: [number, number, number] | null }, close: ']' | '}'): void => {
    if (node.flow !== true || node.range == null) return
    if (!text.slice(node.range[0], node.range[1]).trimEnd().endsWith(close)) out.push({ start: node.range[0], close })
  }
  visit(doc, {
    Seq (_key, node) { check(node, ']') },
    Map (_key, node) { check(node, '}') }
  })
  return out.sort((a, b) => a.start - b.start)
}

function aliasError (doc: Document, err: Error, path: string, at: (offset: number) => string): string {
  if (/Excessive alias count/.test(err.message)) {
    return `${path}: the aliases in this file expand to more than ${MAX_ALIAS_COUNT} nodes (aliases of aliases grow exponentially, a "billion laughs" document); write the repeated values out or use fewer nested aliases`
  }
  let where = path
  visit(doc, {
    Alias (_key, node) {
      if (node.resolve(doc) === undefined && node.range != null && where === path) where = at(node.range[0])
    }
  })
  return `${where}: ${err.message}`
}

function locate (doc: Document, path: readonly PathPart[], atKey: boolean, lines: LineCounter): Position | null {
  let node: Node | null | undefined = doc.contents
  let best: Node | undefined = node ?? undefined
  for (let i = 0; i < path.length; i++) {
    const found = child(doc, node, path[i]!)
    if (found === undefined) break
    const last = i === path.length - 1
    best = (last && atKey ? found.key : undefined) ?? found.value ?? found.key ?? best
    node = found.value
  }
  const offset = best?.range?.[0]
  if (offset === undefined) return null
  const p = lines.linePos(offset)
  return { line: p.line, column: p.col }
}

// With merge keys on, the library parses `<<` as a scalar whose value is a symbol.
function isMergeKey (key: Node | null): boolean {
  return isScalar(key) && (typeof key.value === 'symbol' || key.value === '<<') && key.source === '<<'
}

function deref (doc: Document, node: Node | null | undefined): Node | undefined {
  if (node === null || node === undefined) return undefined
  return isAlias(node) ? node.resolve(doc) : node
}

// The pair of a mapping at a key, following merge keys (<<) the way the value was built: the
// mapping's own keys first, then the merged mappings in order.
function child (doc: Document, parent: Node | null | undefined, part: PathPart): { key: Node | undefined, value: Node | undefined } | undefined {
  const node = deref(doc, parent)
  if (isSeq(node) && typeof part === 'number') {
    const item = node.items[part] as Node | undefined
    return item === undefined ? undefined : { key: undefined, value: item }
  }
  if (!isMap(node)) return undefined
  const pairs = node.items as Array<Pair<Node | null, Node | null>>
  for (const pair of pairs) {
    if (isScalar(pair.key) && !isMergeKey(pair.key) && String(pair.key.value) === String(part)) {
      return { key: pair.key, value: pair.value ?? undefined }
    }
  }
  for (const pair of pairs) {
    if (!isMergeKey(pair.key)) continue
    const sources = deref(doc, pair.value)
    for (const source of isSeq(sources) ? sources.items as Node[] : [sources]) {
      const found = child(doc, source, part)
      if (found !== undefined) return found
    }
  }
  return undefined
}
