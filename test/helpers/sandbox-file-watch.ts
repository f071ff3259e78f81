// Watches DIR/sandbox.json the way an impatient script does while `kproxy sandbox up` starts:
// reads it every few milliseconds from before it exists. Records every distinct content seen and
// every read that was not complete JSON.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface SandboxFileWatch {
  // Stops watching once the file has been read at least once (the CLI prints sandbox.json right
  // after writing it, so its stdout line can arrive before the next poll); what was seen.
  stop (): Promise<{ reads: number, partial: string[], versions: string[] }>
}

export function watchSandboxFile (dir: string, everyMs = 5): SandboxFileWatch {
  const file = join(dir, 'sandbox.json')
  let reads = 0
  const partial: string[] = []
  const versions: string[] = []
  const timer = setInterval(() => {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return // not there yet
    }
    reads++
    try {
      JSON.parse(text)
    } catch {
      partial.push(text.slice(0, 200))
      return
    }
    if (versions.at(-1) !== text) versions.push(text)
  }, everyMs)
  return {
    async stop () {
      for (let waited = 0; reads === 0 && waited < 2000; waited += everyMs) await new Promise(resolve => setTimeout(resolve, everyMs))
      clearInterval(timer)
      return { reads, partial, versions }
    }
  }
}
