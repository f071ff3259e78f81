// `kproxy serve` and `kproxy check-config` failing the way a user meets it: one clear message,
// non-zero exit. No Kafka needed: the upstream is a port nobody listens on.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kproxy } from '../helpers/run-kproxy.ts'
import { freePort } from '../../../workers/test/free-port.ts'

const KPROXY = fileURLToPath(new URL('../../bin/kproxy', import.meta.url))

function listen (): Promise<Server> {
  return new Promise(resolve => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
}

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-serve-cli-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('check-config: valid file -> exit 0 and one line', async t => {
  const file = join(scratch, 'ok.yaml')
  writeFileSync(file, 'workers: 3\nbrokerMode:\n  listen: 127.0.0.1:19092\n  upstream: [127.0.0.1:9092]\n')
  const r = await kproxy('check-config', file)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.split('\n').filter(Boolean).length, 1)
  t.match(r.stdout, /ok — listen 127\.0\.0\.1:19092 .*broker ports 19093\+id, upstream 127\.0\.0\.1:9092, 3 worker\(s\), admin off/)
})

t.test('check-config reads the quotas file as a worker would: its entries, or its problems with file:line', async t => {
  const quotas = join(scratch, 'quotas.yaml')
  writeFileSync(quotas, 'entities:\n  - user: alice\n    produceBytesPerSecond: 5MB\n')
  const file = join(scratch, 'quotas-config.yaml')
  writeFileSync(file, 'brokerMode:\n  upstream: [127.0.0.1:9092]\npolicy:\n  quotas:\n    file: quotas.yaml\n')
  const ok = await kproxy('check-config', file)
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, `quotas: 1 entry from ${quotas}`)
  writeFileSync(quotas, 'entities:\n  - user: alice\n    produceBytesPerSecond: lots\n')
  const bad = await kproxy('check-config', file)
  t.equal(bad.code, 1)
  t.match(bad.stderr, `${quotas}:3:28: entities[0].produceBytesPerSecond: got 'lots'; allowed: a number above 0 of bytes`)
})

t.test('check-config: every error, exit 1', async t => {
  const file = join(scratch, 'bad.yaml')
  writeFileSync(file, 'workers: 0\nbrokerMode:\n  upstream: [127.0.0.1:9092]\n  brokerPorts:\n    base: 70000\n')
  const r = await kproxy('check-config', file)
  t.equal(r.code, 1)
  t.match(r.stderr, `${file}:1:10: workers: got number 0, allowed: an integer from 1 to 256`)
  t.match(r.stderr, `${file}:5:11: brokerMode.brokerPorts.base: got number 70000, allowed: an integer from 1 to 65535`)
  const syntax = join(scratch, 'syntax.yaml')
  writeFileSync(syntax, 'a:\n\tb: 1\n')
  const s = await kproxy('check-config', syntax)
  t.equal(s.code, 1)
  t.equal(s.stderr.trim(), `${syntax}:2:1: tabs are not allowed for indentation; use spaces`)
  const missing = await kproxy('check-config', join(scratch, 'nope.yaml'))
  t.equal(missing.code, 1)
  t.match(missing.stderr, /cannot read the config file .*nope\.yaml: ENOENT/)
  t.equal((await kproxy('check-config')).code, 2)
})

t.test('serve: bad flags -> exit 1 with the reason', async t => {
  const r = await kproxy('serve', '--upstream', '127.0.0.1:1', '--workers', 'many')
  t.equal(r.code, 1)
  t.match(r.stderr, /^kproxy: --workers \(workers\): got 'many', allowed: an integer from 1 to 256 \[KPROXY_ERR_CONFIG\]\n$/)
  const u = await kproxy('serve', '--nope')
  t.equal(u.code, 2)
  t.match(u.stderr, /Unknown option '--nope'/)
})

t.test('serve and check-config with TLS: bad certificate files -> exit 1 naming the setting and the file', async t => {
  const { createCa, issueCertificate } = await import('@kproxy/core/certs/x509')
  const ca = await createCa({ days: 1 })
  const leaf = await issueCertificate(ca, { name: 'kproxy', server: true, days: 1 })
  writeFileSync(join(scratch, 'tls.crt'), leaf.chain)
  writeFileSync(join(scratch, 'tls.key'), leaf.key, { mode: 0o600 })
  writeFileSync(join(scratch, 'ca.crt'), ca.cert)
  const file = join(scratch, 'tls.yaml')
  writeFileSync(file, ['brokerMode:', '  upstream: [127.0.0.1:9092]', '  tls:', `    cert: ${join(scratch, 'tls.crt')}`, `    key: ${join(scratch, 'tls.key')}`,
    `    ca: ${join(scratch, 'ca.crt')}`, '  upstreamTls:', `    ca: ${join(scratch, 'ca.crt')}`, ''].join('\n'))
  const ok = await kproxy('check-config', file)
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /TLS \(client auth require\) to clients, TLS upstream/)

  const missing = await kproxy('serve', '--upstream', '127.0.0.1:1', '--tls-cert', join(scratch, 'nope.crt'), '--tls-key', join(scratch, 'tls.key'))
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^kproxy: brokerMode\.tls\.cert: cannot read .*nope\.crt \(ENOENT\); .*\[KPROXY_ERR_TLS_FILE\]\n$/)
  const swapped = await kproxy('serve', '--upstream', '127.0.0.1:1', '--tls-cert', join(scratch, 'tls.key'), '--tls-key', join(scratch, 'tls.crt'))
  t.equal(swapped.code, 1)
  t.match(swapped.stderr, /brokerMode\.tls\.cert: .*tls\.key holds no certificate/)
  const noKey = await kproxy('serve', '--upstream', '127.0.0.1:1', '--tls-cert', join(scratch, 'tls.crt'))
  t.equal(noKey.code, 1)
  t.match(noKey.stderr, /set both cert and key/)
  const noKeyLogged = [missing, swapped, noKey].every(r => !r.stderr.includes('PRIVATE KEY') && !r.stdout.includes('PRIVATE KEY'))
  t.ok(noKeyLogged, 'no key material in any message')
})

t.test('serve: a taken listen port -> exit 1 with one sentence', async t => {
  const taken = await listen()
  t.teardown(() => { taken.close() })
  const port = (taken.address() as { port: number }).port
  const r = await kproxy('serve', '--upstream', '127.0.0.1:1', '--listen', `127.0.0.1:${port}`, '--workers', '2')
  t.equal(r.code, 1, r.stderr)
  t.equal(r.stderr, `kproxy: cannot listen on 127.0.0.1:${port}: the address is already in use [KPROXY_ERR_LISTEN]\n`)
})

t.test('serve: a taken admin port -> exit 1 with one sentence', async t => {
  const taken = await listen()
  t.teardown(() => { taken.close() })
  const port = (taken.address() as { port: number }).port
  const r = await kproxy('serve', '--upstream', '127.0.0.1:1', '--listen', '127.0.0.1:1', '--admin', `127.0.0.1:${port}`)
  t.equal(r.code, 1, r.stderr)
  t.equal(r.stderr, `kproxy: cannot listen for the admin API on 127.0.0.1:${port}: EADDRINUSE [KPROXY_ERR_ADMIN_LISTEN]\n`)
})

t.test('serve: upstream unreachable -> /ready 503 with a reason, /healthz 200, SIGTERM exits 0', async t => {
  const adminPort = await freePort()
  const listenPort = await freePort()
  const child = spawn(KPROXY, ['serve', '--upstream', '127.0.0.1:1', '--listen', `127.0.0.1:${listenPort}`, '--broker-port-base', '1', '--admin', `127.0.0.1:${adminPort}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  let ready: { status: number, body: { ready: boolean, reason: string } } | null = null
  for (let i = 0; i < 100 && ready === null; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/ready`)
      ready = { status: res.status, body: await res.json() as { ready: boolean, reason: string } }
    } catch {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
  t.ok(ready !== null, `admin API answered (stderr: ${stderr})`)
  t.equal(ready?.status, 503)
  t.equal(ready?.body.ready, false)
  t.match(ready?.body.reason, /^worker 0 is starting$/)
  t.equal((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status, 200)
  t.equal((await fetch(`http://127.0.0.1:${adminPort}/nope`)).status, 404)
  t.equal((await fetch(`http://127.0.0.1:${adminPort}/debug/crash-worker?id=0`, { method: 'POST' })).status, 404, 'debug endpoint off without KPROXY_DEBUG_ENDPOINTS=1')
  child.kill('SIGTERM')
  t.equal(await exited, 0, stderr)
})
