// Test certificates from `kproxy certs` (the real CLI), as a user makes them.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))

// Runs `kproxy certs ...args`; rejects with its stderr when it fails.
export function kproxyCerts (...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(KPROXY, ['certs', ...args], { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err === null) resolve()
      else reject(new Error(`kproxy certs ${args.join(' ')} failed: ${stderr}`))
    })
  })
}

// The certificate and key files `kproxy certs issue --name <name> --out <certs>` writes.
export function certPair (certs: string, name: string): { crt: string, key: string } {
  return { crt: join(certs, `${name}.crt`), key: join(certs, `${name}.key`) }
}
