import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, rmSync, statSync } from 'node:fs'
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { kafkaHome } from './jars.ts'

// Application class-data sharing (AppCDS) for the Kafka JVMs.
//
// A broker spends most of its start-up CPU loading and verifying ~10k classes. A dynamic CDS
// archive (JDK 13+: -XX:ArchiveClassesAtExit, then -XX:SharedArchiveFile) maps them from one
// file instead. Measured here (2 cores, one node, CPU until "Kafka Server started"):
//   G1 defaults                 5.1–6.0 s
//   G1 + AppCDS                 3.2–3.4 s
//   G1 + -XX:TieredStopAtLevel=1  3.4 s, but C1-only code caps peak throughput.
// CDS does not touch the JIT, so steady-state throughput is unchanged.
//
// The archive is only valid for the exact JVM and classpath (jar paths, sizes, mtimes), so its
// name carries a hash of those; an unusable archive is silently ignored by the JVM (-Xshare:auto)
// and a new key simply builds a new one. The first sandbox that finds none records one from
// node 1 at its orderly exit.
// -Xlog:cds*=off keeps CDS warnings off stdout, which tools use for their output.
const QUIET = '-Xlog:cds*=off'

export function archivePath (cacheDir: string, javaVersion: string, javaCommand: string, jars: readonly string[]): string {
  const hash = createHash('sha256').update(`${javaVersion}\n${javaCommand}\n`)
  for (const jar of jars) {
    const s = statSync(jar)
    hash.update(`${jar} ${s.size} ${s.mtimeMs}\n`)
  }
  return join(kafkaHome(cacheDir), 'cds', `kafka-${hash.digest('hex').slice(0, 16)}.jsa`)
}

// A dynamic archive sits on top of the JDK's base CDS archive; a JDK without one refuses to
// start with -XX:ArchiveClassesAtExit. `-Xshare:on` fails fast exactly when the base is unusable.
export function baseArchiveUsable (java: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return new Promise(resolve => {
    execFile(java, ['-Xshare:on', '-version'], { env, timeout: 30_000 }, err => resolve(err === null))
  })
}

// Flags for a JVM that may use the archive when there is one.
export function useArchiveArgs (archive: string | null): string[] {
  return archive !== null && existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`, QUIET] : []
}

// Records an archive from one node's JVM: dumped at its orderly exit into the node's own
// directory (so the reaper removes a half-written one), then published into the cache.
export class ArchiveRecorder {
  readonly archive: string
  readonly scratch: string
  constructor (archive: string, nodeDir: string) {
    this.archive = archive
    this.scratch = join(nodeDir, 'classes.jsa')
  }

  args (): string[] {
    return [`-XX:ArchiveClassesAtExit=${this.scratch}`, QUIET]
  }

  // Publishes only after a clean exit (0, or 143 from SIGTERM); never replaces a file in place.
  async publish (code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    try {
      const clean = signal === null && (code === 0 || code === 143)
      const size = await stat(this.scratch).then(s => s.size, () => 0)
      if (!clean || size === 0) return
      await mkdir(join(this.archive, '..'), { recursive: true })
      const tmp = `${this.archive}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
      try {
        await copyFile(this.scratch, tmp)
        await rename(tmp, this.archive)
      } finally {
        await rm(tmp, { force: true })
      }
    } catch {
      // An archive is an optimisation; failing to keep one only costs start-up time.
    } finally {
      rmSync(this.scratch, { force: true })
    }
  }
}
