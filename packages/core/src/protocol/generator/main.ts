// `pnpm gen`: regenerate packages/core/src/protocol/generated/ from the pinned Kafka release.
// `pnpm gen:check`: generate in memory and compare with the committed files (exit 1 on a diff).
//
// Options: --check, --out <dir> (default: ../generated), --jar <kafka-clients jar>
// (default: ${KPROXY_CACHE:-~/.cache/kproxy}/kafka/<version>/lib/kafka-clients-<version>.jar),
// --old-jar <kafka-clients jar of the last 3.x release> (default: the same place for
// BRIDGE_KAFKA_VERSION); both are fetched and verified by `kproxy sandbox fetch`.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { BRIDGE_KAFKA_VERSION, KAFKA_VERSION } from '../../kafka-release.ts'
import { isKproxyError, KproxyError } from '../../kproxy-error.ts'
import { dumpErrors } from './error-codes.ts'
import type { ErrorRecord } from './error-codes.ts'
import { generateFiles, readSpecs } from './generate.ts'
import { Jar } from './jar.ts'

export interface GeneratorOptions {
  check: boolean
  out: string
  jar: string
  oldJar: string
  // Error codes to use instead of asking Java (tests); by default DumpErrors.java runs.
  errors?: ErrorRecord[]
}

export interface GeneratorResult {
  code: number
  lines: string[]
}

export const DEFAULT_OUT = resolve(import.meta.dirname, '..', 'generated')

export function defaultJarPath (version = KAFKA_VERSION): string {
  const cache = process.env.KPROXY_CACHE ?? join(homedir(), '.cache', 'kproxy')
  return join(cache, 'kafka', version, 'lib', `kafka-clients-${version}.jar`)
}

export function parseArgs (argv: string[]): GeneratorOptions {
  const opts: GeneratorOptions = { check: false, out: DEFAULT_OUT, jar: defaultJarPath(), oldJar: defaultJarPath(BRIDGE_KAFKA_VERSION) }
  const paths = { '--out': 'out', '--jar': 'jar', '--old-jar': 'oldJar' } as const
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--check') opts.check = true
    else if (Object.hasOwn(paths, a) && i + 1 < argv.length) opts[paths[a as keyof typeof paths]] = resolve(argv[++i])
    else throw new KproxyError('KPROXY_ERR_USAGE', `unknown generator argument ${a}; use --check, --out <dir>, --jar <kafka-clients jar>, --old-jar <kafka-clients ${BRIDGE_KAFKA_VERSION} jar>.`)
  }
  return opts
}

export function runGenerator (opts: GeneratorOptions): GeneratorResult {
  for (const [jar, version] of [[opts.jar, KAFKA_VERSION], [opts.oldJar, BRIDGE_KAFKA_VERSION]]) {
    if (!existsSync(jar)) {
      throw new KproxyError('KPROXY_ERR_KAFKA_JAR_MISSING', `${jar} does not exist; run \`pnpm exec kproxy sandbox fetch\` first to download Apache Kafka ${version}.`)
    }
  }
  const specs = readSpecs(new Jar(opts.jar))
  const old = { specs: readSpecs(new Jar(opts.oldJar)), kafkaVersion: BRIDGE_KAFKA_VERSION }
  const errors = opts.errors ?? dumpErrors(dirname(opts.jar))
  const files = generateFiles(specs, errors, KAFKA_VERSION, old)
  const existing = existsSync(opts.out) ? readdirSync(opts.out).filter(n => n.endsWith('.ts')).sort() : []
  const differ: string[] = []
  const missing: string[] = []
  for (const [name, content] of files) {
    const path = join(opts.out, name)
    if (!existsSync(path)) missing.push(name)
    else if (readFileSync(path, 'utf8') !== content) differ.push(name)
  }
  const extra = existing.filter(n => !files.has(n))
  const lines: string[] = []
  if (opts.check) {
    for (const n of differ) lines.push(`differs: ${n}`)
    for (const n of missing) lines.push(`missing: ${n}`)
    for (const n of extra) lines.push(`extra: ${n}`)
    const bad = differ.length + missing.length + extra.length
    lines.push(bad === 0
      ? `generated code is up to date (${files.size} files from Apache Kafka ${KAFKA_VERSION})`
      : `${bad} generated file(s) are out of date in ${opts.out}; run \`pnpm gen\` and commit the result.`)
    return { code: bad === 0 ? 0 : 1, lines }
  }
  mkdirSync(opts.out, { recursive: true })
  for (const n of [...differ, ...missing]) writeFileSync(join(opts.out, n), files.get(n) as string)
  for (const n of extra) rmSync(join(opts.out, n))
  lines.push(`generated ${files.size} files into ${opts.out} from ${specs.length} definitions of Apache Kafka ${KAFKA_VERSION} (and ${BRIDGE_KAFKA_VERSION} for the bridged versions): ` +
    `${missing.length} new, ${differ.length} changed, ${extra.length} removed`)
  return { code: 0, lines }
}

if (import.meta.main) {
  try {
    const result = runGenerator(parseArgs(process.argv.slice(2)))
    for (const l of result.lines) process.stdout.write(`${l}\n`)
    process.exitCode = result.code
  } catch (err) {
    if (!isKproxyError(err)) throw err
    process.stderr.write(`${err.code}: ${err.message}\n`)
    process.exitCode = 1
  }
}
