// Kinds of values that several config sections use: HOST:PORT, Kafka API keys and error names,
// file paths, TLS versions, DNS names. Each is a fresh TypeBox schema (a key's metadata is attached
// to its schema object, so two keys never share one) with the check that JSON Schema cannot do.
import { Type } from 'typebox'
import type { TArray, TBoolean, TInteger, TNull, TNumber, TString, TUnion, TUnsafe } from 'typebox'
import { API_TABLE, apiByKey, apiByName } from '../../protocol/api-keys.ts'
import { errorByCode, errorByName, KAFKA_ERRORS } from '../../protocol/generated/error-codes.ts'
import { parseHostPort } from '../host-port.ts'

export const MAX_API_KEY = API_TABLE.length - 1

export function int (min: number, max: number, dflt?: number): TInteger {
  return Type.Integer({ minimum: min, maximum: max, ...(dflt !== undefined ? { default: dflt } : {}) })
}

export function num (min: number, max: number): TNumber {
  return Type.Number({ minimum: min, maximum: max })
}

export function bool (dflt?: boolean): TBoolean {
  return Type.Boolean(dflt !== undefined ? { default: dflt } : {})
}

// One of a list of words; in JSON Schema an enum, which editors offer as completions.
export function literals<const T extends readonly string[]> (values: T, dflt?: T[number]): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(dflt !== undefined ? { default: dflt } : {}) })
}

export function filePath (): TString {
  // NUL cannot be part of a path; JSON Schema says "non-empty" and the check says the rest.
  return Type.String({ minLength: 1, pattern: '^[^\\u0000]+$' })
}

// 'host:port', '[::1]:9092'. The pattern is what an editor can check; parseHostPort has the last word.
export function hostPort (): TString {
  return Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]]+):[0-9]{1,5}$' })
}

export function checkHostPort (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const hp = parseHostPort(value)
  return typeof hp === 'string' ? hp : undefined
}

export const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

export function dnsName (): TString {
  return Type.String({ pattern: DNS_NAME.source })
}

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const

// An API key by number or by Kafka's name for it ('Produce').
export function apiKeyRef (): TUnion<[TUnsafe<string>, TInteger]> {
  return Type.Union([literals(API_TABLE.filter(a => a !== undefined).map(a => a.name)), Type.Integer({ minimum: 0, maximum: MAX_API_KEY })])
}

export function apiKeyList (): TArray<ReturnType<typeof apiKeyRef>> {
  return Type.Array(apiKeyRef())
}

export const API_KEY_LIST_ALLOWED = `a list of API keys (0..${MAX_API_KEY}) or names such as Produce`

export function checkApiKeyList (value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined
  for (const item of value) {
    const known = typeof item === 'number' ? Number.isInteger(item) && apiByKey(item) !== undefined : typeof item === 'string' && apiByName(item) !== undefined
    if (!known) return `'${String(item)}' is not a Kafka API key`
  }
  return undefined
}

export function apiKeyNumbers (list: ReadonlyArray<string | number>): number[] {
  return list.map(item => typeof item === 'number' ? item : apiByName(item)!.apiKey)
}

// A Kafka error by name ('NOT_LEADER_OR_FOLLOWER') or code (6); NONE is not an error.
export function kafkaErrorRef (): TUnion<[TUnsafe<string>, TInteger]> {
  return Type.Union([literals(KAFKA_ERRORS.filter(e => e.code !== 0).map(e => e.name)), Type.Integer({ minimum: -1, maximum: 32767 })])
}

export function checkKafkaError (value: unknown): string | undefined {
  if (typeof value === 'string' && errorByName(value) === undefined) return `'${value}' is not a Kafka error name`
  if (typeof value === 'number' && (errorByCode(value) === undefined || value === 0)) return `${value} is not a Kafka error code`
  return undefined
}

export function kafkaErrorCode (ref: string | number): number {
  return typeof ref === 'number' ? ref : errorByName(ref)!.code
}

// A topic name, a glob ('orders.*') or a /regular expression/.
export function topicPattern (): TString {
  return Type.String({ minLength: 1 })
}

export function checkTopicPattern (value: unknown): string | undefined {
  if (typeof value !== 'string' || !(value.length > 2 && value.startsWith('/') && value.endsWith('/'))) return undefined
  try {
    new RegExp(value.slice(1, -1)) // eslint-disable-line no-new
  } catch (err) {
    return `${value} is not a valid regular expression (${(err as Error).message})`
  }
  return undefined
}

export function nullType (): TNull {
  return Type.Null()
}

// The admin API's bearer token: long enough not to be guessed over HTTP, short enough to paste,
// and only characters an HTTP header carries. A sentence saying what is wrong, or null.
export const MIN_ADMIN_TOKEN_LENGTH = 16
export function adminTokenProblem (token: string): string | null {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) return `it has ${token.length} characters; use at least ${MIN_ADMIN_TOKEN_LENGTH} (e.g. \`openssl rand -hex 24\`)`
  if (!/^[\x21-\x7e]+$/.test(token)) return 'it may only hold printable ASCII characters without spaces (it travels in an HTTP header)'
  return null
}
