// Each double-proxy and peer target against a real 1-node Kafka sandbox: it starts, a Metadata
// request goes through it and is answered by the broker (and, for proxies that rewrite the
// broker addresses, a second request through the advertised address answers too), and stop()
// leaves none of its processes running. A peer that is not installed is skipped with the reason
// its start gave (scripts/install-peers.sh installs them).
import t from 'tap'
import { startCluster } from '@kproxy/cli/sandbox/cluster'
import { SetupConnection } from '../src/connection.ts'
import { fetchMetadata } from '../src/requests.ts'
import { TARGETS } from '../src/targets.ts'
import type { RunningTarget } from '../src/targets.ts'

const cluster = await startCluster({ brokers: 1 })
t.teardown(() => cluster.stop())
const [host, portText] = cluster.bootstrap.split(':')
const port = Number(portText)

const NOT_INSTALLED = /is not installed|no Envoy binary|needs Java 21/

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function metadata (h: string, p: number): Promise<Map<number, { host: string, port: number }>> {
  const conn = await SetupConnection.open(h, p)
  try {
    return (await fetchMetadata(conn, null)).brokers
  } finally {
    conn.close()
  }
}

// whether the target rewrites the broker addresses in Metadata (layer-7) or relays bytes (layer 4)
const CASES: Array<{ name: string, rewrites: boolean }> = [
  { name: 'kproxy-double', rewrites: true },
  { name: 'envoy-double', rewrites: false },
  { name: 'haproxy', rewrites: false },
  { name: 'kafka-proxy', rewrites: true },
  { name: 'kroxylicious', rewrites: true }
]

for (const c of CASES) {
  t.test(`${c.name}: starts, passes Metadata to the broker, stops`, async t => {
    let target: RunningTarget
    try {
      target = await TARGETS[c.name]!.start({ host: host!, port, brokerPid: null, log: m => t.comment(m) })
    } catch (err) {
      const message = (err as Error).message
      if (NOT_INSTALLED.test(message)) { t.pass(`${c.name} is not installed`, { skip: message }); return }
      throw err
    }
    const pids = target.pids ?? (target.pid === null ? [] : [target.pid])
    try {
      t.ok(pids.length >= 1 && pids.every(alive), `${c.name} processes ${pids.join(', ')} run`)
      if (c.name.endsWith('-double')) t.equal(pids.length, 2, 'a client side and a broker side')
      const brokers = await metadata(target.host, target.port)
      t.equal(brokers.size, 1, 'the 1-node cluster\'s broker')
      const b = [...brokers.values()][0]!
      if (c.rewrites) {
        t.not(`${b.host}:${b.port}`, cluster.bootstrap, 'the broker address is rewritten to the proxy\'s')
        const again = await metadata(b.host, b.port)
        t.equal(again.size, 1, 'the advertised (proxied) broker address answers Metadata too')
      } else {
        t.equal(`${b.host}:${b.port}`, cluster.bootstrap, 'a layer-4 proxy passes the broker\'s own address through')
      }
    } finally {
      await target.stop()
    }
    t.ok(pids.every(p => !alive(p)), 'every process of the target has exited')
  })
}
