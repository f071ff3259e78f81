import { createConnection, createServer } from 'node:net'
import { KproxyError } from '@kproxy/core/kproxy-error'

// Below Linux's ephemeral range (32768+): a port the kernel chose for listen(0) and released goes
// back to that range, where any outgoing connection may take it as its local port before the child
// binds it.
const LOW_PORT = 20_000
const HIGH_PORT = 32_000

// `count` distinct ports free right now on 127.0.0.1, below the ephemeral range (a block of them).
// Another process may still grab one before Kafka binds it; startCluster retries on "Address
// already in use".
export async function freePorts (count: number): Promise<number[]> {
  const base = await freePortBlock(count)
  return Array.from({ length: count }, (_, i) => base + i)
}

// Resolves true when a TCP connection to host:port is accepted within timeoutMs.
export function canConnect (host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise(resolve => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

// `span` consecutive ports free right now on every one of `hosts`, below Linux's ephemeral range
// (32768+) so that outgoing connections do not take them before the child binds them.
export async function freePortBlock (span: number, hosts: readonly string[] = ['127.0.0.1']): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = LOW_PORT + Math.floor(Math.random() * (HIGH_PORT - LOW_PORT - span))
    let ok = true
    for (let p = base; p < base + span && ok; p++) {
      for (const host of hosts) {
        ok = await portFree(host, p)
        if (!ok) break
      }
    }
    if (ok) return base
  }
  throw new KproxyError('KPROXY_ERR_SANDBOX_START', `No block of ${span} free ports found between ${LOW_PORT} and ${HIGH_PORT} on ${hosts.join(', ')}; free some ports and retry.`)
}

export function portFree (host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, host, () => s.close(() => resolve(true)))
  })
}
