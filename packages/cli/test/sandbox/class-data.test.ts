import t from 'tap'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ArchiveRecorder, archivePath, baseArchiveUsable, useArchiveArgs } from '../../src/sandbox/class-data.ts'
import { javaCommand } from '../../src/sandbox/java.ts'

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-cds-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('the archive name depends on the JVM and on every jar', async t => {
  const jar = join(scratch, 'a.jar')
  writeFileSync(jar, 'x')
  const a = archivePath('/cache', '17.0.15', 'java', [jar])
  t.match(a, /^\/cache\/kafka\/4\.3\.1\/cds\/kafka-[0-9a-f]{16}\.jsa$/)
  t.equal(archivePath('/cache', '17.0.15', 'java', [jar]), a, 'stable')
  t.not(archivePath('/cache', '21.0.1', 'java', [jar]), a, 'other JVM version')
  utimesSync(jar, new Date(), new Date(Date.now() + 5000))
  t.not(archivePath('/cache', '17.0.15', 'java', [jar]), a, 'touched jar')
})

t.test('an archive is used only when it exists', async t => {
  const file = join(scratch, 'x.jsa')
  t.same(useArchiveArgs(null), [])
  t.same(useArchiveArgs(file), [])
  writeFileSync(file, 'x')
  t.same(useArchiveArgs(file), [`-XX:SharedArchiveFile=${file}`, '-Xlog:cds*=off'])
})

t.test('a recorded archive is published after a clean exit only', async t => {
  const nodeDir = join(scratch, 'node-1')
  mkdirSync(nodeDir)
  const archive = join(scratch, 'cache', 'cds', 'k.jsa')
  const recorder = new ArchiveRecorder(archive, nodeDir)
  t.same(recorder.args(), [`-XX:ArchiveClassesAtExit=${join(nodeDir, 'classes.jsa')}`, '-Xlog:cds*=off'])

  writeFileSync(recorder.scratch, 'half')
  await recorder.publish(null, 'SIGKILL')
  t.notOk(existsSync(archive), 'killed: not published')
  t.notOk(existsSync(recorder.scratch), 'scratch removed')

  writeFileSync(recorder.scratch, 'dump')
  await recorder.publish(143, null)
  t.equal(readFileSync(archive, 'utf8'), 'dump', 'SIGTERM exit (143): published')
  t.notOk(existsSync(recorder.scratch))

  await recorder.publish(0, null)
  t.equal(readFileSync(archive, 'utf8'), 'dump', 'nothing dumped: the archive stays')
})

t.test('recording needs the JDK base archive', async t => {
  t.equal(await baseArchiveUsable(javaCommand()), true, 'this JDK has one')
  const fake = join(scratch, 'java')
  writeFileSync(fake, '#!/bin/sh\necho "An error has occurred while processing the shared archive file." >&2\nexit 1\n')
  chmodSync(fake, 0o755)
  t.equal(await baseArchiveUsable(fake), false)
  t.equal(await baseArchiveUsable(join(scratch, 'no-such-java')), false)
})
