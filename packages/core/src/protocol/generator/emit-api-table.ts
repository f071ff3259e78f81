// Emits generated/api-table.ts (one ApiSpec per API key, typed body maps, ApiKey constants) and
// generated/messages.ts (the codec of every definition, including the header and data ones).
import { banner } from './banner.ts'
import { codecName, dataTypeName, moduleName, tsString } from './emit-names.ts'
import { formatRange, isEmpty, specError } from './spec.ts'
import type { MessageSpec } from './spec.ts'

interface ApiPair {
  apiKey: number
  name: string
  request: MessageSpec
  response: MessageSpec
}

export function pairApis (specs: MessageSpec[]): ApiPair[] {
  const requests = new Map<number, MessageSpec>()
  const responses = new Map<number, MessageSpec>()
  for (const s of specs) {
    if (s.type === 'request') requests.set(s.apiKey as number, s)
    if (s.type === 'response') responses.set(s.apiKey as number, s)
  }
  const pairs: ApiPair[] = []
  for (const [key, request] of [...requests].sort((a, b) => a[0] - b[0])) {
    const response = responses.get(key)
    if (response === undefined) specError(request.file, `no response definition for apiKey ${key}`)
    const name = request.name.replace(/Request$/, '')
    if (response.name !== `${name}Response`) specError(response.file, `response ${response.name} does not match request ${request.name}`)
    if (request.validVersions.lo !== response.validVersions.lo || request.validVersions.hi !== response.validVersions.hi) {
      specError(response.file, 'request and response validVersions differ')
    }
    if (formatRange(request.bridgedVersions) !== formatRange(response.bridgedVersions)) specError(response.file, 'request and response bridged versions differ')
    pairs.push({ apiKey: key, name, request, response })
  }
  if (responses.size !== pairs.length) specError('common/message', 'a response without a request')
  return pairs
}

function flexMin (s: MessageSpec): number {
  return isEmpty(s.flexibleVersions) ? -1 : s.flexibleVersions.lo
}

export function emitApiTable (specs: MessageSpec[], kafkaVersion: string): string {
  const pairs = pairApis(specs)
  pairs.forEach((p, i) => { if (p.apiKey !== i) specError(p.request.file, `API keys are not contiguous (expected ${i})`) })
  const out = [banner(kafkaVersion, 'common/message/*Request.json and *Response.json')]
  out.push('import { ApiSpec } from \'../primitives/message-codec.ts\'')
  for (const p of pairs) {
    for (const s of [p.request, p.response]) {
      out.push(`import { ${codecName(s)} } from './${moduleName(s)}'`)
      out.push(`import type { ${dataTypeName(s)} } from './${moduleName(s)}'`)
    }
  }
  out.push('')
  out.push('// Every API key of this release, by name.')
  out.push('export const ApiKey = {')
  pairs.forEach((p, i) => out.push(`  ${p.name}: ${p.apiKey}${i < pairs.length - 1 ? ',' : ''}`))
  out.push('} as const')
  out.push('')
  out.push('export interface RequestBodies {')
  for (const p of pairs) out.push(`  ${p.apiKey}: ${dataTypeName(p.request)}`)
  out.push('}')
  out.push('')
  out.push('export interface ResponseBodies {')
  for (const p of pairs) out.push(`  ${p.apiKey}: ${dataTypeName(p.response)}`)
  out.push('}')
  out.push('')
  out.push('// Indexed by API key. Versions -1/-1: the release no longer supports any version of the API.')
  out.push('// bridgedMin/MaxVersion: older versions the codecs also read and write (see bridged-versions.ts).')
  out.push('export const API_TABLE: readonly ApiSpec[] = [')
  pairs.forEach((p, i) => {
    const v = p.request.validVersions
    out.push('  new ApiSpec({')
    out.push(`    apiKey: ${p.apiKey},`)
    out.push(`    name: ${tsString(p.name)},`)
    out.push(`    minVersion: ${isEmpty(v) ? -1 : v.lo},`)
    out.push(`    maxVersion: ${isEmpty(v) ? -1 : v.hi},`)
    out.push(`    requestFlexibleMin: ${flexMin(p.request)},`)
    out.push(`    responseFlexibleMin: ${flexMin(p.response)},`)
    out.push(`    listeners: [${p.request.listeners.map(tsString).join(', ')}],`)
    out.push(`    latestVersionUnstable: ${p.request.latestVersionUnstable},`)
    const b = p.request.bridgedVersions
    if (!isEmpty(b)) {
      out.push(`    bridgedMinVersion: ${b.lo},`)
      out.push(`    bridgedMaxVersion: ${b.hi},`)
    }
    out.push(`    request: ${codecName(p.request)},`)
    out.push(`    response: ${codecName(p.response)}`)
    out.push(`  })${i < pairs.length - 1 ? ',' : ''}`)
  })
  out.push(']')
  return out.join('\n') + '\n'
}

// Codecs of the definitions that are not API bodies: request/response headers and the "data"
// messages (consumer protocol subscription/assignment, control records, KRaft snapshot records).
export function emitMessageIndex (specs: MessageSpec[], kafkaVersion: string): string {
  const others = specs.filter(s => s.type === 'header' || s.type === 'data')
  const out = [banner(kafkaVersion, 'common/message/ (the definitions of type header and data)')]
  out.push('import type { MessageCodec } from \'../primitives/message-codec.ts\'')
  for (const s of others) out.push(`import { ${codecName(s)} } from './${moduleName(s)}'`)
  out.push('')
  out.push('export interface OtherMessage {')
  out.push('  readonly name: string')
  out.push('  readonly type: \'header\' | \'data\'')
  out.push('  readonly minVersion: number')
  out.push('  readonly maxVersion: number')
  out.push('  readonly flexibleMin: number')
  out.push('  readonly codec: MessageCodec<any>')
  out.push('}')
  out.push('')
  out.push('export const OTHER_MESSAGES: readonly OtherMessage[] = [')
  others.forEach((s, i) => {
    const v = s.validVersions
    out.push(`  { name: ${tsString(s.name)}, type: '${s.type}', minVersion: ${isEmpty(v) ? -1 : v.lo}, maxVersion: ${isEmpty(v) ? -1 : v.hi}, flexibleMin: ${flexMin(s)}, codec: ${codecName(s)} }${i < others.length - 1 ? ',' : ''}`)
  })
  out.push(']')
  return out.join('\n') + '\n'
}
