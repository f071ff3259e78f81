// Loopback ports that are free now, for a test that hands them to a listener started later or
// uses one as a port nobody listens on. The one helper of every test that needs such a port: the
// workers tests, the cli tests (../../../workers/test/free-port.ts) and the root tests (through
// test/helpers/broker-proxy.ts). The ports are taken below Linux's ephemeral range (32768+): a port
// the kernel chose with listen(0) and then released is in that range, and any outgoing connection
// of another test may get it as its local port before the listener binds it (EADDRINUSE, seen in a
// full run). A port handed out once is not handed out again by this process.
import { createServer } from 'node:net'

const LOW = 20_000
const HIGH = 32_000
const handedOut = new Set<number>()

export function freePort (): Promise<number> {
  return freePortRange(1)
}

// A base such that base .. base+span-1 are all free now.
export async function freePortRange (span: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - span))
    if (await allBindable(base, span)) {
      for (let p = base; p < base + span; p++) handedOut.add(p)
      return base
    }
  }
  throw new Error(`no ${span} consecutive free port(s) between ${LOW} and ${HIGH} on 127.0.0.1 after 100 tries`)
}

async function allBindable (base: number, span: number): Promise<boolean> {
  for (let p = base; p < base + span; p++) {
    if (handedOut.has(p) || !(await bindable(p))) return false
  }
  return true
}

function bindable (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}
