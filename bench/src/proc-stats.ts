// CPU time and resident memory of a process, from Linux /proc (the harness runs on Linux).
import { readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let ticksPerSecond = 0

function clockTicks (): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

// utime + stime in seconds, or null when the process is gone. /proc/<pid>/stat:
//   pid (comm) state ppid ... field 14 utime, field 15 stime (clock ticks); comm may hold spaces,
//   so fields are counted after the last ')'.
export function cpuSeconds (pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): utime is field 14 -> index 11, stime index 12
    return (Number(fields[11]) + Number(fields[12])) / clockTicks()
  } catch {
    return null
  }
}

// The machine's CPU time from /proc/stat's first line (all CPUs, clock ticks): the total and the
// part stolen by the hypervisor for other guests (field 8, "steal"). Null where unreadable.
export interface CpuTimes { total: number, steal: number }
const STEAL_FIELD = 8

export function machineCpuTimes (): CpuTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
    const ticks = line.trim().split(/\s+/).slice(1).map(Number)
    return { total: ticks.reduce((a, b) => a + b, 0), steal: ticks[STEAL_FIELD - 1] ?? 0 }
  } catch {
    return null
  }
}

// The share of CPU time stolen between two readings, in percent (null when either is missing).
export function stealPercent (from: CpuTimes | null, to: CpuTimes | null): number | null {
  if (from === null || to === null || to.total <= from.total) return null
  return 100 * (to.steal - from.steal) / (to.total - from.total)
}

// VmRSS in KiB, or null when the process is gone.
export function rssKiB (pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Number(m[1])
  } catch {
    return null
  }
}

// Open descriptors of a process and its soft and hard RLIMIT_NOFILE, or null when unreadable.
//   /proc/<pid>/limits: "Max open files            20000                20000                files"
export function openFiles (pid: number): { open: number, soft: number, hard: number } | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))
    if (m === null) return null
    const n = (s: string): number => s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s)
    return { open: readdirSync(`/proc/${pid}/fd`).length, soft: n(m[1]!), hard: n(m[2]!) }
  } catch {
    return null
  }
}

// Raises a process's soft open-files limit to its hard limit (util-linux prlimit; a process may
// do that for another one of the same user). Raising the hard limit needs CAP_SYS_RESOURCE, which
// is not attempted. Returns the soft limit in force afterwards, or null when it cannot be read.
export function raiseOpenFilesToHard (pid: number): number | null {
  const before = openFiles(pid)
  if (before === null) return null
  if (before.soft >= before.hard) return before.soft
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${before.hard}:${before.hard}`], { stdio: 'ignore' })
  } catch {}
  return openFiles(pid)?.soft ?? before.soft
}
