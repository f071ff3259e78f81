// `kproxy certs` as a user runs it: the real binary, exit codes, stdout and stderr.
import t from 'tap'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { kproxy } from '../helpers/run-kproxy.ts'


const root = t.testdir()
const ca = join(root, 'ca')

t.test('init, then issue several names: paths on stdout, no key material anywhere', async t => {
  const init = await kproxy('certs', 'init', '--dir', ca, '--cn', 'cli CA', '--days', '30', '--key-size', '2048')
  t.equal(init.code, 0, init.stderr)
  t.equal(init.stdout, `${join(ca, 'ca.key')}\n${join(ca, 'ca.crt')}\n`)
  t.equal(statSync(join(ca, 'ca.key')).mode & 0o777, 0o600)

  const out = join(root, 'out')
  const issue = await kproxy('certs', 'issue', '--ca', ca, '--name', 'a,b', '--name', 'c', '--server', '--client', '--san', 'DNS:{name}.local,IP:127.0.0.1', '--san', 'DNS:localhost', '--days', '5', '--out', out)
  t.equal(issue.code, 0, issue.stderr)
  t.equal(issue.stdout, ['a.key', 'a.crt', 'b.key', 'b.crt', 'c.key', 'c.crt', 'ca.crt'].map(f => `${join(out, f)}\n`).join(''))
  t.same(readdirSync(out).sort(), ['a.crt', 'a.key', 'b.crt', 'b.key', 'c.crt', 'c.key', 'ca.crt'])
  for (const run of [init, issue]) {
    t.notMatch(run.stdout + run.stderr, /PRIVATE KEY|CERTIFICATE-----/, 'no PEM printed')
  }
})

t.test('usage errors exit 2 with the usage text', async t => {
  const cases: string[][] = [
    ['certs'],
    ['certs', 'frobnicate'],
    ['certs', 'init'],
    ['certs', 'init', '--dir', join(root, 'x'), '--bogus'],
    ['certs', 'init', '--dir', join(root, 'x'), '--cn', ' '],
    ['certs', 'issue', '--name', 'a', '--client', '--out', join(root, 'x')],
    ['certs', 'issue', '--ca', ca, '--client', '--out', join(root, 'x')],
    ['certs', 'issue', '--ca', ca, '--name', 'a', '--client'],
    ['certs', 'issue', '--ca', ca, '--name', 'a', '--out', join(root, 'x')],
    ['certs', 'issue', '--ca', ca, '--name', 'a', '--client', '--out', join(root, 'x'), 'extra']
  ]
  for (const args of cases) {
    const run = await kproxy(...args)
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, /^kproxy certs: .+\n\nUsage: kproxy certs/, 'one line, then the usage')
  }
  t.notOk(existsSync(join(root, 'x')))
  const help = await kproxy('certs', '--help')
  t.equal(help.code, 0)
  t.match(help.stdout, /kproxy certs <init\|issue>/)
})

t.test('bad input exits 1 with one coded sentence and writes nothing', async t => {
  // An output directory holds a copy of ca.crt but not the CA's key.
  const notCaDir = join(root, 'out')
  const x = join(root, 'x')
  const cases: Array<[string, string[]]> = [
    ['KPROXY_ERR_CERTS_CA_MISSING', ['issue', '--ca', join(root, 'missing'), '--name', 'a', '--client', '--out', x]],
    ['KPROXY_ERR_CERTS_CA_MISSING', ['issue', '--ca', notCaDir, '--name', 'a', '--client', '--out', x]],
    ['KPROXY_ERR_CERTS_SAN', ['issue', '--ca', ca, '--name', 'a', '--server', '--san', 'DNS:ok.local,bad', '--out', x]],
    ['KPROXY_ERR_CERTS_SAN', ['issue', '--ca', ca, '--name', 'a', '--server', '--san', 'IP:999.0.0.1', '--out', x]],
    ['KPROXY_ERR_CERTS_KEY_SIZE', ['issue', '--ca', ca, '--name', 'a', '--client', '--key-size', '1024', '--out', x]],
    ['KPROXY_ERR_CERTS_KEY_SIZE', ['init', '--dir', x, '--key-size', 'huge']],
    ['KPROXY_ERR_CERTS_DAYS', ['issue', '--ca', ca, '--name', 'a', '--client', '--days', '0', '--out', x]],
    ['KPROXY_ERR_CERTS_DAYS', ['issue', '--ca', ca, '--name', 'a', '--client', '--days=-3', '--out', x]],
    ['KPROXY_ERR_CERTS_DAYS', ['init', '--dir', x, '--days', '0']],
    ['KPROXY_ERR_CERTS_NAME', ['issue', '--ca', ca, '--name', 'a,a', '--client', '--out', x]],
    ['KPROXY_ERR_CERTS_EXISTS', ['init', '--dir', ca]],
    ['KPROXY_ERR_CERTS_EXISTS', ['issue', '--ca', ca, '--name', 'b', '--client', '--out', join(root, 'out')]]
  ]
  const before = readFileSync(join(root, 'out', 'b.crt'), 'utf8')
  for (const [code, args] of cases) {
    const run = await kproxy('certs', ...args)
    t.equal(run.code, 1, `${code}: ${args.join(' ')}`)
    t.match(run.stderr, new RegExp(`^kproxy: [^\\n]+\\. \\[${code}\\]\\n$`), `one sentence and the code: ${run.stderr.trim()}`)
    t.equal(run.stdout, '')
  }
  t.notOk(existsSync(x), 'nothing written for bad input')
  t.equal(readFileSync(join(root, 'out', 'b.crt'), 'utf8'), before, 'an existing file stays as it was')
})

t.test('a leaf certificate where the CA should be', async t => {
  const dir = t.testdir({ 'ca.crt': readFileSync(join(root, 'out', 'a.crt')), 'ca.key': readFileSync(join(root, 'out', 'a.key')) })
  const run = await kproxy('certs', 'issue', '--ca', dir, '--name', 'z', '--client', '--out', join(root, 'x'))
  t.equal(run.code, 1)
  t.match(run.stderr, /is not a CA certificate .* \[KPROXY_ERR_CERTS_NOT_CA\]\n$/)
})

t.test('--force replaces existing files', async t => {
  const before = readFileSync(join(ca, 'ca.crt'), 'utf8')
  const run = await kproxy('certs', 'init', '--dir', ca, '--force')
  t.equal(run.code, 0, run.stderr)
  t.not(readFileSync(join(ca, 'ca.crt'), 'utf8'), before)
  t.equal(statSync(join(ca, 'ca.key')).mode & 0o777, 0o600)
})
