// `pnpm test:full`: the long acceptance tests at the size their issues name (100,000 records per
// producer, 500 topics), which `pnpm test` and CI run smaller. They are the test files that
// import test/helpers/scale.ts; each runs with KPROXY_TEST_SCALE=full. Extra arguments go to tap
// (e.g. a single file). Takes about 15 minutes on 2 cores.
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')

function testFiles (dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...testFiles(p))
    else if (entry.name.endsWith('.test.ts') && readFileSync(p, 'utf8').includes("from '../helpers/scale.ts'")) out.push(relative(root, p))
  }
  return out
}

const args = process.argv.slice(2)
const files = args.some(a => a.endsWith('.ts')) ? [] : testFiles(join(root, 'test')).sort()
process.stdout.write(`test:full: ${files.join(', ') || args.join(' ')}\n`)
const child = spawn('pnpm', ['exec', 'tap', '--disable-coverage', '--jobs', '1', ...files, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, KPROXY_TEST_SCALE: 'full' }
})
child.on('close', code => { process.exitCode = code ?? 1 })
