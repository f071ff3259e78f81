// The dashboard's static files: the page and its scripts from ./dashboard/ next to this file,
// and uPlot's distribution files from node_modules (installed with kproxy, not copied into the
// repository). Read once when the admin server starts; served from memory.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KproxyError } from '@kproxy/core/kproxy-error'

export interface StaticFile {
  body: Buffer
  type: string
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon'
}

// What the page may do: its own scripts and styles only (no inline script, so a client id that
// somehow reached the page as markup still could not run), fetch from this server, no framing.
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const DASHBOARD_DIR = fileURLToPath(new URL('./dashboard/', import.meta.url))
const VENDOR: ReadonlyArray<[urlPath: string, pkg: string, file: string]> = [
  ['/vendor/uplot/uPlot.iife.min.js', 'uplot', 'dist/uPlot.iife.min.js'],
  ['/vendor/uplot/uPlot.min.css', 'uplot', 'dist/uPlot.min.css']
]

function walk (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

// url path -> file; '/' is the page
export function loadDashboardFiles (): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  for (const path of walk(DASHBOARD_DIR)) {
    const type = TYPES[extname(path)]
    if (type === undefined) continue
    const url = '/dashboard/' + relative(DASHBOARD_DIR, path).split(sep).join('/')
    files.set(url, { body: readFileSync(path), type })
  }
  const index = files.get('/dashboard/index.html')
  if (index !== undefined) files.set('/', index)
  const require = createRequire(import.meta.url)
  for (const [url, pkg, file] of VENDOR) {
    let path: string
    try {
      path = join(dirname(require.resolve(`${pkg}/package.json`)), file)
      files.set(url, { body: readFileSync(path), type: TYPES[extname(path)]! })
    } catch (err) {
      throw new KproxyError('KPROXY_ERR_ADMIN_DASHBOARD', `the dashboard needs ${pkg}/${file}, which is not installed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); run \`pnpm install\` in kproxy's directory`)
    }
  }
  return files
}
