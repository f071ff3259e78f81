// The generator end to end on the pinned jar, into a temp directory: --check passes on a fresh
// output, notices a changed, a missing and an extra file, and the committed output is current.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_OUT, defaultJarPath, parseArgs, runGenerator } from '../../../src/protocol/generator/main.ts'
import { KAFKA_ERRORS } from '../../../src/protocol/generated/error-codes.ts'
import { BRIDGE_KAFKA_VERSION } from '../../../src/kafka-release.ts'

const jar = defaultJarPath()
const oldJar = defaultJarPath(BRIDGE_KAFKA_VERSION)
const haveJar = existsSync(jar) && existsSync(oldJar)
// The committed error table stands in for asking Java (java-interop.test.ts checks it against the jar).
const errors = KAFKA_ERRORS.map(e => ({ ...e }))

t.test('arguments', async t => {
  t.same(parseArgs([]), { check: false, out: DEFAULT_OUT, jar, oldJar })
  t.match(oldJar, /kafka\/3\.9\.2\/lib\/kafka-clients-3\.9\.2\.jar$/)
  const o = parseArgs(['--check', '--out', 'x/y', '--jar', '/j.jar', '--old-jar', '/o.jar'])
  t.equal(o.check, true)
  t.match(o.out, /x\/y$/)
  t.equal(o.jar, '/j.jar')
  t.equal(o.oldJar, '/o.jar')
  t.throws(() => parseArgs(['--frobnicate']), { code: 'KPROXY_ERR_USAGE', message: /--frobnicate/ })
  t.throws(() => parseArgs(['--out']), { code: 'KPROXY_ERR_USAGE' })
  const saved = process.env.KPROXY_CACHE
  process.env.KPROXY_CACHE = '/somewhere'
  t.equal(defaultJarPath('1.2.3'), '/somewhere/kafka/1.2.3/lib/kafka-clients-1.2.3.jar')
  if (saved === undefined) delete process.env.KPROXY_CACHE
  else process.env.KPROXY_CACHE = saved
})

t.test('a missing jar says what to run', async t => {
  t.throws(() => runGenerator({ check: true, out: tmpdir(), jar: '/nonexistent/kafka-clients.jar', oldJar, errors }), {
    code: 'KPROXY_ERR_KAFKA_JAR_MISSING', message: /run `pnpm exec kproxy sandbox fetch` first/
  })
  t.throws(() => runGenerator({ check: true, out: tmpdir(), jar, oldJar: '/nonexistent/kafka-clients-3.jar', errors }), {
    code: 'KPROXY_ERR_KAFKA_JAR_MISSING', message: /kafka-clients-3\.jar does not exist; .*Apache Kafka 3\.9\.2/
  })
  const cli = spawnSync(process.execPath, [join(import.meta.dirname, '../../../src/protocol/generator/main.ts'), '--check', '--jar', '/nonexistent/k.jar'], { encoding: 'utf8' })
  t.equal(cli.status, 1)
  t.match(cli.stderr, /KPROXY_ERR_KAFKA_JAR_MISSING: .*sandbox fetch/)
})

t.test('generate, check, and detect drift', { skip: haveJar ? false : 'the Kafka jars are not downloaded' }, async t => {
  const out = mkdtempSync(join(tmpdir(), 'kproxy-gen-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  const first = runGenerator({ check: false, out, jar, oldJar, errors })
  t.equal(first.code, 0)
  t.match(first.lines[0], /generated 202 files .* from 198 definitions of Apache Kafka 4\.3\.1 \(and 3\.9\.2 for the bridged versions\): 202 new, 0 changed, 0 removed/)
  t.same(runGenerator({ check: true, out, jar, oldJar, errors }), { code: 0, lines: ['generated code is up to date (202 files from Apache Kafka 4.3.1)'] })

  // the output is deterministic and equals what is committed
  const committed = readdirSync(DEFAULT_OUT).filter(n => n.endsWith('.ts')).sort()
  t.same(readdirSync(out).sort(), committed)
  const differing = committed.filter(n => readFileSync(join(out, n), 'utf8') !== readFileSync(join(DEFAULT_OUT, n), 'utf8'))
  t.same(differing, [], 'committed generated files are current (run `pnpm gen`)')

  writeFileSync(join(out, 'metadata-request.ts'), readFileSync(join(out, 'metadata-request.ts'), 'utf8').replace('version >= 4', 'version >= 5'))
  unlinkSync(join(out, 'fetch-response.ts'))
  writeFileSync(join(out, 'stale-message.ts'), '// left over\n')
  writeFileSync(join(out, 'notes.txt'), 'not a .ts file, not ours')
  const check = runGenerator({ check: true, out, jar, oldJar, errors })
  t.equal(check.code, 1)
  t.same(check.lines.slice(0, 3), ['differs: metadata-request.ts', 'missing: fetch-response.ts', 'extra: stale-message.ts'])
  t.match(check.lines[3], /3 generated file\(s\) are out of date .* run `pnpm gen` and commit the result/)

  const fix = runGenerator({ check: false, out, jar, oldJar, errors })
  t.match(fix.lines[0], /1 new, 1 changed, 1 removed/)
  t.equal(runGenerator({ check: true, out, jar, oldJar, errors }).code, 0)
  t.ok(existsSync(join(out, 'notes.txt')), 'files that are not .ts are left alone')
})

t.test('a different error table changes only error-codes.ts', { skip: haveJar ? false : 'the Kafka jars are not downloaded' }, async t => {
  const changed = errors.map(e => e.code === 0 ? { ...e, message: 'changed' } : e)
  const r = runGenerator({ check: true, out: DEFAULT_OUT, jar, oldJar, errors: changed })
  t.same(r.lines.slice(0, 1), ['differs: error-codes.ts'])
  t.equal(r.code, 1)
})
