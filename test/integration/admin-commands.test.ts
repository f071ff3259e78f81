// The admin commands against a real `kproxy serve` (admin token set) in front of a real Kafka
// with kcat traffic: `kproxy status`, `log-level`, `reload` (a good and a bad file), the token
// being required, and `kproxy top` driven in a pseudo-terminal (util-linux `script`): its keys
// work, it gives the terminal back, and the numbers it shows equal those of /metrics.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { snakeCase } from '@kproxy/core/metrics/metric-names'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { waitFor } from '../helpers/e2e-records.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))
const TOKEN = 'integration-admin-token-0123456789'

interface Run { code: number | null, stdout: string, stderr: string }

function kproxy (args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(KPROXY, args, { env: { ...process.env, KPROXY_ADMIN_TOKEN: '', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

// `kproxy top` in a pseudo-terminal of 200 x 60: resolves with everything it painted once it
// exited; `keys` are typed one by one, each once `ready(screen)` says the screen shows what the
// key expects.
function topInPty (args: string[], env: Record<string, string>, steps: Array<{ ready: (screen: string) => boolean, key: string }>): Promise<{ code: number | null, output: string }> {
  const command = `stty rows 60 cols 200; exec ${[KPROXY, 'top', ...args].map(a => `'${a}'`).join(' ')}`
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  let step = 0
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString('utf8')
    while (step < steps.length && steps[step]!.ready(lastFrame(output))) child.stdin.write(steps[step++]!.key)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise(resolve => child.on('exit', code => { clearTimeout(timer); resolve({ code, output }) }))
}

// The last complete frame top painted, as plain lines: frames start at cursor-home (ESC [H) and
// end with clear-to-end (ESC [J).
function lastFrame (output: string): string {
  const frames = output.split('\x1b[H').slice(1).filter(f => f.includes('\x1b[J'))
  const frame = frames.at(-1) ?? ''
  return frame.slice(0, frame.indexOf('\x1b[J')).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
}

t.test('status, log-level, reload and top against a live kproxy', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 1 })
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-admin-commands-'))
  const config = join(dir, 'kproxy.yaml')
  writeFileSync(config, 'logLevel: info\n')
  const k = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--config', config], env: { KPROXY_ADMIN_TOKEN: TOKEN } })
  const admin = k.adminUrl.slice('http://'.length)
  const auth = { KPROXY_ADMIN_TOKEN: TOKEN }
  const metrics = async (): Promise<string> => await (await fetch(`${k.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
  const topic = `admin-commands-${Date.now()}`
  const p = await kcat(['-P', '-b', k.bootstrap, '-t', topic, '-X', 'client.id=admin-commands'], { input: Array.from({ length: 200 }, (_, i) => `v${i}`).join('\n') + '\n' })
  t.equal(p.code, 0, p.stderr)
  const c = await kcat(['-C', '-b', k.bootstrap, '-t', topic, '-o', 'beginning', '-c', '200', '-e'])
  t.equal(c.code, 0, c.stderr)

  t.test('the token is required, and sent from the environment', async t => {
    t.equal((await fetch(`${k.adminUrl}/metrics`)).status, 401, '/metrics without a token')
    t.equal((await fetch(`${k.adminUrl}/ready`)).status, 200, '/ready is a probe')
    const refused = await kproxy(['status', '--admin', admin])
    t.equal(refused.code, 1)
    t.match(refused.stderr, /wants a token: put it in KPROXY_ADMIN_TOKEN or in a file given with --token-file\. \[KPROXY_ERR_ADMIN_UNAUTHORIZED\]/)
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, TOKEN)
    t.equal((await kproxy(['status', '--admin', admin, '--token-file', tokenFile])).code, 0, 'or from --token-file')
  })

  t.test('kproxy status', async t => {
    const s = await kproxy(['status', '--admin', admin], auth)
    t.equal(s.code, 0, s.stderr)
    t.match(s.stdout, new RegExp(`^kproxy at ${k.adminUrl.replace(/\./g, '\\.')}: ready$`, 'm'))
    t.match(s.stdout, /workers {6}2\/2 ready/)
    t.match(s.stdout, new RegExp(`upstream {5}${cluster.bootstrap.replace(/\./g, '\\.')}: answered Metadata in \\d+ ms`))
    const json = JSON.parse((await kproxy(['status', '--json', '--admin', admin], auth)).stdout)
    t.match(json, { ready: { ready: true }, overview: { workers: { configured: 2 } }, upstreams: { brokers: [{ nodeId: 1 }] } })
    t.equal((await kproxy(['status', '--admin', '127.0.0.1:1'], auth)).code, 1, 'nothing there')
    t.equal((await kproxy(['status', '--bogus'], auth)).code, 2, 'bad usage')
  })

  t.test('kproxy log-level', async t => {
    const r = await kproxy(['log-level', 'debug', '--admin', admin], auth)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'log level: debug\n')
    const workers = await (await fetch(`${k.adminUrl}/api/workers`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { workers: Array<{ logLevel: string }> }
    t.same(workers.workers.map(w => w.logLevel), ['debug', 'debug'], 'every worker')
    t.equal((await kproxy(['log-level', 'loud', '--admin', admin], auth)).code, 2)
    t.equal((await kproxy(['log-level', 'info', '--admin', admin], auth)).code, 0)
  })

  t.test('kproxy reload', async t => {
    writeFileSync(config, 'logLevel: warn\n')
    const good = await kproxy(['reload', '--admin', admin], auth)
    t.equal(good.code, 0, good.stderr)
    t.equal(good.stdout, 'reloaded: applied logLevel\n')
    writeFileSync(config, 'logLevel: [\n')
    const bad = await kproxy(['reload', '--admin', admin], auth)
    t.equal(bad.code, 1)
    t.match(bad.stderr, /^kproxy reload: not applied, kproxy keeps its running configuration: .*kproxy\.yaml:1:\d+: .* \[KPROXY_ERR_CONFIG\]$/m)
    writeFileSync(config, 'logLevel: info\n')
    t.equal((await kproxy(['reload', '--admin', admin], auth)).code, 0)
  })

  t.test('kproxy top shows the numbers of /metrics', async t => {
    // no client is connected now: the counters stand still while top and /metrics are read
    await waitFor('no client connected', async () => metricSum(await metrics(), 'kproxy_connections_active') === 0 ? true : undefined, 15_000)
    const hasRows = (s: string): boolean => /^Produce\s/m.test(s) && /^Fetch\s/m.test(s)
    const run = await topInPty(['--admin', admin, '--interval', '1'], auth, [
      { ready: hasRows, key: 'n' },
      { ready: s => / sort: name/.test(s), key: 'q' }
    ])
    t.equal(run.code, 0, 'q quits with exit code 0')
    t.ok(run.output.includes('\x1b[?1049h') && run.output.endsWith('\x1b[?25h\x1b[?1049l'), 'alternate screen entered, cursor and screen given back at the end')
    const frame = lastFrame(run.output)
    const text = await metrics()
    const lines = frame.split('\r\n')
    const header = lines.findIndex(l => l.startsWith('API '))
    const rows = lines.slice(header + 1).filter(l => /^[A-Z][A-Za-z]+\s+\S+\s+\d+\s/.test(l)).map(l => l.trim().split(/\s+/))
    t.ok(rows.length >= 5, `${rows.length} API rows: ${rows.map(r => r[0]).join(', ')}`)
    t.same(rows.map(r => r[0]), [...rows.map(r => r[0]!)].sort((a, b) => a.localeCompare(b)), 'sorted by name after the n key')
    for (const r of rows) {
      const api = snakeCase(r[0]!)
      t.equal(Number(r[2]), metricSum(text, 'kproxy_requests_total', `api="${api}"`), `${r[0]}: requests equal kproxy_requests_total{api="${api}"}`)
      t.equal(Number(r[4]), metricSum(text, 'kproxy_response_errors_total', `api="${api}"`), `${r[0]}: errors equal kproxy_response_errors_total{api="${api}"}`)
    }
    t.equal(Number(rows.find(r => r[0] === 'Produce')?.[2]) > 0, true, 'the producer\'s requests are there')
    const totals = /conns (\d+) active, (\d+) total .* requests (\d+) \(.*errors (\d+) \(/.exec(frame)
    t.ok(totals, `the totals line: ${lines[1]}`)
    t.equal(Number(totals?.[1]), metricSum(text, 'kproxy_connections_active'), 'active connections')
    t.equal(Number(totals?.[2]), metricSum(text, 'kproxy_connections_total'), 'connections accepted')
    t.equal(Number(totals?.[3]), metricSum(text, 'kproxy_requests_total'), 'requests')
    t.equal(Number(totals?.[4]), metricSum(text, 'kproxy_response_errors_total'), 'error codes')
    t.match(frame, /workers 2\/2/)
  })
})
