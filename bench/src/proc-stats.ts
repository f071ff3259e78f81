// CPU time and resident memory of a process, from Linux /proc (the harness runs on Linux).
import { readFileSync } from 'node:fs'
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

// VmRSS in KiB, or null when the process is gone.
export function rssKiB (pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Number(m[1])
  } catch {
    return null
  }
}
