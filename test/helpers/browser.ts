import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.GOVMESH_CHROMIUM ?? '/usr/bin/chromium'
// Without these, Chromium on a closed network waits on update, sync and QUIC probes and hangs.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface BrowserHandle {
  context: BrowserContext
  /** Messages of console errors and uncaught page errors, from every page opened with {@link BrowserHandle.page}. */
  errors: string[]
  page: () => Promise<Page>
  close: () => Promise<void>
}

/** Launches Debian's Chromium (no browser download) with a fresh profile. */
export async function launchChromium (): Promise<BrowserHandle> {
  const profile = mkdtempSync(join(tmpdir(), 'govmesh-chromium-'))
  // A persistent context is how Playwright takes a --user-data-dir of our own (a fresh one per launch).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 1000 },
    acceptDownloads: true
  })
  const errors: string[] = []
  return {
    context,
    errors,
    page: async () => {
      const page = await context.newPage()
      page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`) })
      page.on('pageerror', (err) => { errors.push(`${page.url()}: ${err.message}`) })
      return page
    },
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** A folder for screenshots (gitignored), created on demand. */
export function outputDir (name: string): string {
  const dir = new URL(`../../test-output/${name}/`, import.meta.url).pathname
  mkdirSync(dir, { recursive: true })
  return dir
}
