// The four SCRAM messages (RFC 5802 section 7) with the character classes Kafka's
// ScramMessages accepts: names, values and extensions are 7-bit ASCII; a username carries ','
// and '=' as '=2C' and '=3D'; only the gs2 flag 'n' (no channel binding) is supported.
//
//   client-first  = "n," ["a=" saslname] "," "n=" saslname ",r=" nonce *("," ext-name "=" value)
//   server-first  = "r=" nonce ",s=" base64(salt) ",i=" iterations *("," ext)
//   client-final  = "c=" base64(gs2-header) ",r=" nonce *("," ext) ",p=" base64(proof)
//   server-final  = ("e=" value-safe / "v=" base64(signature)) *("," ext)
//
// Differences from Kafka, both toward the RFC: a reserved 'm=' attribute is refused (RFC 5802
// says it MUST fail; Kafka would parse it and then fail the proof), and the AuthMessage is
// built from the bytes as received rather than re-serialised (identical for every client that
// sends at most one extension, which is all of them).

// [\x01-\x7F] minus the excluded characters, as Java's character-class subtraction writes it.
const SAFE = String.raw`[\x01-\x2B\x2D-\x3C\x3E-\x7F]`
const SASLNAME = String.raw`(?:${SAFE}|=2C|=3D)+`
const VALUE = String.raw`[\x01-\x2B\x2D-\x7F]+`
const PRINTABLE = String.raw`[\x21-\x2B\x2D-\x7E]+`
const B64 = '[A-Za-z0-9+/]'
const BASE64 = `(?:${B64}{4})*(?:${B64}{3}=|${B64}{2}==)?`
const EXTENSIONS = `(?:,[A-Za-z]+=${VALUE})*`

const CLIENT_FIRST = new RegExp(`^n,(?:a=(?<authzid>${SASLNAME}))?,(?<bare>n=(?<saslname>${SASLNAME}),r=(?<nonce>${PRINTABLE})(?<extensions>${EXTENSIONS}))$`)
const SERVER_FIRST = new RegExp(`^r=(?<nonce>${PRINTABLE}),s=(?<salt>${BASE64}),i=(?<iterations>[0-9]+)${EXTENSIONS}$`)
const CLIENT_FINAL = new RegExp(`^(?<withoutProof>c=(?<channel>${BASE64}),r=(?<nonce>${PRINTABLE})${EXTENSIONS}),p=(?<proof>${BASE64})$`)
const SERVER_FINAL = new RegExp(`^(?:e=(?<error>${SAFE}+)|v=(?<signature>${BASE64}))${EXTENSIONS}$`)

export interface ClientFirstMessage {
  // '' when the client named none
  readonly authzid: string
  readonly username: string
  readonly nonce: string
  readonly extensions: ReadonlyMap<string, string>
  // client-first-message-bare, as received: the first part of the AuthMessage
  readonly bare: string
}

export interface ServerFirstMessage {
  readonly nonce: string
  readonly salt: Buffer
  readonly iterations: number
  readonly text: string
}

export interface ClientFinalMessage {
  readonly channelBinding: Buffer
  readonly nonce: string
  readonly proof: Buffer
  readonly withoutProof: string
}

export type ServerFinalMessage =
  | { readonly kind: 'signature', readonly signature: Buffer }
  | { readonly kind: 'error', readonly error: string }

// Parsers return a message or the reason it is malformed (the reason never echoes the input:
// it may hold a password typed into the wrong field).
export type Parsed<T> = { ok: true, message: T } | { ok: false, reason: string }

// RFC 5802 5.1: ',' and '=' travel as '=2C' and '=3D'; the grammar above already refused any
// other '=' sequence, which Kafka's ScramFormatter.username refuses too.
export function saslNameToUsername (saslName: string): string {
  return saslName.replace(/=2C|=3D/g, m => m === '=2C' ? ',' : '=')
}

export function usernameToSaslName (username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

export function parseClientFirst (text: string): Parsed<ClientFirstMessage> {
  if (text.startsWith('n,') && /^n,(?:a=[^,]*)?,m=/.test(text)) return { ok: false, reason: "the reserved 'm=' attribute is not supported" }
  const m = CLIENT_FIRST.exec(text)
  if (m === null) return { ok: false, reason: 'invalid SCRAM client first message format' }
  const g = m.groups!
  return {
    ok: true,
    message: {
      authzid: g.authzid === undefined ? '' : saslNameToUsername(g.authzid),
      username: saslNameToUsername(g.saslname!),
      nonce: g.nonce!,
      extensions: parseExtensions(g.extensions!),
      bare: g.bare!
    }
  }
}

// Kafka's Utils.parseMap: split at ',', then each at its first '='; a later duplicate wins.
function parseExtensions (text: string): Map<string, string> {
  const out = new Map<string, string>()
  if (text === '') return out
  for (const item of text.slice(1).split(',')) {
    const eq = item.indexOf('=')
    out.set(item.slice(0, eq), item.slice(eq + 1))
  }
  return out
}

export function formatClientFirst (username: string, nonce: string, extensions: ReadonlyMap<string, string> = new Map()): { text: string, bare: string } {
  let bare = `n=${usernameToSaslName(username)},r=${nonce}`
  for (const [k, v] of extensions) bare += `,${k}=${v}`
  return { text: `n,,${bare}`, bare }
}

export function parseServerFirst (text: string): Parsed<ServerFirstMessage> {
  const m = SERVER_FIRST.exec(text)
  if (m === null) return { ok: false, reason: 'invalid SCRAM server first message format' }
  const iterations = Number(m.groups!.iterations)
  if (!Number.isSafeInteger(iterations) || iterations <= 0 || iterations > 0x7fffffff) {
    return { ok: false, reason: 'invalid SCRAM server first message format: invalid iterations' }
  }
  return { ok: true, message: { nonce: m.groups!.nonce!, salt: Buffer.from(m.groups!.salt!, 'base64'), iterations, text } }
}

export function formatServerFirst (nonce: string, salt: Buffer, iterations: number): string {
  return `r=${nonce},s=${salt.toString('base64')},i=${iterations}`
}

export function parseClientFinal (text: string): Parsed<ClientFinalMessage> {
  const m = CLIENT_FINAL.exec(text)
  if (m === null) return { ok: false, reason: 'invalid SCRAM client final message format' }
  const g = m.groups!
  return {
    ok: true,
    message: { channelBinding: Buffer.from(g.channel!, 'base64'), nonce: g.nonce!, proof: Buffer.from(g.proof!, 'base64'), withoutProof: g.withoutProof! }
  }
}

// 'biws' is base64('n,,'): the gs2 header without channel binding and without authzid.
export function formatClientFinalWithoutProof (nonce: string): string {
  return `c=biws,r=${nonce}`
}

export function parseServerFinal (text: string): Parsed<ServerFinalMessage> {
  const m = SERVER_FINAL.exec(text)
  if (m === null) return { ok: false, reason: 'invalid SCRAM server final message format' }
  const g = m.groups!
  if (g.error !== undefined) return { ok: true, message: { kind: 'error', error: g.error } }
  return { ok: true, message: { kind: 'signature', signature: Buffer.from(g.signature!, 'base64') } }
}

export function formatServerFinal (signature: Buffer): string {
  return `v=${signature.toString('base64')}`
}

export function authMessage (clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): string {
  return `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
}
