// The certificates of the double-proxy topology's tunnel ("mesh"), separate from the sandbox
// brokers' CA: the broker-side kproxy trusts only client certificates of the mesh CA, and the
// client-side kproxy trusts only a broker-side kproxy of the mesh CA.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'

// The common name of the client-side kproxy's certificate; the broker-side kproxy's default
// principal mapping (the full subject DN) turns it into the principal `CN=client-proxy`.
export const CLIENT_SIDE_CN = 'client-proxy'
export const BROKER_SIDE_CN = 'kproxy-broker-side'

export interface MeshCerts {
  dir: string
  ca: string
  caKey: string
  // broker-side kproxy's server certificate (chain) and key: SANs IP:127.0.0.1, DNS:localhost
  serverCert: string
  serverKey: string
  // client-side kproxy's client certificate (chain) and key
  clientCert: string
  clientKey: string
}

export async function writeMeshCerts (dir: string, days = 30): Promise<MeshCerts> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const ca = await createCa({ commonName: 'kproxy sandbox mesh CA', days })
  const [server, client] = await Promise.all([
    issueCertificate(ca, { name: BROKER_SIDE_CN, server: true, sans: ['IP:127.0.0.1', 'DNS:localhost'], days }),
    issueCertificate(ca, { name: CLIENT_SIDE_CN, client: true, days })
  ])
  const files: MeshCerts = {
    dir,
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, `${BROKER_SIDE_CN}.crt`),
    serverKey: join(dir, `${BROKER_SIDE_CN}.key`),
    clientCert: join(dir, `${CLIENT_SIDE_CN}.crt`),
    clientKey: join(dir, `${CLIENT_SIDE_CN}.key`)
  }
  await Promise.all([
    writeFile(files.ca, ca.cert),
    writeFile(files.caKey, ca.key, { mode: 0o600 }),
    writeFile(files.serverCert, server.chain),
    writeFile(files.serverKey, server.key, { mode: 0o600 }),
    writeFile(files.clientCert, client.chain),
    writeFile(files.clientKey, client.key, { mode: 0o600 })
  ])
  return files
}
