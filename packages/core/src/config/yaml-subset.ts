// A small, strict YAML subset for kproxy's config file (no YAML library on the design card).
//
// Accepted:
//   document   := (comment | blank | '---')* block
//   block      := mapping | sequence                    (all entries at one indentation)
//   mapping    := (key ':' (' ' value)? NL nested?)+    nested = deeper block, or a sequence at the
//                                                       same indentation as the key
//   sequence   := ('-' (' ' (value | key ':' ...))? NL nested?)+
//   value      := flow-seq | scalar
//   flow-seq   := '[' (scalar (',' scalar)*)? ']'      on one line, no nesting
//   scalar     := plain | 'single ''quoted''' | "double \"quoted\" \n \t \\ \uXXXX"
//   plain      := null | ~ | true | false | integer | float | any other text
//   comment    := '#' to end of line, at line start or after whitespace
// Rejected with line and column: tabs in indentation, anchors (&), aliases (*), tags (!), block
// scalars (| >), flow mappings ({}), multi-line flow sequences, duplicate keys, bad indentation.
import { KproxyError } from '../kproxy-error.ts'

export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue }

export class YamlSubsetError extends KproxyError {
  readonly line: number
  readonly column: number
  constructor (file: string, line: number, column: number, message: string) {
    super('KPROXY_ERR_CONFIG', `${file}:${line}:${column}: ${message}`)
    this.line = line
    this.column = column
  }
}

interface Line {
  no: number // 1-based
  indent: number // column of the first content character, 0-based
  text: string // content without indentation and comment, right-trimmed
}

class Parser {
  readonly file: string
  readonly lines: Line[]
  pos = 0

  constructor (file: string, lines: Line[]) {
    this.file = file
    this.lines = lines
  }

  fail (line: number, column0: number, message: string): never {
    throw new YamlSubsetError(this.file, line, column0 + 1, message)
  }

  parseBlock (indent: number): YamlValue {
    const first = this.lines[this.pos]!
    if (isSequenceItem(first.text)) return this.parseSequence(first.indent)
    return this.parseMapping(indent)
  }

  parseMapping (indent: number): YamlValue {
    const out: { [key: string]: YamlValue } = {}
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!
      if (line.indent < indent) break
      if (line.indent > indent) this.fail(line.no, line.indent, `unexpected indentation (expected ${indent} spaces)`)
      if (isSequenceItem(line.text)) this.fail(line.no, line.indent, 'a sequence item where a mapping key was expected')
      this.pos++
      const { key, rest, restColumn } = this.splitKey(line, line.text, line.indent)
      if (Object.hasOwn(out, key)) this.fail(line.no, line.indent, `duplicate key '${key}'`)
      out[key] = this.valueAfterKey(line, rest, restColumn, indent, true)
    }
    return out
  }

  parseSequence (indent: number): YamlValue {
    const out: YamlValue[] = []
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!
      if (line.indent < indent) break
      if (line.indent > indent) this.fail(line.no, line.indent, `unexpected indentation (expected ${indent} spaces)`)
      if (!isSequenceItem(line.text)) break
      this.pos++
      const rest = line.text.slice(1).trimStart()
      const restColumn = line.indent + line.text.length - line.text.slice(1).trimStart().length
      if (rest === '') {
        out.push(this.nestedOrNull(indent, false))
      } else if (isSequenceItem(rest)) {
        this.fail(line.no, restColumn, 'a sequence inside a sequence item on one line is not supported; use [a, b] or nest it on its own lines')
      } else if (findKeyColon(rest) >= 0 && rest[0] !== '[') {
        // "- key: value" starts a mapping whose keys sit at the column of "key".
        this.lines[this.pos - 1] = { no: line.no, indent: restColumn, text: rest }
        this.pos--
        out.push(this.parseMapping(restColumn))
      } else {
        out.push(this.parseValue(line.no, rest, restColumn))
      }
    }
    return out
  }

  // After "key:" — an inline value, or a nested block on the following lines.
  valueAfterKey (line: Line, rest: string, restColumn: number, indent: number, allowSameIndentSeq: boolean): YamlValue {
    if (rest !== '') return this.parseValue(line.no, rest, restColumn)
    return this.nestedOrNull(indent, allowSameIndentSeq)
  }

  nestedOrNull (indent: number, allowSameIndentSeq: boolean): YamlValue {
    const next = this.lines[this.pos]
    if (next === undefined) return null
    if (next.indent > indent) return this.parseBlock(next.indent)
    if (allowSameIndentSeq && next.indent === indent && isSequenceItem(next.text)) return this.parseSequence(indent)
    return null
  }

  splitKey (line: Line, text: string, column: number): { key: string, rest: string, restColumn: number } {
    const colon = findKeyColon(text)
    if (colon < 0) this.fail(line.no, column, `expected 'key: value', found '${text}'`)
    const rawKey = text.slice(0, colon).trimEnd()
    if (rawKey === '') this.fail(line.no, column, 'empty key')
    const key = rawKey[0] === '"' || rawKey[0] === '\'' ? String(this.parseQuoted(line.no, rawKey, column, true)) : rawKey
    checkPlainStart(this, line.no, rawKey, column)
    if (key === '__proto__') this.fail(line.no, column, "the key '__proto__' is not allowed")
    const after = text.slice(colon + 1)
    const rest = after.trimStart()
    return { key, rest, restColumn: column + colon + 1 + (after.length - rest.length) }
  }

  parseValue (lineNo: number, text: string, column: number): YamlValue {
    if (text[0] === '[') return this.parseFlowSequence(lineNo, text, column)
    return this.parseScalar(lineNo, text, column)
  }

  parseFlowSequence (lineNo: number, text: string, column: number): YamlValue[] {
    if (text[text.length - 1] !== ']') {
      this.fail(lineNo, column, 'a flow sequence must open and close on one line: [a, b]')
    }
    const inner = text.slice(1, -1)
    const out: YamlValue[] = []
    if (inner.trim() === '') return out
    let start = 0
    let quote = ''
    for (let i = 0; i <= inner.length; i++) {
      const c = inner[i]
      if (quote !== '') {
        if (c === '\\' && quote === '"') { i++; continue }
        if (c === quote) {
          if (quote === '\'' && inner[i + 1] === '\'') { i++; continue }
          quote = ''
        }
        continue
      }
      if (c === '"' || c === '\'') { quote = c; continue }
      if (c === '[' || c === ']' || c === '{' || c === '}') this.fail(lineNo, column + 1 + i, 'nested flow collections are not supported')
      if (c === ',' || i === inner.length) {
        const raw = inner.slice(start, i)
        const item = raw.trim()
        const itemColumn = column + 1 + start + (raw.length - raw.trimStart().length)
        if (item === '') this.fail(lineNo, itemColumn, 'empty item in a flow sequence')
        out.push(this.parseScalar(lineNo, item, itemColumn))
        start = i + 1
      }
    }
    if (quote !== '') this.fail(lineNo, column, 'unterminated quoted string')
    return out
  }

  parseScalar (lineNo: number, text: string, column: number): YamlValue {
    const c = text[0]
    if (c === '"' || c === '\'') return this.parseQuoted(lineNo, text, column, false)
    checkPlainStart(this, lineNo, text, column)
    if (text === 'null' || text === '~' || text === 'Null' || text === 'NULL') return null
    if (text === 'true' || text === 'True' || text === 'TRUE') return true
    if (text === 'false' || text === 'False' || text === 'FALSE') return false
    if (/^[-+]?\d+$/.test(text)) return Number(text)
    if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text)
    if (text.includes(': ')) this.fail(lineNo, column + text.indexOf(': '), "': ' inside a plain value; quote the value")
    return text
  }

  parseQuoted (lineNo: number, text: string, column: number, isKey: boolean): string {
    const q = text[0]!
    let out = ''
    let i = 1
    for (; i < text.length; i++) {
      const c = text[i]!
      if (q === '\'' && c === '\'') {
        if (text[i + 1] === '\'') { out += '\''; i++; continue }
        break
      }
      if (q === '"' && c === '"') break
      if (q === '"' && c === '\\') {
        const e = text[++i]
        switch (e) {
          case '"': out += '"'; break
          case '\\': out += '\\'; break
          case '/': out += '/'; break
          case 'n': out += '\n'; break
          case 't': out += '\t'; break
          case 'r': out += '\r'; break
          case '0': out += '\0'; break
          case 'u': {
            const hex = text.slice(i + 1, i + 5)
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(lineNo, column + i, 'bad \\u escape (expected 4 hex digits)')
            out += String.fromCharCode(parseInt(hex, 16))
            i += 4
            break
          }
          default: this.fail(lineNo, column + i, `unsupported escape '\\${e ?? ''}'`)
        }
        continue
      }
      out += c
    }
    if (i >= text.length) this.fail(lineNo, column, 'unterminated quoted string (quoted strings must end on the same line)')
    const trailing = text.slice(i + 1)
    if (trailing.trim() !== '' && !isKey) this.fail(lineNo, column + i + 1, `unexpected text after the quoted string: '${trailing.trim()}'`)
    return out
  }
}

function checkPlainStart (p: Parser, lineNo: number, text: string, column: number): void {
  const c = text[0]
  const what: Record<string, string> = {
    '&': 'anchors (&) are not supported',
    '*': 'aliases (*) are not supported',
    '!': 'tags (!) are not supported',
    '|': 'block scalars (|) are not supported; use a quoted string',
    '>': 'block scalars (>) are not supported; use a quoted string',
    '{': 'flow mappings ({}) are not supported; use a block mapping',
    '%': 'directives (%) are not supported',
    '@': "'@' cannot start a plain value; quote it",
    '`': "'`' cannot start a plain value; quote it"
  }
  if (c !== undefined && what[c] !== undefined) p.fail(lineNo, column, what[c])
}

function isSequenceItem (text: string): boolean {
  return text === '-' || text.startsWith('- ')
}

// Index of the ':' that ends a mapping key (followed by a space or the end of the line), outside
// quotes; -1 if none.
function findKeyColon (text: string): number {
  let quote = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote !== '') {
      if (c === '\\' && quote === '"') { i++; continue }
      if (c === quote) quote = ''
      continue
    }
    if ((c === '"' || c === '\'') && i === 0) { quote = c; continue }
    if (c === '[' && i === 0) return -1
    if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i
  }
  return -1
}

// A '#' starts a comment at the line start or after whitespace, outside quotes.
function stripComment (text: string): string {
  let quote = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote !== '') {
      if (c === '\\' && quote === '"') { i++; continue }
      if (c === quote) quote = ''
      continue
    }
    if (c === '"' || c === '\'') {
      const prev = text[i - 1]
      if (i === 0 || prev === ' ' || prev === '[' || prev === ',' || prev === ':' || prev === '-') quote = c
      continue
    }
    if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) return text.slice(0, i)
  }
  return text
}

export function parseYamlSubset (source: string, file = '<config>'): YamlValue {
  const lines: Line[] = []
  const raw = source.replace(/^\uFEFF/, '').split(/\r?\n/)
  let sawContent = false
  for (let i = 0; i < raw.length; i++) {
    const text = raw[i]!
    let indent = 0
    while (indent < text.length && (text[indent] === ' ' || text[indent] === '\t')) {
      if (text[indent] === '\t') throw new YamlSubsetError(file, i + 1, indent + 1, 'tabs are not allowed for indentation; use spaces')
      indent++
    }
    const content = stripComment(text.slice(indent)).trimEnd()
    if (content === '') continue
    if (content === '---' && indent === 0 && !sawContent) continue
    if (content === '---' || content === '...') {
      throw new YamlSubsetError(file, i + 1, 1, 'only one YAML document per file is supported')
    }
    sawContent = true
    lines.push({ no: i + 1, indent, text: content })
  }
  if (lines.length === 0) return null
  const p = new Parser(file, lines)
  const first = lines[0]!
  if (first.indent !== 0) p.fail(first.no, first.indent, 'the document must start at column 1')
  // A single scalar or flow sequence as the whole document.
  if (lines.length === 1 && !isSequenceItem(first.text) && findKeyColon(first.text) < 0) {
    return p.parseValue(first.no, first.text, 0)
  }
  const value = p.parseBlock(0)
  if (p.pos < lines.length) {
    const l = lines[p.pos]!
    p.fail(l.no, l.indent, 'unexpected content (check the indentation)')
  }
  return value
}
