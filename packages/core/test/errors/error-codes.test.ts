// The registry and the source agree: every code the source uses is registered, every registered
// code is used, and docs/errors.md is what the registry generates (scripts/error-codes-doc.ts).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES, isKproxyCode } from '../../src/errors/error-codes.ts'
import { collectUses, registryProblems, renderErrorsDoc, usesIn } from '../../src/errors/error-codes-doc.ts'

t.test('the source and the registry agree, and docs/errors.md is current', async t => {
  const used = collectUses(fileURLToPath(new URL('../../../../', import.meta.url)))
  t.same(registryProblems(used, ERROR_CODES), [])
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url)), 'utf8')
  t.equal(doc, renderErrorsDoc(used, ERROR_CODES), 'stale: run node scripts/error-codes-doc.ts')
})

t.test('an unregistered code in the source, or an unused registered one, is reported', async t => {
  const used = new Map(usesIn("throw new KproxyError('KPROXY_ERR_CONFIG', 'x'); log.warn({ code: 'KPROXY_WARN_MADE_UP' }, 'y')", 'a.ts')
    .map(([code, use]) => [code, [use]]))
  const problems = registryProblems(used, { KPROXY_ERR_CONFIG: ERROR_CODES.KPROXY_ERR_CONFIG, KPROXY_ERR_USAGE: ERROR_CODES.KPROXY_ERR_USAGE })
  t.same(problems, [
    'KPROXY_WARN_MADE_UP is used in a.ts but not registered in packages/core/src/errors/error-codes.ts; add it there (what it means, what to do)',
    'KPROXY_ERR_USAGE is registered in packages/core/src/errors/error-codes.ts but used nowhere; remove it'
  ])
})

t.test('every registered code has a gist and an action, and a code name of the right form', async t => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    t.match(code, /^KPROXY_(ERR|WARN)_[A-Z0-9_]+$/)
    t.ok(spec.gist.length > 10 && spec.action.length > 10, code)
    t.ok(isKproxyCode(code))
  }
  t.notOk(isKproxyCode('KPROXY_ERR_NOPE'))
})
