// `kproxy wait-ready` against real kproxy processes: the start-up ordering case (wait-ready runs
// before kproxy exists, returns once kproxy serves a real Kafka), a kproxy that stays unready,
// nothing listening at all, and bad flags.
import t from 'tap'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startCluster } from '../../src/sandbox/cluster.ts'
import { parseDuration } from '../../src/commands/wait-ready.ts'
import { freePort, freePortRange } from '../../../workers/test/free-port.ts'

const KPROXY = fileURLToPath(new URL('../../bin/kproxy', import.meta.url))

interface Finished { code: number | null, stderr: string, ms: number }

function start (args: string[]): { child: ChildProcess, done: Promise<Finished> } {
  const started = Date.now()
  const child = spawn(KPROXY, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  const done = new Promise<Finished>(resolve => child.on('exit', code => resolve({ code, stderr, ms: Date.now() - started })))
  return { child, done }
}

function serve (upstream: string, listen: number, admin: number): ChildProcess {
  const child = spawn(KPROXY, ['serve', '--upstream', upstream, '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`], { stdio: 'ignore' })
  return child
}

t.test('durations', async t => {
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('30s'), 30_000)
  t.equal(parseDuration('2m'), 120_000)
  t.equal(parseDuration('1.5s'), 1500)
  t.equal(parseDuration('45'), 45_000, 'a plain number is seconds')
  for (const bad of ['', 's', '1h', '-1s', '1 s', 'soon']) t.equal(parseDuration(bad), null, bad)
})

t.test('started before kproxy: waits, then exit 0 once kproxy serves a real Kafka', async t => {
  const cluster = await startCluster({ brokers: 1 })
  t.teardown(() => cluster.stop())
  const admin = await freePort()
  // the listen port and broker 1's (listen + 2)
  const listen = await freePortRange(3)
  const waiting = start(['wait-ready', '--admin', `127.0.0.1:${admin}`, '--timeout', '90s', '--interval', '200ms'])
  t.teardown(() => { waiting.child.kill('SIGKILL') })
  // kproxy starts a moment later, as a sidecar would
  await new Promise(resolve => setTimeout(resolve, 1500))
  const proxy = serve(cluster.bootstrap, listen, admin)
  t.teardown(() => { proxy.kill('SIGKILL') })
  const r = await waiting.done
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, new RegExp(`^kproxy wait-ready: http://127\\.0\\.0\\.1:${admin}/ready ready after \\d+\\.\\d s\\n$`))
  t.ok(r.ms >= 1500, `it waited for kproxy (${r.ms} ms)`)
  const ready = await fetch(`http://127.0.0.1:${admin}/ready`)
  t.equal(ready.status, 200, 'and kproxy is indeed ready')

  const quiet = start(['wait-ready', '--url', `http://127.0.0.1:${admin}`, '--quiet'])
  const q = await quiet.done
  t.equal(q.code, 0, q.stderr)
  t.equal(q.stderr, '', '--quiet prints nothing')
})

t.test('a kproxy that stays unready: exit 1 with its reason', async t => {
  // an upstream nobody listens on: kproxy runs, retries, and /ready says 503
  const [deadUpstream, admin] = [await freePort(), await freePort()]
  // the listen port and broker 1's (listen + 2)
  const listen = await freePortRange(3)
  const proxy = serve(`127.0.0.1:${deadUpstream}`, listen, admin)
  t.teardown(() => { proxy.kill('SIGKILL') })
  const r = await start(['wait-ready', '--admin', `127.0.0.1:${admin}`, '--timeout', '6s', '--interval', '200ms']).done
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /still not ready after \d+\.\d s \(HTTP 503: [^)]+\); look at kproxy's log for why\. \[KPROXY_ERR_NOT_READY\]/)
})

t.test('nothing listening: exit 3 after the timeout', async t => {
  const port = await freePort()
  const r = await start(['wait-ready', '--admin', `127.0.0.1:${port}`, '--timeout', '1500ms']).done
  t.equal(r.code, 3, r.stderr)
  t.match(r.stderr, /nothing answered at http:\/\/127\.0\.0\.1:\d+\/ready within 1\.\d s \(ECONNREFUSED\); .*\[KPROXY_ERR_ADMIN_UNREACHABLE\]/)
  t.ok(r.ms >= 1500, `it kept trying until the timeout (${r.ms} ms)`)
})

t.test('bad flags: usage error, exit 2', async t => {
  for (const [args, message] of [
    [['--admin', 'nope'], /--admin 'nope' is not HOST:PORT/],
    [['--admin', '127.0.0.1:1', '--url', 'http://127.0.0.1:1'], /give --admin or --url, not both/],
    [['--url', 'ftp://127.0.0.1:1'], /must start with http:\/\/ or https:\/\//],
    [['--url', 'not a url'], /is not a URL/],
    [['--timeout', 'soon'], /--timeout 'soon' is not a duration/],
    [['--interval', '1ms'], /--interval '1ms' is not a duration/],
    [['--nope'], /Unknown option '--nope'/]
  ] as const) {
    const r = await start(['wait-ready', ...args]).done
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, message)
    t.match(r.stderr, /Exit codes:/)
  }
})
