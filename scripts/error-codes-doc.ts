// Writes docs/errors.md from the error code registry (packages/core/src/errors/error-codes.ts):
// every KPROXY_ERR_* and KPROXY_WARN_* code with what it means, what to do, where it is raised and
// the sentence it says there (read from the source). Fails when the source uses a code that is
// not registered, or a registered code is used nowhere. `--check` also exits 1 when the file is
// stale (pnpm test runs it).
import { readFileSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { ERROR_CODES } from '@kproxy/core/errors/error-codes'
import { collectUses, registryProblems, renderErrorsDoc } from '@kproxy/core/errors/error-codes-doc'

const root = resolve(import.meta.dirname, '..')
const docPath = join(root, 'docs/errors.md')

if (import.meta.main) {
  const used = collectUses(root)
  const problems = registryProblems(used, ERROR_CODES)
  if (problems.length > 0) {
    process.stderr.write(problems.join('\n') + '\n')
    process.exitCode = 1
  } else {
    const text = renderErrorsDoc(used, ERROR_CODES)
    if (process.argv.includes('--check')) {
      let current = ''
      try { current = readFileSync(docPath, 'utf8') } catch {}
      if (current !== text) {
        process.stderr.write('docs/errors.md is stale: run `node scripts/error-codes-doc.ts` and commit it.\n')
        process.exitCode = 1
      }
    } else {
      writeFileSync(docPath, text)
      process.stdout.write(`wrote ${relative(root, docPath)}\n`)
    }
  }
}
