// Headless Chromium for browser tests (playwright-core driving the system's /usr/bin/chromium,
// with a fresh profile), and a tiny static server that serves a test page and the browser SDK
// bundled from source. Tests skip with a message where Chromium is not installed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import type { BrowserContext } from 'playwright-core'
import { ROOT } from './collector-process.js'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`[browser tests] skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`)

/** Where tests leave screenshots (gitignored). */
export const OUTPUT_DIR = join(ROOT, 'test-results')

export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core')
  const profile = mkdtempSync(join(tmpdir(), 'meterkit-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  return {
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** The browser SDK bundled from source as ES modules (the entry and its lazy chunks), by file name. */
export async function bundleBrowserSdk(): Promise<Map<string, string>> {
  const out = await build({
    entryPoints: { index: join(ROOT, 'packages/browser/src/index.ts') },
    bundle: true, format: 'esm', splitting: true, outdir: '/sdk', platform: 'browser', conditions: ['source'], write: false, logLevel: 'silent',
  })
  return new Map(out.outputFiles.map((f) => [`/sdk/${f.path.split('/').pop()}`, f.text]))
}

/**
 * Serves `/` (a page that makes `window.mk` from its query: endpoint, token, customer; errors
 * collected in `window.mkErrors`) and the SDK under /sdk/.
 */
export async function startSdkPage(files: Map<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const page = `<!doctype html><meta charset="utf-8"><title>sdk</title><script type="module">
    import { Meterkit } from '/sdk/index.js'
    const q = new URLSearchParams(location.search)
    window.mkErrors = []
    window.mk = new Meterkit({ endpoint: q.get('endpoint'), token: q.get('token'), customerId: q.get('customer'),
      flushIntervalMs: 60000, onError: (e) => window.mkErrors.push(e.code) })
  </script>`
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname
    const body = path === '/' ? page : files.get(path)
    if (body === undefined) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': path === '/' ? 'text/html' : 'text/javascript', 'cache-control': 'no-store' }).end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  }
}
