// Kafka's message definitions are JSON with `//` line comments (and, in principle, `/* */`
// blocks). Comments are removed outside string literals only: "http://..." inside a string stays.
// Each removed comment keeps its line breaks so that JSON.parse errors still point at the right line.
import { KproxyError } from '../../kproxy-error.ts'

export function stripJsonComments (text: string): string {
  let out = ''
  let i = 0
  let copyFrom = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x22) { // "
      i++
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1 // \ escapes one char
      i++
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2f) { // //
      out += text.slice(copyFrom, i)
      while (i < text.length && text.charCodeAt(i) !== 0x0a) i++
      copyFrom = i
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) { // /*
      out += text.slice(copyFrom, i)
      const end = text.indexOf('*/', i + 2)
      if (end < 0) throw new KproxyError('KPROXY_ERR_GENERATOR', 'a /* comment in a message definition is never closed; the definition file is damaged.')
      out += text.slice(i, end + 2).replace(/[^\n]/g, '')
      i = end + 2
      copyFrom = i
    } else {
      i++
    }
  }
  return out + text.slice(copyFrom)
}

export function parseJsonWithComments (text: string, source: string): unknown {
  try {
    return JSON.parse(stripJsonComments(text))
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_GENERATOR', `${source} is not valid JSON once comments are removed: ${(err as Error).message}`, { cause: err })
  }
}
