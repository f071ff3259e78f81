// `node scripts/cpu-by-test.ts [--out FILE] -- COMMAND...`: runs COMMAND (e.g. `pnpm test`) and,
// once a second, reads every process's CPU time from /proc (Linux), charging what each used since
// the last look to the test file it runs under (the nearest ancestor whose command line names a
// `.test.ts`) and to its kind (Kafka broker, Java tool, kproxy, ...). At the end it prints CPU
// seconds by kind and the test files that cost most, and writes all of it as JSON to FILE.
// A process that ends between two looks loses at most one second of its time; one first seen
// after it started is charged all of its time. docs/releasing.md has what it showed for CI.
import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'

const INTERVAL_MS = 1000
// command lines longer than this (Java classpaths) are only searched in their first part
const SEARCHED_CHARS = 4000

interface Seen { start: number, ticks: number }
interface Proc { pid: number, ppid: number, start: number, ticks: number, cmd: string }

const args = process.argv.slice(2)
const dash = args.indexOf('--')
if (dash < 0 || dash === args.length - 1) {
  process.stderr.write('usage: node scripts/cpu-by-test.ts [--out FILE] -- COMMAND...\n')
  process.exit(2)
}
const outAt = args.indexOf('--out')
const out = outAt >= 0 && outAt < dash ? args[outAt + 1]! : 'cpu-by-test.json'
const command = args.slice(dash + 1)
// /proc's unit of CPU time (USER_HZ, 100 on Linux)
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

const seen = new Map<number, Seen>()
const cmdlines = new Map<string, string>()
const charged = new Map<string, number>()
const began = Date.now()

function readProc (pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const start = Number(f[19])
    const key = `${pid}/${start}`
    let cmd = cmdlines.get(key)
    if (cmd === undefined) {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ')
      if (cmd !== '') cmdlines.set(key, cmd)
    }
    return { pid, ppid: Number(f[1]), start, ticks: Number(f[11]) + Number(f[12]), cmd }
  } catch {
    return null // ended while being read
  }
}

function kind (cmd: string): string {
  const program = cmd.slice(0, cmd.indexOf(' ') >>> 0)
  if (program.endsWith('java')) return cmd.includes(' kafka.Kafka ') ? 'kafka-broker' : 'java-tool'
  if (program.endsWith('kcat')) return 'kcat'
  if (program.includes('chrom')) return 'chromium'
  if (program.includes('envoy')) return 'envoy'
  if (program.includes('haproxy')) return 'haproxy'
  const head = cmd.slice(0, SEARCHED_CHARS)
  if (/ (serve|sandbox up)( |$)/.test(head)) return 'kproxy'
  if (head.includes('.test.ts')) return 'test-process'
  if (program.endsWith('node') || head.includes('kproxy')) return 'node-other'
  return 'other'
}

function testFileOf (pid: number, procs: Map<number, Proc>): string {
  for (let p = procs.get(pid), hops = 0; p !== undefined && hops < 32; p = procs.get(p.ppid), hops++) {
    const head = p.cmd.slice(0, SEARCHED_CHARS)
    const at = head.indexOf('.test.ts')
    if (at >= 0) return head.slice(head.lastIndexOf(' ', at) + 1, at + 8).replace(`${process.cwd()}/`, '')
  }
  return '(no test file)'
}

function look (): void {
  const procs = new Map<number, Proc>()
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    const p = readProc(pid)
    if (p !== null) procs.set(pid, p)
  }
  for (const p of procs.values()) {
    const before = seen.get(p.pid)
    const used = before !== undefined && before.start === p.start ? p.ticks - before.ticks : p.ticks
    seen.set(p.pid, { start: p.start, ticks: p.ticks })
    if (used <= 0 || (before === undefined && Date.now() - began < 2 * INTERVAL_MS)) continue
    const key = `${testFileOf(p.pid, procs)}\t${kind(p.cmd)}`
    charged.set(key, (charged.get(key) ?? 0) + used)
  }
}

look()
const timer = setInterval(look, INTERVAL_MS)
const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' })
child.on('exit', code => {
  clearInterval(timer)
  look()
  const byKind = new Map<string, number>()
  const byFile = new Map<string, number>()
  const rows: Array<{ file: string, kind: string, cpuSeconds: number }> = []
  for (const [key, ticks] of charged) {
    const [file, k] = key.split('\t') as [string, string]
    const s = ticks / ticksPerSecond
    rows.push({ file, kind: k, cpuSeconds: Math.round(s * 10) / 10 })
    byKind.set(k, (byKind.get(k) ?? 0) + s)
    byFile.set(file, (byFile.get(file) ?? 0) + s)
  }
  const total = [...byKind.values()].reduce((a, b) => a + b, 0)
  const wall = (Date.now() - began) / 1000
  writeFileSync(out, JSON.stringify({ command, wallSeconds: wall, cpuSeconds: total, rows }, null, 1))
  const lines = [`cpu-by-test: ${wall.toFixed(0)} s wall, ${total.toFixed(0)} CPU s sampled (${out})`]
  for (const [k, s] of [...byKind].sort((a, b) => b[1] - a[1])) lines.push(`  ${k.padEnd(14)} ${s.toFixed(0).padStart(6)} s`)
  lines.push('  costliest test files:')
  for (const [f, s] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`  ${s.toFixed(0).padStart(6)} s  ${f}`)
  process.stdout.write(`${lines.join('\n')}\n`)
  process.exitCode = code ?? 1
})
