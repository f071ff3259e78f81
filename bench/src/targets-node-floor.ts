// The Node floor targets: bench/src/node-floor.ts, the smallest proxy Node can be (bytes relayed
// as they arrive, no parsing), one process, one thread, layer 4 (--pin-target, 1 broker):
//   node-pipe         'data' events and socket.write, as most Node proxies are written
//   node-pipe-onread  both sockets read through `onread` (the accepted one rebuilt around its handle)
//   node-pipe-double  two of them with mTLS between, the shape of kproxy-double and envoy-double
// Against kproxy they tell kproxy's own cost from Node's; against Envoy, Node's from Envoy's.
import { join } from 'node:path'
import { freePortRange, REPO, startProcess, stopChild } from './targets-process.ts'
import { twoSides } from './targets-tls.ts'
import type { TargetContext, TargetDef } from './targets.ts'

const NODE_FLOOR = join(REPO, 'bench', 'src', 'node-floor.ts')

function nodePipe (name: string, description: string, flags: readonly string[]): TargetDef {
  return {
    name,
    description,
    async start (ctx: TargetContext) {
      const port = await freePortRange(1)
      const { child } = await startProcess(name, process.execPath, [NODE_FLOOR, '--listen', String(port), '--upstream', `${ctx.host}:${ctx.port}`, ...flags], '127.0.0.1', port)
      return { name, host: '127.0.0.1', port, pid: child.pid ?? null, extraArgs: ['--pin-target'], stop: () => stopChild(child) }
    }
  }
}

export const nodePipePlain = nodePipe('node-pipe', 'the Node floor: a minimal Node relay with \'data\' events (bench/src/node-floor.ts), 1 thread', [])
export const nodePipeOnread = nodePipe('node-pipe-onread', 'the Node floor with onread on both sockets (bench/src/node-floor.ts --onread), 1 thread', ['--onread'])

export const nodePipeDouble: TargetDef = {
  name: 'node-pipe-double',
  description: 'the Node floor as a double proxy: node-pipe -> mTLS -> node-pipe, 1 thread each',
  async start (ctx: TargetContext) {
    return await twoSides('node-pipe-double', 'kproxy-bench-node-pipe-double-', async (_dir, mesh, started) => {
      const b = await freePortRange(1)
      const brokerSide = await startProcess('node-pipe-double broker side', process.execPath, [NODE_FLOOR, '--listen', String(b), '--upstream', `${ctx.host}:${ctx.port}`, '--tls-in', `${mesh.serverCert},${mesh.serverKey},${mesh.ca}`], '127.0.0.1', b)
      started.push(brokerSide.child)
      const c = await freePortRange(1)
      const clientSide = await startProcess('node-pipe-double client side', process.execPath, [NODE_FLOOR, '--listen', String(c), '--upstream', `127.0.0.1:${b}`, '--tls-out', `${mesh.clientCert},${mesh.clientKey},${mesh.ca}`], '127.0.0.1', c)
      started.push(clientSide.child)
      ctx.log(`node-pipe-double: 127.0.0.1:${c} -> mTLS -> 127.0.0.1:${b} -> ${ctx.host}:${ctx.port}`)
      const pids = started.map(p => p.pid).filter((p): p is number => p !== undefined)
      return { host: '127.0.0.1', port: c, pid: clientSide.child.pid ?? null, pids, extraArgs: ['--pin-target'] }
    })
  }
}
