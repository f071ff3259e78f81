import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { AddressInfo, Server } from 'node:net'

// Asks the kernel for `count` distinct free ports on 127.0.0.1. All listeners stay open until
// every port is known, so the same port cannot be handed out twice within one call. Another
// process may still grab one before Kafka binds it; startCluster retries on "Address already in use".
export async function freePorts (count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
    }
    return servers.map(s => (s.address() as AddressInfo).port)
  } finally {
    await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))))
  }
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
    const base = 20_000 + Math.floor(Math.random() * (12_000 - span))
    let ok = true
    for (let p = base; p < base + span && ok; p++) {
      for (const host of hosts) {
        ok = await portFree(host, p)
        if (!ok) break
      }
    }
    if (ok) return base
  }
  throw new KproxyError('KPROXY_ERR_SANDBOX_START', `No block of ${span} free ports found between 20000 and 32000 on ${hosts.join(', ')}; free some ports and retry.`)
}

export function portFree (host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, host, () => s.close(() => resolve(true)))
  })
}
