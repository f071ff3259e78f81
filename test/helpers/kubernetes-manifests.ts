// Kubernetes manifests checked with no network: rendered by kustomize (local directories only),
// then each object validated two ways against the Kubernetes API schemas of the
// `kubernetes-models` npm package:
//   - its JSON-schema validators (types, formats, required fields, enums), and
//   - its TypeScript types, by type-checking each object as an object literal: TypeScript's
//     excess-property check refuses unknown fields, which the JSON schemas (like the API
//     server without strict validation) let through silently — a misspelt `readinessProbe`
//     would otherwise be a probe that never runs. (It names the first unknown field of an
//     object; fixing it shows the next.)
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { parseAllDocuments } from 'yaml'

export type K8sObject = { apiVersion: string, kind: string, metadata?: { name?: string, namespace?: string, labels?: Record<string, string> }, [key: string]: unknown }

// kustomize: $KPROXY_KUSTOMIZE, else on PATH, else where scripts/setup.sh installs it.
export function findKustomize (env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.KPROXY_KUSTOMIZE !== undefined) return env.KPROXY_KUSTOMIZE
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'kustomize'))) return join(dir, 'kustomize')
  }
  const cached = join(env.KPROXY_CACHE ?? join(homedir(), '.cache', 'kproxy'), 'toolchain', 'bin', 'kustomize')
  return existsSync(cached) ? cached : null
}

export function kustomizeBuild (kustomize: string, dir: string): Promise<K8sObject[]> {
  return new Promise((resolve, reject) => {
    execFile(kustomize, ['build', dir], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`kustomize build ${dir} failed: ${stderr || err.message}`))
        return
      }
      resolve(parseManifests(stdout, dir))
    })
  })
}

export function parseManifests (text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source} document ${i}: ${doc.errors.map(e => e.message).join('; ')}`)
    return doc.toJS() as K8sObject
  }).filter(o => o !== null)
}

export function describe (o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name ?? '?'}`
}

// kubernetes-models/<group>/<version>/<Kind>, e.g. kubernetes-models/apps/v1/Deployment
function modelPath (o: K8sObject): string {
  return `kubernetes-models/${o.apiVersion}/${o.kind}`
}

// The JSON-schema validation of kubernetes-models; the problems found (empty: valid).
export async function schemaProblems (o: K8sObject): Promise<string[]> {
  let Model: new (data: unknown) => { validate (): void }
  try {
    const mod = await import(modelPath(o)) as Record<string, new (data: unknown) => { validate (): void }>
    Model = mod[o.kind]!
  } catch {
    return [`${describe(o)}: no Kubernetes API schema for apiVersion ${o.apiVersion} kind ${o.kind}`]
  }
  try {
    new Model(o).validate()
    return []
  } catch (err) {
    return [`${describe(o)}: ${(err as Error).message}`]
  }
}

// Type-checks every object against kubernetes-models' TypeScript interface of its kind, as an
// object literal (unknown fields are errors). The sources are virtual files in test/deploy/, so
// that `kubernetes-models` resolves from test/node_modules; nothing is written to disk.
export function typeProblems (objects: readonly K8sObject[]): string[] {
  const dir = fileURLToPath(new URL('../deploy/', import.meta.url))
  const files = new Map<string, { source: string, object: K8sObject }>()
  objects.forEach((o, i) => {
    const source = `import type { I${o.kind} } from '${modelPath(o)}'\nexport const manifest: I${o.kind} = ${JSON.stringify(o, null, 2)}\n`
    files.set(join(dir, `__manifest-${i}.ts`), { source, object: o })
  })
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: []
  }
  const host = ts.createCompilerHost(options)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = f => files.has(f) || fileExists.call(host, f)
  host.readFile = f => files.get(f)?.source ?? readFile.call(host, f)
  host.getSourceFile = (f, language, ...rest) => {
    const virtual = files.get(f)
    return virtual !== undefined ? ts.createSourceFile(f, virtual.source, language) : getSourceFile.call(host, f, language, ...rest)
  }
  const program = ts.createProgram([...files.keys()], options, host)
  return ts.getPreEmitDiagnostics(program).map(d => {
    const object = d.file === undefined ? undefined : files.get(d.file.fileName)?.object
    const where = object === undefined ? '' : `${describe(object)}: `
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}
