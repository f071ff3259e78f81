// `kproxy sandbox up` flags: which topology takes which option, and the defaults. Starting the
// sandboxes themselves is test/integration's business (sandbox-cli, sandbox-mesh, ...).
import t from 'tap'
import { parseUpArgs } from '../../src/commands/sandbox-up.ts'
import type { UpOptions } from '../../src/commands/sandbox-up.ts'

async function options (argv: string[]): Promise<UpOptions> {
  const o = await parseUpArgs(argv)
  if (typeof o === 'string') throw new Error(`usage error: ${o}`)
  return o
}

t.test('--proxy-workers: mesh defaults to 2 and takes N, like the other topologies with a kproxy', async t => {
  t.match(await options(['--topology', 'mesh']), { topology: 'mesh', proxyWorkers: 2 })
  t.match(await options(['--topology', 'mesh', '--proxy-workers', '3']), { topology: 'mesh', proxyWorkers: 3 })
  t.match(await options(['--topology', 'mesh', '--proxy-workers', '1']), { topology: 'mesh', proxyWorkers: 1 })
  t.match(await options(['--topology', 'double-proxy-tls']), { proxyWorkers: 1 })
  t.match(await options(['--topology', 'double-proxy-tls', '--proxy-workers', '4']), { proxyWorkers: 4 })
  t.match(await options(['--replicas', '2', '--proxy-workers', '2']), { topology: 'replicas', replicas: 2, proxyWorkers: 2 })
})

t.test('--proxy-workers: refused without a kproxy, and out of range', async t => {
  t.match(await parseUpArgs(['--proxy-workers', '2']), /--proxy-workers needs --topology double-proxy-tls, --topology mesh or --replicas/)
  for (const n of ['0', '65', 'two', '1.5']) {
    t.match(await parseUpArgs(['--topology', 'mesh', '--proxy-workers', n]), /--proxy-workers must be 1 to 64/, `--proxy-workers ${n}`)
  }
})

t.test('--tls with --sasl: both listeners asked for on a plain sandbox', async t => {
  t.match(await options(['--tls', '--sasl']), { topology: 'plain', tls: true, sasl: true })
  t.match(await parseUpArgs(['--sasl', '--topology', 'mesh']), /--sasl cannot be combined/)
})
