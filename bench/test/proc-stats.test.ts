import t from 'tap'
import { openSync, closeSync } from 'node:fs'
import { openFiles, raiseOpenFilesToHard } from '../src/proc-stats.ts'

t.test('openFiles counts this process descriptors against its limits', async t => {
  const before = openFiles(process.pid)
  t.ok(before !== null)
  t.ok(before!.open > 2)
  t.ok(before!.soft <= before!.hard)
  const fds = Array.from({ length: 5 }, () => openSync('/dev/null', 'r'))
  t.equal(openFiles(process.pid)!.open, before!.open + 5, 'five more open files are seen')
  for (const fd of fds) closeSync(fd)
  t.equal(openFiles(2 ** 22 + 12345), null, 'no such process')
})

t.test('raiseOpenFilesToHard leaves the soft limit at the hard one', async t => {
  const soft = raiseOpenFilesToHard(process.pid)
  const now = openFiles(process.pid)!
  t.equal(soft, now.soft)
  t.ok(now.soft === now.hard || now.soft >= (openFiles(process.pid)!.soft), 'raised when prlimit is there, never lowered')
  t.equal(raiseOpenFilesToHard(2 ** 22 + 12345), null)
})
