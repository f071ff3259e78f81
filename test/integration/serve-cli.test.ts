// `kproxy serve` as a user runs it: a real process with 2 worker threads in front of a real
// Kafka, driven through its admin API and signals.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { encodeRequest } from '@kproxy/core/protocol/codec'
import { FrameReader, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import { hasKcat, kafkaCluster, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { freePort, freePortRange } from '../helpers/broker-proxy.ts'
import { collectOutput } from '../helpers/process-output.ts'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))

interface Served {
  child: ChildProcess
  logs: Array<Record<string, unknown>>
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function serve (args: string[], env: Record<string, string> = {}): Served {
  const child = spawn(KPROXY, ['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  const { logs, stderr: readStderr } = collectOutput(child)
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, logs, stderr: readStderr, exited }
}

async function http (method: string, url: string): Promise<{ status: number, text: string }> {
  const res = await fetch(url, { method })
  return { status: res.status, text: await res.text() }
}

async function until<T> (what: () => Promise<T | undefined> | T | undefined, ms: number, stepMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await what()
    if (v !== undefined) return v
    if (Date.now() > deadline) return undefined
    await sleep(stepMs)
  }
}

// A raw client connection that keeps sending ApiVersions v0 and counts answers and failures.
class Pinger {
  readonly socket: Socket
  answered = 0
  failed: string | null = null
  #correlation = 0
  #timer: NodeJS.Timeout | null = null

  constructor (socket: Socket) {
    this.socket = socket
    const reader = new FrameReader({
      onFrame: frame => {
        const buf = frameToBuffer(frame)
        // responses come back in request order (pipelined)
        if (buf.readInt32BE(0) === this.answered + 1) this.answered++
        else this.failed ??= `correlation id ${buf.readInt32BE(0)}, expected ${this.answered + 1}`
      },
      onError: err => { this.failed ??= err.message }
    })
    socket.on('data', c => reader.push(c))
    socket.on('error', err => { this.failed ??= err.message })
    socket.on('close', () => { this.failed ??= 'connection closed' })
  }

  static open (port: number): Promise<Pinger> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Pinger(s)))
      s.once('error', reject)
    })
  }

  ping (): void {
    this.#correlation++
    for (const c of encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: this.#correlation, clientId: 'pinger' }, {})) this.socket.write(c)
  }

  start (everyMs: number): void {
    this.ping()
    this.#timer = setInterval(() => this.ping(), everyMs)
  }

  stop (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.socket.destroy()
  }
}

function counter (metrics: string, name: string, labels: string): number {
  let total = 0
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-serve-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('kproxy serve --workers 2 in front of a real Kafka', async t => {
  const cluster = await kafkaCluster(t, { brokers: 1 })
  const listenPort = await freePortRange(4)
  const adminPort = await freePort()
  const admin = `http://127.0.0.1:${adminPort}`
  const configFile = join(scratch, 'kproxy.yaml')
  const writeConfig = (level: string): void => writeFileSync(configFile, `# test config\nlogLevel: ${level}\nshutdownTimeoutMs: 3000\nstatPrefix: itest\n`)
  writeConfig('info')
  const started = Date.now()
  const s = serve(['--config', configFile, '--workers', '2', '--upstream', cluster.bootstrap,
    '--listen', `127.0.0.1:${listenPort}`, '--admin', `127.0.0.1:${adminPort}`], { KPROXY_DEBUG_ENDPOINTS: '1' })
  t.teardown(() => { s.child.kill('SIGKILL') })

  const ready = await until(async () => {
    try {
      const r = await http('GET', `${admin}/ready`)
      return r.status === 200 ? r : undefined
    } catch { return undefined }
  }, 30_000, 100)
  t.ok(ready !== undefined, `/ready became 200 (stderr: ${s.stderr()})`)
  if (ready === undefined) return
  t.comment(`/ready 200 after ${Date.now() - started} ms`)
  const startLine = s.logs.find(l => typeof l.msg === 'string' && l.msg.startsWith('kproxy serving on'))
  t.ok(startLine !== undefined, 'a start-up line with the listen addresses')
  t.equal(startLine?.listen, `127.0.0.1:${listenPort}`)
  t.equal((await http('GET', `${admin}/healthz`)).status, 200)

  const dump = JSON.parse((await http('GET', `${admin}/config_dump`)).text) as { workers: number, brokerMode: { listen: { port: number } }, source: string }
  t.equal(dump.workers, 2)
  t.equal(dump.brokerMode.listen.port, listenPort)
  t.equal(dump.source, configFile)

  t.test('kcat -L through kproxy; /metrics and /stats count it', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
    const before = (await http('GET', `${admin}/metrics`)).text
    const r = await kcat(['-L', '-b', `127.0.0.1:${listenPort}`, '-m', '10'])
    t.equal(r.code, 0, r.stderr)
    t.same(kcatBrokers(r.stdout), cluster.info.brokers.map(b => ({ id: b.id, host: '127.0.0.1', port: listenPort + 1 + b.id })))
    const after = await http('GET', `${admin}/metrics`)
    t.equal(after.status, 200)
    const metadata = counter(after.text, 'kproxy_requests_total', 'api="metadata"') - counter(before, 'kproxy_requests_total', 'api="metadata"')
    t.ok(metadata >= 1, `metadata requests counted: ${metadata}`)
    t.ok(counter(after.text, 'kproxy_responses_total', 'api="metadata"') >= 1)
    t.match(after.text, /^kproxy_response_latency_seconds_count\{api="metadata"\} [1-9]/m)
    t.match(after.text, /^kproxy_workers 2$/m)
    if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: after.text, encoding: 'utf8' })
      t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`)
    } else {
      t.comment('promtool not installed; exposition not machine-checked')
    }
    const stats = JSON.parse((await http('GET', `${admin}/stats`)).text) as { stats: Array<{ name?: string, value?: number, histograms?: { computed_quantiles: Array<{ name: string }> } }> }
    const md = stats.stats.find(x => x.name === 'kafka.itest.request.metadata_request')
    t.ok(md !== undefined && md.value! >= 1, 'kafka.itest.request.metadata_request')
    t.ok(stats.stats.some(x => x.name === 'kafka.itest.response.metadata_response'))
    const hist = stats.stats.find(x => x.histograms !== undefined)
    t.ok(hist?.histograms?.computed_quantiles.some(q => q.name === 'kafka.itest.response.metadata_response_duration'))
  })

  t.test('POST /logging changes every worker', async t => {
    const r = await http('POST', `${admin}/logging?level=debug`)
    t.equal(r.status, 200)
    const levels = await until(async () => {
      const body = JSON.parse((await http('GET', `${admin}/ready`)).text) as { workers: Array<{ logLevel?: string }> }
      const l = body.workers.map(w => w.logLevel)
      return l.every(x => x === 'debug') ? l : undefined
    }, 5000)
    t.same(levels, ['debug', 'debug'])
    t.equal((await http('POST', `${admin}/logging?level=loud`)).status, 400)
    t.equal((await http('GET', `${admin}/logging`)).status, 405)
  })

  t.test('a crashed worker is back within 1 s; a connection on the other worker carries on', async t => {
    const pinger = await Pinger.open(listenPort)
    t.teardown(() => pinger.stop())
    pinger.start(20)
    const localPort = pinger.socket.localPort!
    const open = await until(() => s.logs.find(l => l.msg === 'connection open' && l.peer === `127.0.0.1:${localPort}`), 5000)
    t.ok(open !== undefined, 'the connection was logged with its worker')
    const mine = open!.worker as number
    const victim = mine === 0 ? 1 : 0
    // The 1 s promise rests on the standby thread (modules loaded) that replaces a crashed worker.
    const spare = await until(async () => (JSON.parse((await http('GET', `${admin}/ready`)).text) as { spare: string }).spare === 'loaded' ? true : undefined, 20_000, 100)
    t.ok(spare, 'a standby thread is loaded')
    const metricsBefore = (await http('GET', `${admin}/metrics`)).text
    await sleep(200)
    const answeredBefore = pinger.answered
    const crashAt = Date.now()
    const r = await http('POST', `${admin}/debug/crash-worker?id=${victim}`)
    t.equal(r.status, 202)
    // /ready goes 503 while the worker is down, then 200 again.
    const back = await until(() => s.logs.find(l => l.msg === `worker ${victim} is back`), 5000, 10)
    const backMs = Date.now() - crashAt
    t.ok(back !== undefined, 'the supervisor reports the worker back')
    t.comment(`worker ${victim} back after ${String(back?.ms)} ms (supervisor), ${backMs} ms (test, incl. polling)`)
    t.ok((back?.ms as number) < 1000, `restart within 1 s: ${String(back?.ms)} ms`)
    t.ok(backMs < 1000, `observed within 1 s: ${backMs} ms`)
    const ready = await until(async () => (await http('GET', `${admin}/ready`)).status === 200 ? true : undefined, 2000)
    t.ok(ready, '/ready is 200 again')
    await sleep(300)
    t.equal(pinger.failed, null, `the other worker's connection saw no error (${pinger.failed})`)
    t.ok(pinger.answered > answeredBefore + 5, `it kept getting answers (${answeredBefore} -> ${pinger.answered})`)
    const k = await kcat(['-L', '-b', `127.0.0.1:${listenPort}`, '-m', '10'])
    t.equal(k.code, 0, `kcat -L after the restart: ${k.stderr}`)
    const metricsAfter = (await http('GET', `${admin}/metrics`)).text
    const api = 'api="api_versions"'
    t.ok(counter(metricsAfter, 'kproxy_requests_total', api) >= counter(metricsBefore, 'kproxy_requests_total', api), 'counters did not go down')
  })

  t.test('SIGHUP re-reads the config file', async t => {
    writeConfig('warn')
    s.child.kill('SIGHUP')
    const levels = await until(async () => {
      const body = JSON.parse((await http('GET', `${admin}/ready`)).text) as { workers: Array<{ logLevel?: string }> }
      const l = body.workers.map(w => w.logLevel)
      return l.every(x => x === 'warn') ? l : undefined
    }, 5000)
    t.same(levels, ['warn', 'warn'])
    const dump = JSON.parse((await http('GET', `${admin}/config_dump`)).text) as { logLevel: string }
    t.equal(dump.logLevel, 'warn')
    writeFileSync(configFile, 'logLevel: [oops\n')
    const bad = await http('POST', `${admin}/reload`)
    t.equal(bad.status, 400, 'an invalid file is refused')
    t.match(bad.text, /kproxy\.yaml:1:11/)
    // The API key policy changes live: Metadata denied, then allowed again.
    writeFileSync(configFile, 'logLevel: info\nshutdownTimeoutMs: 3000\nstatPrefix: itest\nbrokerMode:\n  apiKeysDenied: [Metadata]\n')
    const good = await http('POST', `${admin}/reload`)
    t.equal(good.status, 200)
    t.same(JSON.parse(good.text).applied.sort(), ['brokerMode.apiKeysDenied', 'logLevel'])
    if (hasKcat()) {
      // kproxy answers a denied Metadata itself (with an error code); the policy shows in the counter
      await kcat(['-L', '-b', `127.0.0.1:${listenPort}`, '-m', '5'], { timeoutMs: 15_000 })
      const m = (await http('GET', `${admin}/metrics`)).text
      t.ok(counter(m, 'kproxy_denied_requests_total', 'api="metadata"') >= 1, 'the denied Metadata requests are counted')
      writeConfig('info')
      t.equal((await http('POST', `${admin}/reload`)).status, 200)
      const deniedBefore = counter((await http('GET', `${admin}/metrics`)).text, 'kproxy_denied_requests_total', 'api="metadata"')
      const allowed = await kcat(['-L', '-b', `127.0.0.1:${listenPort}`, '-m', '10'])
      t.equal(allowed.code, 0, `kcat -L works again: ${allowed.stderr}`)
      const deniedAfter = counter((await http('GET', `${admin}/metrics`)).text, 'kproxy_denied_requests_total', 'api="metadata"')
      t.equal(deniedAfter, deniedBefore, 'nothing denied once the policy is lifted')
    }
  })

  t.test('SIGTERM: exit 0 within the shutdown timeout', async t => {
    const at = Date.now()
    s.child.kill('SIGTERM')
    const result = await Promise.race([s.exited, sleep(3000 + 3000).then(() => null)])
    t.same(result, { code: 0, signal: null }, `exit status (stderr: ${s.stderr()})`)
    t.comment(`exited ${Date.now() - at} ms after SIGTERM`)
  })
})

t.test('kproxy serve --workers 2 in front of a 3-node cluster: every worker serves every broker port', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const listenPort = await freePortRange(8)
  const adminPort = await freePort()
  const admin = `http://127.0.0.1:${adminPort}`
  const s = serve(['--workers', '2', '--upstream', cluster.bootstrap, '--listen', `127.0.0.1:${listenPort}`, '--admin', `127.0.0.1:${adminPort}`])
  t.teardown(() => { s.child.kill('SIGKILL') })
  const ready = await until(async () => {
    try { return (await http('GET', `${admin}/ready`)).status === 200 ? true : undefined } catch { return undefined }
  }, 30_000, 100)
  t.ok(ready, `/ready became 200 (stderr: ${s.stderr()})`)
  const bootstrap = `127.0.0.1:${listenPort}`
  const md = await kcat(['-L', '-b', bootstrap, '-m', '10'])
  t.equal(md.code, 0, md.stderr)
  t.same(kcatBrokers(md.stdout), cluster.info.brokers.map(b => ({ id: b.id, host: '127.0.0.1', port: listenPort + 1 + b.id })).sort((a, b) => a.id - b.id))
  const topic = `serve-${Date.now()}`
  const lines = Array.from({ length: 200 }, (_, i) => `m-${i}`)
  const produced = await kcat(['-P', '-b', bootstrap, '-t', topic, '-X', 'allow.auto.create.topics=true', '-X', 'acks=all'], { input: lines.join('\n') + '\n', timeoutMs: 60_000 })
  t.equal(produced.code, 0, produced.stderr)
  const consumed = await kcat(['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q'], { timeoutMs: 60_000 })
  t.equal(consumed.code, 0, consumed.stderr)
  t.same(consumed.stdout.split('\n').filter(Boolean).sort(), [...lines].sort(), 'every record came back through kproxy')
  const metrics = (await http('GET', `${admin}/metrics`)).text
  t.ok(counter(metrics, 'kproxy_requests_total', 'api="produce"') >= 1, 'produce requests counted')
  t.ok(counter(metrics, 'kproxy_requests_total', 'api="fetch"') >= 1, 'fetch requests counted')
  s.child.kill('SIGTERM')
  const result = await Promise.race([s.exited, sleep(15_000).then(() => null)])
  t.same(result, { code: 0, signal: null }, `exit status (stderr: ${s.stderr()})`)
})
