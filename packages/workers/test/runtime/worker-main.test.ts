// The worker thread's message protocol, without Kafka: the upstream is a port nobody listens on,
// so the worker listens but never becomes ready; everything else must still answer.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import type { FromWorker, ToWorker, WorkerData } from '../../src/runtime/messages.ts'
import { freePort } from '../free-port.ts'

const ENTRY = new URL('../../src/runtime/worker-main.ts', import.meta.url)

function freeServer (): Promise<Server> {
  return new Promise(resolve => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
}


class Harness {
  readonly worker: Worker
  readonly messages: FromWorker[] = []
  readonly exited: Promise<number>
  #waiters: Array<() => void> = []

  constructor (data: WorkerData) {
    // stdout: true keeps the worker's JSON logs out of the TAP stream
    this.worker = new Worker(ENTRY, { workerData: data, stdout: true })
    this.worker.stdout.resume()
    this.worker.on('message', (m: FromWorker) => {
      this.messages.push(m)
      for (const w of this.#waiters.splice(0)) w()
    })
    this.exited = new Promise(resolve => this.worker.on('exit', resolve))
  }

  send (m: ToWorker): void { this.worker.postMessage(m) }

  async next<T extends FromWorker['type']> (type: T, timeoutMs = 10_000): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.messages.findIndex(m => m.type === type)
      if (i >= 0) return this.messages.splice(i, 1)[0] as Extract<FromWorker, { type: T }>
      if (Date.now() > deadline) throw new Error(`no '${type}' message within ${timeoutMs} ms`)
      await new Promise<void>(resolve => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }
}

t.test('a started worker answers status, snapshot, log level, and shuts down with exit 0', async t => {
  const listen = await freePort()
  const config = resolveConfig({ flags: { upstream: '127.0.0.1:1', listen: `127.0.0.1:${listen}`, 'broker-port-base': '1' } })
  const h = new Harness({ workerId: 3, config })
  t.teardown(() => h.worker.terminate())
  h.send({ type: 'status', requestId: 7 })
  const status = await h.next('status')
  t.equal(status.requestId, 7)
  t.same(status.status, { activeConnections: 0, upstreamHealthy: false, logLevel: 'info' })
  h.send({ type: 'set-log-level', level: 'debug' })
  h.send({ type: 'snapshot', requestId: 8 })
  const snap = await h.next('snapshot')
  t.equal(snap.requestId, 8)
  t.same(snap.snapshot.requests, [])
  t.equal(snap.snapshot.connectionsTotal, 0)
  h.send({ type: 'reload', config: { ...config, logLevel: 'warn' } })
  h.send({ type: 'status', requestId: 9 })
  t.equal((await h.next('status')).status.logLevel, 'warn', 'reload applied the log level')
  h.send({ type: 'shutdown', timeoutMs: 1000 })
  await h.next('drained')
  t.equal(await h.exited, 0)
})

t.test('a standby worker waits for start, then runs as the given worker id', async t => {
  const listen = await freePort()
  const config = resolveConfig({ flags: { upstream: '127.0.0.1:1', listen: `127.0.0.1:${listen}`, 'broker-port-base': '1' } })
  const h = new Harness({ workerId: null, config })
  t.teardown(() => h.worker.terminate())
  await h.next('standby')
  h.send({ type: 'status', requestId: 1 })
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal(h.messages.filter(m => m.type === 'status').length, 0, 'a standby thread ignores everything but start and shutdown')
  h.send({ type: 'start', workerId: 5, config: { ...config, logLevel: 'error' } })
  h.send({ type: 'status', requestId: 2 })
  const status = await h.next('status')
  t.equal(status.requestId, 2)
  t.equal(status.status.logLevel, 'error')
  h.send({ type: 'shutdown', timeoutMs: 100 })
  t.equal(await h.exited, 0)
})

t.test('a port that cannot be bound: fatal message with KPROXY_ERR_LISTEN, exit 1', async t => {
  const taken = await freeServer()
  t.teardown(() => { taken.close() })
  const port = (taken.address() as { port: number }).port
  const config = resolveConfig({ flags: { upstream: '127.0.0.1:1', listen: `127.0.0.1:${port}`, 'broker-port-base': '1' } })
  const h = new Harness({ workerId: 0, config })
  const fatal = await h.next('fatal')
  t.equal(fatal.code, 'KPROXY_ERR_LISTEN')
  t.equal(fatal.message, `cannot listen on 127.0.0.1:${port}: the address is already in use`)
  t.equal(await h.exited, 1)
})

t.test('crash makes the thread exit abnormally', async t => {
  const listen = await freePort()
  const config = resolveConfig({ flags: { upstream: '127.0.0.1:1', listen: `127.0.0.1:${listen}`, 'broker-port-base': '1' } })
  const h = new Harness({ workerId: 0, config })
  const errors: Error[] = []
  h.worker.on('error', err => errors.push(err))
  h.send({ type: 'status', requestId: 1 })
  await h.next('status')
  h.send({ type: 'crash' })
  t.equal(await h.exited, 1)
  t.match(errors[0]?.message, /crash requested/)
})
