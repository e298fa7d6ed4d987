// GET /docs of a real `meterkit start` in headless Chromium: the reference page loads with no
// console error, asks nothing of any other host (it works offline), and lists every operation of
// /openapi.json, POST /v1/events among them. A screenshot is left in test-results/.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, type CollectorProcess, startCollector, tempDir } from '../support/collector-process.js'
import { OUTPUT_DIR, hasChromium, launchChromium } from '../support/chromium.js'

let collector: CollectorProcess
let browser: Awaited<ReturnType<typeof launchChromium>>

describe.skipIf(!hasChromium)('the API reference page', () => {
  beforeAll(async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
    ;[collector, browser] = await Promise.all([startCollector(join(tempDir(), 'meterkit.db')), launchChromium()])
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    collector?.child.kill('SIGTERM')
    await collector?.exited
  })

  it('renders /openapi.json offline and lists the operations', async () => {
    const doc = (await (await fetch(`${collector.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary: string }>> }
    const page = await browser.context.newPage()
    const problems: string[] = []
    const elsewhere: string[] = []
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
    })
    page.on('pageerror', (err) => problems.push(`page: ${err.message}`))
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`))
    // Anything for another host is refused and recorded: the page must not need the network.
    await page.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith(collector.url) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue()
      elsewhere.push(url)
      return route.abort()
    })

    await page.setViewportSize({ width: 1280, height: 800 })
    const res = await page.goto(`${collector.url}/docs`)
    expect(res?.status()).toBe(200)
    // Redoc's sidebar holds an item per operation, keyed by its tag and operationId (collapsed per tag).
    const sendEvents = page.locator('[data-item-id="tag/Events/operation/sendEvents"]')
    // Generous: Redoc parses 1 MB of script and renders every operation, on a machine that may be
    // busy with other tests. What the page reported is in the error if it never renders.
    await sendEvents.waitFor({ state: 'attached', timeout: 90_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\npage problems: ${JSON.stringify(problems)}; other hosts asked: ${JSON.stringify(elsewhere)}`)
    })
    expect(await sendEvents.textContent()).toContain('Send events')
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0)
    expect(await page.locator('li[data-item-id*="/operation/"]').count()).toBe(operations)
    // Opening the tag and the operation shows its section: the summary as a heading, the path.
    await page.locator('[data-item-id="tag/Events"]').click()
    await sendEvents.click()
    const section = page.locator('[id="tag/Events/operation/sendEvents"]')
    await section.locator('h2', { hasText: 'Send events' }).waitFor({ timeout: 30_000 })
    expect(await section.textContent()).toContain('/v1/events')

    mkdirSync(OUTPUT_DIR, { recursive: true })
    await page.screenshot({ path: join(OUTPUT_DIR, 'api-reference.png') })
    expect(problems).toEqual([])
    expect(elsewhere).toEqual([])
  }, 180_000)
})
