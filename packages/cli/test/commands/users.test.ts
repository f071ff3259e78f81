// `kproxy users` as a user runs it: the real binary, stdin, exit codes, the file it leaves.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseCredentialSet } from '@kproxy/core/policy/credential-set'
import { PlainServer } from '@kproxy/core/sasl/plain-server'
import { formatPlain } from '@kproxy/core/sasl/plain-messages'
import { KPROXY, kproxyWithInput } from '../helpers/run-kproxy.ts'
import { scramLogin as scramExchange } from '../../../core/test/sasl/scram-login.ts'
import type { Run } from '../helpers/run-kproxy.ts'


async function scramLogin (file: string, user: string, password: string): Promise<string> {
  return await scramExchange(parseCredentialSet(readFileSync(file, 'utf8'), file), user, password)
}

t.test('add, list, remove with --password-stdin; the file is 0600 and holds no password', async t => {
  const dir = t.testdir()
  const file = join(dir, 'users.yaml')
  const add = await kproxyWithInput(['users', 'add', 'alice', '--file', file, '--mechanism', 'scram-sha-512', '--mechanism', 'plain', '--password-stdin'], 'alice-Secret-1\n')
  t.equal(add.code, 0, add.stderr)
  t.equal(add.stdout, 'alice\tPLAIN,SCRAM-SHA-512\n')
  t.equal(statSync(file).mode & 0o777, 0o600)
  t.notMatch(readFileSync(file, 'utf8'), /alice-Secret-1/)
  t.same(readdirSync(dir), ['users.yaml'], 'no temporary file left behind')

  t.equal((await kproxyWithInput(['users', 'add', 'bob', '--file', file, '--mechanism', 'scram-sha-256,scram-sha-512', '--iterations', '8192', '--password-stdin'], 'bob-pw')).code, 0)
  const list = await kproxyWithInput(['users', 'list', '--file', file])
  t.equal(list.code, 0)
  t.equal(list.stdout, 'alice\tPLAIN,SCRAM-SHA-512\nbob\tSCRAM-SHA-256,SCRAM-SHA-512\n')

  t.equal(await scramLogin(file, 'alice', 'alice-Secret-1'), 'complete')
  t.equal(await scramLogin(file, 'alice', 'alice-Secret-1\n'), 'refused', 'one trailing newline was dropped, not part of the password')
  const plain = await new PlainServer(parseCredentialSet(readFileSync(file, 'utf8'), file)).evaluate(formatPlain('alice', 'alice-Secret-1'))
  t.equal(plain.kind, 'complete')

  // A new password replaces only the mechanisms named.
  t.equal((await kproxyWithInput(['users', 'add', 'alice', '--file', file, '--mechanism', 'scram-sha-512', '--password-stdin'], 'new-pw')).code, 0)
  t.equal(await scramLogin(file, 'alice', 'new-pw'), 'complete')
  t.equal((await new PlainServer(parseCredentialSet(readFileSync(file, 'utf8'), file)).evaluate(formatPlain('alice', 'alice-Secret-1'))).kind, 'complete', 'PLAIN kept its password')

  const partly = await kproxyWithInput(['users', 'remove', 'bob', '--file', file, '--mechanism', 'scram-sha-256'])
  t.equal(partly.stdout, 'bob\tSCRAM-SHA-512\n')
  const gone = await kproxyWithInput(['users', 'remove', 'bob', '--file', file])
  t.equal(gone.stdout, 'bob\tremoved\n')
  t.equal((await kproxyWithInput(['users', 'list', '--file', file])).stdout, 'alice\tPLAIN,SCRAM-SHA-512\n')
  t.equal(statSync(file).mode & 0o777, 0o600)
})

t.test('errors: usage (exit 2), bad input (exit 1, one coded sentence), the file unchanged', async t => {
  const dir = t.testdir()
  const file = join(dir, 'users.yaml')
  t.equal((await kproxyWithInput(['users', 'add', 'alice', '--file', file, '--mechanism', 'plain', '--password-stdin'], 'pw')).code, 0)
  const before = readFileSync(file, 'utf8')
  for (const args of [
    ['users'], ['users', 'nope'], ['users', 'add', '--file', file, '--mechanism', 'plain'], ['users', 'add', 'x', '--mechanism', 'plain'],
    ['users', 'add', 'x', '--file', file], ['users', 'add', 'x', '--file', file, '--mechanism', 'scram-sha-1'],
    ['users', 'add', 'x', '--file', file, '--mechanism', 'plain', '--iterations', '100'], ['users', 'list'], ['users', 'remove', 'x']
  ]) {
    const r = await kproxyWithInput(args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /^kproxy users: .+\n\nUsage: kproxy users/)
  }
  const cases: Array<[string[], string, RegExp]> = [
    [['users', 'add', 'x', '--file', file, '--mechanism', 'plain', '--password-stdin'], '', /KPROXY_ERR_USERS_PASSWORD/],
    [['users', 'add', 'x', '--file', file, '--mechanism', 'plain'], 'pw\n', /not a terminal.*--password-stdin.*KPROXY_ERR_USERS_PASSWORD/],
    [['users', 'add', 'böb', '--file', file, '--mechanism', 'scram-sha-256', '--password-stdin'], 'pw', /7-bit ASCII.*KPROXY_ERR_USERS_NAME/],
    [['users', 'remove', 'nobody', '--file', file], '', /no user 'nobody'.*KPROXY_ERR_USERS_UNKNOWN/],
    [['users', 'remove', 'alice', '--file', file, '--mechanism', 'scram-sha-256'], '', /has no SCRAM-SHA-256 credential; it has PLAIN|has no SCRAM-SHA-256 credential in .*; it has PLAIN/],
    [['users', 'list', '--file', join(dir, 'missing.yaml')], '', /Cannot read the credentials file .*ENOENT.*KPROXY_ERR_USERS_READ/]
  ]
  for (const [args, input, pattern] of cases) {
    const r = await kproxyWithInput(args, input)
    t.equal(r.code, 1, args.join(' '))
    t.match(r.stderr.replace(/\n/g, ' '), pattern)
  }
  t.equal(readFileSync(file, 'utf8'), before, 'nothing was written')

  const broken = join(dir, 'broken.yaml')
  writeFileSync(broken, 'version: 1\nusers:\n  a: [\n')
  const r = await kproxyWithInput(['users', 'add', 'x', '--file', broken, '--mechanism', 'plain', '--password-stdin'], 'pw')
  t.equal(r.code, 1)
  t.match(r.stderr, /broken\.yaml:\d+:\d+:.*KPROXY_ERR_CREDENTIALS_FILE/s)
  t.equal(readFileSync(broken, 'utf8'), 'version: 1\nusers:\n  a: [\n', 'a file that does not parse is not rewritten')
})

// Types each answer only once its prompt is on the screen, as a person would (typed earlier,
// the terminal would still be in cooked mode and echo it). --echo never: script itself must
// not copy its input to the output, so whatever shows the password there is kproxy's doing.
function typeAtPrompts (command: string, answers: Array<[RegExp, string]>): Promise<Run> {
  return new Promise(resolve => {
    const child = spawn('script', ['-q', '--echo', 'never', '-ec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill(), 60_000)
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      const next = answers[0]
      if (next !== undefined && next[0].test(stdout)) {
        answers.shift()
        child.stdin.write(next[1])
      }
    })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('close', code => {
      clearTimeout(timer)
      child.stdin.destroy()
      resolve({ code, stdout, stderr })
    })
  })
}

t.test('the prompt, on a real terminal (script(1)): asked twice, never echoed', async t => {
  const dir = t.testdir()
  const file = join(dir, 'users.yaml')
  const cmd = (user: string): string => `${KPROXY} users add ${user} --file ${file} --mechanism scram-sha-512`
  const ok = await typeAtPrompts(cmd('carol'), [[/Password for carol: /, 'Hidden-Pw-7\r'], [/Again: /, 'Hidden-Pw-7\r']])
  t.equal(ok.code, 0, ok.stderr + ok.stdout)
  t.match(ok.stdout, /carol\tSCRAM-SHA-512/)
  t.notMatch(ok.stdout, /Hidden-Pw-7/, 'the password is not echoed')
  t.equal(await scramLogin(file, 'carol', 'Hidden-Pw-7'), 'complete')

  const differ = await typeAtPrompts(cmd('dave'), [[/Password for dave: /, 'one\r'], [/Again: /, 'two\r']])
  t.not(differ.code, 0)
  t.match(differ.stdout, /The two passwords differ/)
  t.equal((await kproxyWithInput(['users', 'list', '--file', file])).stdout, 'carol\tSCRAM-SHA-512\n')
})
