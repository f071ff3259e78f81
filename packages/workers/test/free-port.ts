// A loopback port that is free now, for a test that hands it to a listener started later. It is
// taken below Linux's ephemeral range (32768+): a port the kernel chose with listen(0) and then
// released is in that range, and any outgoing connection of another test may get it as its
// local port before the listener binds it (EADDRINUSE, seen in a full run).
import { createServer } from 'node:net'

const LOW = 20_000
const HIGH = 32_000

export async function freePort (): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW))
    if (await bindable(port)) return port
  }
  throw new Error(`no free port between ${LOW} and ${HIGH} on 127.0.0.1 after 100 tries`)
}

function bindable (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}
