// `pnpm test`: the whole suite, as CI runs it.
//   1. tsc -b (strict type check of every package)
//   2. the committed generated codecs equal a fresh generation (pnpm gen:check), and
//      docs/errors.md lists every error code in the source
//   3. tap over unit and integration tests; unit tests with coverage (scripts/coverage-map.js), Kafka
//      JVMs lean (KPROXY_SANDBOX_JVM=lean, packages/cli/src/sandbox/jvm-profile.ts)
//   4. line coverage of packages/core/src is at least the floor below; a core file that no test
//      loaded counts as entirely uncovered
// It ends with one plain line "tests: N passed, N failed" and exits non-zero if any step failed.
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const CORE_LINE_COVERAGE_FLOOR = 85
// The suite's Kafka brokers and Java tools run C1 only with the serial collector (jvm-profile.ts):
// about half the CPU of G1 + C2 for JVMs that live seconds to minutes. Benchmarks keep the default.
process.env.KPROXY_SANDBOX_JVM ??= 'lean'
const root = resolve(import.meta.dirname, '..')
const failures: string[] = []

function run (cmd: string, args: string[], onLine?: (line: string) => void): Promise<number> {
  return new Promise(resolveRun => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', onLine ? 'pipe' : 'inherit', 'inherit'] })
    if (onLine && child.stdout) {
      let rest = ''
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk: string) => {
        process.stdout.write(chunk)
        const lines = (rest + chunk).split('\n')
        rest = lines.pop() ?? ''
        for (const line of lines) onLine(line)
      })
      child.stdout.on('end', () => { if (rest) onLine(rest) })
    }
    child.on('close', code => resolveRun(code ?? 1))
  })
}

function step (name: string): void {
  process.stdout.write(`\n== ${name}\n`)
}

step('type check (tsc -b)')
if (await run('pnpm', ['exec', 'tsc', '-b']) !== 0) failures.push('tsc -b reported type errors')

step('generated codecs are up to date (pnpm gen:check)')
if (await run('pnpm', ['run', '--silent', 'gen:check']) !== 0) failures.push('generated code differs from a fresh `pnpm gen`')

step('error codes are documented (docs/errors.md)')
if (await run('node', ['scripts/error-codes-doc.ts', '--check']) !== 0) failures.push('docs/errors.md is stale')

step('tests (tap)')
let passed = 0
let failed = 0
const tapArgs = ['exec', 'tap', '--coverage-report=json-summary', '--coverage-report=text-summary', ...process.argv.slice(2)]
const tapCode = await run('pnpm', tapArgs, line => {
  // tap's closing summary: "# { total: 12, pass: 11, fail: 1, skip: ... }"
  const m = /^# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(line)
  if (m) {
    passed = Number(m[2])
    failed = Number(m[3] ?? 0)
  }
})
if (tapCode !== 0) failures.push(`tap exited with ${tapCode}`)

step(`coverage floor: packages/core/src >= ${CORE_LINE_COVERAGE_FLOOR}% of lines`)
const coverage = checkCoreCoverage()
process.stdout.write(`${coverage.message}\n`)
if (!coverage.ok) failures.push(coverage.message)

for (const f of failures) process.stdout.write(`FAILED: ${f}\n`)
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`)
process.exitCode = failures.length === 0 ? 0 : 1

function listTs (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...listTs(p))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

function checkCoreCoverage (): { ok: boolean, message: string } {
  let summary: Record<string, { lines: { total: number, covered: number } }>
  try {
    summary = JSON.parse(readFileSync(join(root, '.tap/report/coverage-summary.json'), 'utf8'))
  } catch {
    return { ok: false, message: 'no coverage report was written (.tap/report/coverage-summary.json)' }
  }
  const coreSrc = join(root, 'packages/core/src')
  let total = 0
  let covered = 0
  const unloaded: string[] = []
  for (const file of listTs(coreSrc)) {
    const entry = summary[file]
    if (entry) {
      total += entry.lines.total
      covered += entry.lines.covered
      continue
    }
    // Never loaded by any test: count its code lines as uncovered (type-only files have none).
    const code = readFileSync(file, 'utf8').split('\n').filter(l => {
      const s = l.trim()
      return s !== '' && !s.startsWith('//') && !s.startsWith('*') && !s.startsWith('/*') &&
        !/^(export )?(interface|type) /.test(s) && !/^import /.test(s)
    }).length
    if (code > 0) {
      unloaded.push(relative(root, file))
      total += code
    }
  }
  const pct = total === 0 ? 0 : (100 * covered) / total
  const note = unloaded.length ? ` (never loaded by a test: ${unloaded.join(', ')})` : ''
  return {
    ok: pct >= CORE_LINE_COVERAGE_FLOOR,
    message: `packages/core/src line coverage ${pct.toFixed(2)}% (${covered}/${total})${note}`
  }
}
