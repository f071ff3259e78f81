import t from 'tap'
import { Worker } from 'node:worker_threads'
import { capYoungGeneration, YOUNG_GENERATION_FLAG } from '../../src/supervisor/young-generation.ts'

// What the cap is for: a worker thread made after it collects short-lived socket-sized buffers in
// scavenges, not in full mark-compacts. Counted by the GC observer in a thread that allocates
// 64 KiB buffers (outside the JS heap, like socket reads) and drops them soon after. Run in a
// child process so that this process's V8 flags stay untouched.
const WORKER = `
import { parentPort } from 'node:worker_threads'
import { PerformanceObserver, constants } from 'node:perf_hooks'
let major = 0
let minor = 0
new PerformanceObserver(list => { for (const e of list.getEntries()) { if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++; else if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++ } }).observe({ entryTypes: ['gc'] })
const keep = []
let total = 0
function step () {
  for (let i = 0; i < 200; i++) { keep.push(Buffer.allocUnsafeSlow(65536)); if (keep.length > 64) keep.shift(); total += 65536 }
  if (total < 2 * 1024 ** 3) setImmediate(step)
  else setTimeout(() => parentPort.postMessage({ major, minor }), 50)
}
step()
`

async function gcCounts (mb: number): Promise<{ major: number, minor: number }> {
  const { execFileSync } = await import('node:child_process')
  const script = `
    import { Worker } from 'node:worker_threads'
    import { capYoungGeneration } from ${JSON.stringify(new URL('../../src/supervisor/young-generation.ts', import.meta.url).href)}
    capYoungGeneration(${mb})
    const w = new Worker(${JSON.stringify(WORKER)}, { eval: true })
    w.on('message', m => { console.log(JSON.stringify(m)); process.exit(0) })`
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }))
}

t.test('0 leaves V8 alone; N sets the flag', async t => {
  t.equal(capYoungGeneration(0), null)
  t.equal(YOUNG_GENERATION_FLAG, 'scavenger-max-new-space-capacity-mb')
  t.ok(Worker, 'worker threads available')
})

t.test('with the cap, a worker frees read-sized buffers in scavenges instead of mark-compacts', async t => {
  const capped = await gcCounts(8)
  const uncapped = await gcCounts(0)
  t.comment(`2 GiB of 64 KiB buffers: capped ${JSON.stringify(capped)}, V8 default ${JSON.stringify(uncapped)}`)
  t.ok(capped.major * 4 < uncapped.major, `mark-compacts: ${capped.major} capped vs ${uncapped.major} uncapped`)
  t.ok(capped.minor > uncapped.minor, 'more scavenges instead')
})
