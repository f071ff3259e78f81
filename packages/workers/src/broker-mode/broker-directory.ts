// Where upstream broker N really is (nodeId -> host:port), and which local port stands for it.
// One directory per startBrokerMode() call (one per worker thread): it is loaded at start from a
// Metadata response and kept current from every Metadata / DescribeCluster / FindCoordinator /
// NodeEndpoints response that passes through.
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { BrokerPortMapping, HostPort } from '@kproxy/core/config/proxy-config'

// The local port for a node id; -1 when an explicit map has no entry for it.
export function mappedPort (mapping: BrokerPortMapping, nodeId: number): number {
  if (mapping.kind === 'offset') {
    const port = mapping.base + nodeId
    return nodeId >= 0 && port > 0 && port < 65536 ? port : -1
  }
  const port = mapping.ports[nodeId]
  return port === undefined ? -1 : port
}

export function mappedPortOrThrow (mapping: BrokerPortMapping, nodeId: number): number {
  const port = mappedPort(mapping, nodeId)
  if (port < 0) {
    throw new KproxyError('KPROXY_ERR_BROKER_PORT_UNMAPPED',
      `Upstream broker ${nodeId} has no local port: add it to brokerPorts (explicit map) or choose an offset base that leaves base + ${nodeId} below 65536.`)
  }
  return port
}

export class BrokerDirectory {
  readonly #brokers = new Map<number, HostPort>()

  get size (): number {
    return this.#brokers.size
  }

  get (nodeId: number): HostPort | undefined {
    return this.#brokers.get(nodeId)
  }

  nodeIds (): number[] {
    return [...this.#brokers.keys()].sort((a, b) => a - b)
  }

  // Records a real address; returns true when the node was not known before.
  learn (nodeId: number, host: string, port: number): boolean {
    if (nodeId < 0 || host === '' || port <= 0) return false
    const known = this.#brokers.get(nodeId)
    if (known === undefined) {
      this.#brokers.set(nodeId, { host, port })
      return true
    }
    if (known.host !== host || known.port !== port) this.#brokers.set(nodeId, { host, port })
    return false
  }
}
