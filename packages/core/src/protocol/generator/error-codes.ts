// Kafka's error codes live in Java (org.apache.kafka.common.protocol.Errors), not in the JSON
// definitions: DumpErrors.java asks the pinned jars for them, and this module turns the answer
// into generated/error-codes.ts.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { KproxyError } from '../../kproxy-error.ts'
import { banner } from './banner.ts'
import { tsString } from './emit-names.ts'

export interface ErrorRecord {
  code: number
  name: string
  retriable: boolean
  message: string
}

export function dumpErrors (libDir: string, java = process.env.JAVA ?? 'java'): ErrorRecord[] {
  const program = join(import.meta.dirname, 'DumpErrors.java')
  const run = spawnSync(java, ['-cp', join(libDir, '*'), program], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error !== undefined ? run.error.message : `exit ${String(run.status)}: ${run.stderr.trim().split('\n').slice(0, 3).join(' ')}`
    throw new KproxyError('KPROXY_ERR_GENERATOR', `could not list Kafka's error codes with \`${java} DumpErrors.java\` (${why}); install Java 17+ or set JAVA to its path.`)
  }
  const records = JSON.parse(run.stdout) as ErrorRecord[]
  if (!Array.isArray(records) || records.length < 50) throw new KproxyError('KPROXY_ERR_GENERATOR', 'DumpErrors.java printed no error codes; the Kafka jars are incomplete, run `pnpm exec kproxy sandbox fetch` again.')
  return records
}

export function emitErrorCodes (records: ErrorRecord[], kafkaVersion: string): string {
  const sorted = [...records].sort((a, b) => a.code - b.code)
  const out = [banner(kafkaVersion, 'org.apache.kafka.common.protocol.Errors\n// (listed by generator/DumpErrors.java)', 'error codes')]
  out.push('// Kafka\'s error codes: name, whether the client may retry (the exception is a')
  out.push('// RetriableException) and the default message, as the broker of this release knows them.')
  out.push('')
  out.push('export interface KafkaErrorInfo {')
  out.push('  readonly code: number')
  out.push('  readonly name: string')
  out.push('  readonly retriable: boolean')
  out.push('  readonly message: string')
  out.push('}')
  out.push('')
  out.push('export const KAFKA_ERRORS: readonly KafkaErrorInfo[] = [')
  sorted.forEach((e, i) => {
    out.push(`  { code: ${e.code}, name: ${tsString(e.name)}, retriable: ${e.retriable}, message: ${tsString(e.message)} }${i < sorted.length - 1 ? ',' : ''}`)
  })
  out.push(']')
  out.push('')
  out.push('export const ErrorCode = {')
  sorted.forEach((e, i) => out.push(`  ${e.name}: ${e.code}${i < sorted.length - 1 ? ',' : ''}`))
  out.push('} as const')
  out.push('')
  out.push('const byCode = new Map<number, KafkaErrorInfo>(KAFKA_ERRORS.map(e => [e.code, e]))')
  out.push('const byName = new Map<string, KafkaErrorInfo>(KAFKA_ERRORS.map(e => [e.name, e]))')
  out.push('')
  out.push('export function errorByCode (code: number): KafkaErrorInfo | undefined {')
  out.push('  return byCode.get(code)')
  out.push('}')
  out.push('')
  out.push('export function errorByName (name: string): KafkaErrorInfo | undefined {')
  out.push('  return byName.get(name)')
  out.push('}')
  return out.join('\n') + '\n'
}
