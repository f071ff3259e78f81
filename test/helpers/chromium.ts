// Debian's Chromium, headless, driven over the DevTools protocol by puppeteer-core, for the
// dashboard's browser tests. A fresh profile per browser; every console error, page error and
// failed request of the page is collected, so that a test can require none.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import puppeteer from 'puppeteer-core'
import type { Browser, Page } from 'puppeteer-core'
import type { TeardownHost } from './kafka.ts'

export const CHROMIUM = process.env.KPROXY_CHROMIUM ?? '/usr/bin/chromium'
// screenshots kept by CI as test artifacts
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

export function hasChromium (): boolean {
  return spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore' }).status === 0
}

export const NO_CHROMIUM = `${CHROMIUM} is missing: \`apt-get install -y chromium\` (scripts/setup.sh does it)`

export interface OpenPage {
  browser: Browser
  page: Page
  // console errors, uncaught exceptions and failed requests, as text
  problems: string[]
}

export async function openPage (t: TeardownHost, url: string, viewport = { width: 1400, height: 1000 }): Promise<OpenPage> {
  const profile = mkdtempSync(join(tmpdir(), 'kproxy-chromium-'))
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`],
    userDataDir: profile
  })
  t.teardown(async () => {
    await browser.close()
    rmSync(profile, { recursive: true, force: true })
  })
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', m => { if (m.type() === 'error') problems.push(`console: ${m.text()}`) })
  page.on('pageerror', err => problems.push(`page error: ${(err as Error).message}`))
  page.on('requestfailed', r => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`))
  page.on('response', r => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`) })
  await page.setViewport(viewport)
  await page.goto(url, { waitUntil: 'load' })
  return { browser, page, problems }
}

export async function screenshot (page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, name)
  await page.screenshot({ path, fullPage: true })
  return path
}
