// The policy files shown in the docs (```yaml blocks marked `# acl.yaml`, `# quotas.yaml`,
// `# users.yaml`; test/config/doc-examples.ts) are accepted by the parsers kproxy reads those
// files with, so a reader who copies one gets a file kproxy takes.
import t from 'tap'
import { parseAclRulesFile } from '../../src/policy/acl-rules-parser.ts'
import { parseCredentialsFile } from '../../src/policy/credentials-file.ts'
import { PolicyFileError } from '../../src/policy/policy-source.ts'
import { parseQuotasFile } from '../../src/policy/quota-config.ts'
import { docExamples } from '../config/doc-examples.ts'
import type { ExampleKind } from '../config/doc-examples.ts'

const PARSERS: Partial<Record<ExampleKind, (text: string, file: string) => unknown>> = {
  'acl-rules': parseAclRulesFile,
  quotas: parseQuotasFile,
  credentials: parseCredentialsFile
}

const all = docExamples().filter(e => PARSERS[e.kind] !== undefined)

t.test('the docs hold an ACL rules file and a quotas file', async t => {
  t.ok(all.some(e => e.kind === 'acl-rules' && e.skip === null), 'an ACL rules file')
  t.ok(all.some(e => e.kind === 'quotas' && e.skip === null), 'a quotas file')
})

for (const ex of all) {
  t.test(`${ex.file}:${ex.line} (${ex.kind})`, { skip: ex.skip ?? false }, async t => {
    let errors: readonly string[] = []
    try {
      PARSERS[ex.kind]!(ex.text, ex.file)
    } catch (err) {
      if (!(err instanceof PolicyFileError)) throw err
      errors = err.errors
    }
    t.same(errors, [], `the ${ex.kind} parser accepts it`)
  })
}
