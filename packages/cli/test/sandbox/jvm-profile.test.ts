import t from 'tap'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jvmProfile, LEAN_JIT_ARGS, toolJvmArgs } from '../../src/sandbox/jvm-profile.ts'
import { runJavaMain } from '../../src/sandbox/kafka-tool.ts'
import type { JavaContext } from '../../src/sandbox/kafka-tool.ts'

t.test('KPROXY_SANDBOX_JVM: unset or empty is default, lean is lean, anything else is refused', async t => {
  t.equal(jvmProfile({}), 'default')
  t.equal(jvmProfile({ KPROXY_SANDBOX_JVM: '' }), 'default')
  t.equal(jvmProfile({ KPROXY_SANDBOX_JVM: 'default' }), 'default')
  t.equal(jvmProfile({ KPROXY_SANDBOX_JVM: 'lean' }), 'lean')
  t.throws(() => jvmProfile({ KPROXY_SANDBOX_JVM: 'fast' }), { code: 'KPROXY_ERR_SANDBOX_OPTIONS', message: 'KPROXY_SANDBOX_JVM is "fast"; use default or lean.' })
})

t.test('a Kafka tool gets the lean flags before its own and before the main class, and none by default', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-jvm-profile-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // stands in for java: prints the arguments it was given, one per line
  const java = join(dir, 'java')
  writeFileSync(java, '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
  chmodSync(java, 0o755)
  const ctx = (profile: 'default' | 'lean'): JavaContext => ({ java, classpath: 'cp.jar', libDir: dir, log4jFile: 'log4j.xml', archive: null, profile })
  const lean = await runJavaMain(ctx('lean'), 'Main', ['--x'], { jvmArgs: ['-Xmx1g'] })
  t.same(lean.stdout.trim().split('\n'), [...LEAN_JIT_ARGS, '-Xmx1g', '-Dlog4j2.configurationFile=log4j.xml', '-cp', 'cp.jar', 'Main', '--x'])
  const plain = await runJavaMain(ctx('default'), 'Main', [])
  t.same(plain.stdout.trim().split('\n'), ['-Dlog4j2.configurationFile=log4j.xml', '-cp', 'cp.jar', 'Main'])
  t.same(toolJvmArgs('default'), [])
})
