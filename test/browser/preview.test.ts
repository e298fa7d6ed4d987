// examples/browser-preview in headless Chromium: the page shows a customer's usage and credit
// balance and follows a server-side ingest live (over the stream), and prices a render before it
// starts. A screenshot is left in test-results/.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, ROOT, type CollectorProcess, postEvents, startCollector, tempDir } from '../support/collector-process.js'
import { OUTPUT_DIR, hasChromium, launchChromium } from '../support/chromium.js'
// @ts-expect-error: plain ESM example without type declarations
import { startPreviewServer } from '../../examples/browser-preview/server.mjs'

let collector: CollectorProcess
let browser: Awaited<ReturnType<typeof launchChromium>>
let preview: { url: string; close(): Promise<void> }

describe.skipIf(!hasChromium)('browser preview page', () => {
  beforeAll(async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
    collector = await startCollector(join(tempDir(), 'meterkit.db'))
    await fetch(`${collector.url}/v1/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        meters: [
          { key: 'render_seconds', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', groupBy: ['resolution'] },
          { key: 'renders', event: 'render.completed', aggregation: 'count' },
        ],
        plans: [{
          key: 'creator', currency: 'USD', interval: 'month', creditPrice: '0.01',
          charges: [{ key: 'render', meter: 'render_seconds', unit: 'credits', model: 'dimensional', dimension: 'resolution',
            prices: { '4k': { model: 'per_unit', unitAmount: '4' }, '*': { model: 'per_unit', unitAmount: '1' } } }],
        }],
      }),
    })
    const admin = (path: string, body: unknown) => fetch(`${collector.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect((await admin('/v1/subscriptions', { customerId: 'cus_preview', plan: 'creator', startAt: new Date(Date.now() - 86_400_000).toISOString() })).status).toBe(201)
    expect((await admin('/v1/customers/cus_preview/grants', { credits: '1000' })).status).toBe(201)
    ;[browser, preview] = await Promise.all([launchChromium(), startPreviewServer({ endpoint: collector.url, apiKey: ADMIN_KEY, customerId: 'cus_preview', port: 0 })])
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await preview?.close()
    collector?.child.kill('SIGTERM')
    await collector?.exited
  })

  it('shows usage changing after a server-side ingest', async () => {
    const page = await browser.context.newPage()
    await page.setViewportSize({ width: 1000, height: 640 })
    await page.goto(preview.url)
    const seconds = page.locator('[data-meter="render_seconds"] .value')
    await seconds.waitFor({ timeout: 10_000 })
    expect(await seconds.textContent()).toBe('0')
    await page.locator('#status[data-state="live"]').waitFor({ timeout: 10_000 })

    await page.waitForFunction(() => document.querySelector('#balance-available')?.textContent === '1000', undefined, { timeout: 10_000 })
    const render = (id: string, gpuSeconds: number) => ({ id, event: 'render.completed', customerId: 'cus_preview', timestamp: new Date().toISOString(), properties: { gpuSeconds, resolution: '1080p' } })
    expect((await postEvents(collector.url, [render('p1', 12.5), render('p2', 30)])).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('[data-meter="render_seconds"] .value')?.textContent === '42.5', undefined, { timeout: 10_000 })
    expect(await page.locator('[data-meter="renders"] .value').textContent()).toBe('2')
    expect((await postEvents(collector.url, [render('p3', 7.5)])).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('[data-meter="render_seconds"] .value')?.textContent === '50', undefined, { timeout: 10_000 })
    // The chart has a point per figure received.
    expect(await page.locator('[data-meter="render_seconds"] polyline').getAttribute('points')).toMatch(/^(\S+ ){2}\S+$/)

    // 50 GPU seconds at 1080p cost 50 credits: the balance follows over the stream.
    await page.waitForFunction(() => document.querySelector('#balance-available')?.textContent === '950', undefined, { timeout: 10_000 })
    // The form's default: a 4K render of 30 s, 4 credits a second = 120 credits = 1.20 USD.
    await page.locator('#quote-form button').click()
    await page.waitForFunction(() => document.querySelector('#quote-result')?.textContent === '120 credits (1.20 USD)', undefined, { timeout: 10_000 })

    mkdirSync(OUTPUT_DIR, { recursive: true })
    await page.screenshot({ path: join(OUTPUT_DIR, 'browser-preview.png'), fullPage: true })
    await page.close()
  })
})
