import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
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
