// @meterkit/browser in headless Chromium against a real collector process, cross-origin (the
// page and the collector listen on different ports): unload sends, the IndexedDB buffer across
// reloads and outages, and what a customer token may do. Waits are on conditions, with timeouts.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteStore, signCustomerToken, hashKey } from '@meterkit/engine'
import { ADMIN_KEY, ROOT, type CollectorProcess, startCollector, tempDir } from '../support/collector-process.js'
import { bundleBrowserSdk, hasChromium, launchChromium, startSdkPage } from '../support/chromium.js'
import { waitFor } from '../support/wait.js'

const CUSTOMER = 'cus_web'
let collector: CollectorProcess
let dbPath: string
let browser: Awaited<ReturnType<typeof launchChromium>>
let context: BrowserContext
let site: Awaited<ReturnType<typeof startSdkPage>>

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${collector.url}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...init.headers } })

async function mint(body: Record<string, unknown>): Promise<string> {
  const res = await admin('/v1/customer-tokens', { method: 'POST', body: JSON.stringify({ customerId: CUSTOMER, ...body }) })
  return ((await res.json()) as { token: string }).token
}

/** Ids of the customer's stored events (each at most once: dedup is by id). */
async function storedIds(customerId = CUSTOMER): Promise<string[]> {
  const res = await admin(`/v1/events?customerId=${customerId}&limit=1000`)
  return ((await res.json()) as { data: { id: string }[] }).data.map((e) => e.id).sort()
}

async function openPage(token: string, customer = CUSTOMER): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${site.url}/?endpoint=${encodeURIComponent(collector.url)}&token=${token}&customer=${customer}`)
  await page.waitForFunction(() => (window as unknown as { mk?: object }).mk !== undefined)
  return page
}

const track = (page: Page, input: Record<string, unknown>) => page.evaluate((i) => (window as any).mk.track(i), input) // eslint-disable-line @typescript-eslint/no-explicit-any
const stats = (page: Page) => page.evaluate(() => (window as any).mk.stats()) as Promise<{ buffered: number; acknowledged: number }> // eslint-disable-line @typescript-eslint/no-explicit-any

describe.skipIf(!hasChromium)('@meterkit/browser in Chromium', () => {
  beforeAll(async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
    dbPath = join(tempDir(), 'meterkit.db')
    collector = await startCollector(dbPath)
    await admin('/v1/config', { method: 'PUT', body: JSON.stringify({ meters: [{ key: 'views', event: 'page.view', aggregation: 'count', sources: ['browser'] }] }) })
    ;[browser, site] = await Promise.all([launchChromium(), bundleBrowserSdk().then(startSdkPage)])
    context = browser.context
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await site?.close()
    collector?.child.kill('SIGTERM')
    await collector?.exited
  })

  it('hands queued events to sendBeacon when the page is left', async () => {
    const page = await openPage(await mint({ ingest: { events: ['page.view'] } }))
    await track(page, { id: 'left-1', event: 'page.view' })
    await track(page, { id: 'left-2', event: 'page.view' })
    expect(await storedIds()).not.toContain('left-1') // still queued: flushIntervalMs is a minute
    await page.goto('about:blank')
    await waitFor(async () => (await storedIds()).includes('left-2'), 'the beaconed events')
    expect((await storedIds()).filter((id) => id.startsWith('left-'))).toEqual(['left-1', 'left-2'])
    await page.close()
  })

  it('track then reload: delivered once', async () => {
    const page = await openPage(await mint({ ingest: { events: ['page.view'] } }))
    await track(page, { id: 'reload-1', event: 'page.view' })
    await page.reload()
    await page.waitForFunction(() => (window as unknown as { mk?: object }).mk !== undefined)
    await waitFor(async () => (await storedIds()).includes('reload-1'), 'the event tracked before the reload')
    // Nothing was left in IndexedDB to send again, and the collector holds the event once.
    expect((await stats(page)).buffered).toBe(0)
    const list = await (await admin(`/v1/events?customerId=${CUSTOMER}&limit=1000`)).json() as { data: { id: string }[] }
    expect(list.data.filter((e) => e.id === 'reload-1')).toHaveLength(1)
    await page.close()
  })

  it('offline: events wait in IndexedDB, survive the page, and go out on the next load', async () => {
    const token = await mint({ ingest: { events: ['page.view'] } })
    const page = await openPage(token)
    await context.setOffline(true)
    await track(page, { id: 'offline-1', event: 'page.view' })
    await page.evaluate(() => (window as any).mk.flush()) // eslint-disable-line @typescript-eslint/no-explicit-any
    expect((await stats(page)).buffered).toBe(1)
    const kept = await page.evaluate(() => new Promise<number>((resolve) => {
      const open = indexedDB.open(`meterkit:${new URLSearchParams(location.search).get('endpoint')}:cus_web`)
      open.onsuccess = () => {
        const count = open.result.transaction('events').objectStore('events').count()
        count.onsuccess = () => resolve(count.result)
      }
    }))
    expect(kept).toBe(1)
    await page.goto('about:blank')
    await context.setOffline(false)
    expect(await storedIds()).not.toContain('offline-1')
    const next = await openPage(token)
    await waitFor(async () => (await storedIds()).includes('offline-1'), 'the event kept offline')
    await waitFor(async () => (await stats(next)).buffered === 0, 'an empty buffer after the replay')
    await page.close()
    await next.close()
  })

  it('back online on the same page: sent at once', async () => {
    const page = await openPage(await mint({ ingest: { events: ['page.view'] } }))
    await context.setOffline(true)
    await track(page, { id: 'online-1', event: 'page.view' })
    await page.evaluate(() => (window as any).mk.flush()) // eslint-disable-line @typescript-eslint/no-explicit-any
    await context.setOffline(false)
    await waitFor(async () => (await storedIds()).includes('online-1'), 'the event sent when the network came back')
    await page.close()
  })

  it('a beacon the browser refuses keeps its events for the next load', async () => {
    const token = await mint({ ingest: { events: ['page.view'] } })
    const page = await context.newPage()
    await page.addInitScript(() => {
      navigator.sendBeacon = () => false
    })
    await page.goto(`${site.url}/?endpoint=${encodeURIComponent(collector.url)}&token=${token}&customer=${CUSTOMER}`)
    await page.waitForFunction(() => (window as unknown as { mk?: object }).mk !== undefined)
    await track(page, { id: 'refused-1', event: 'page.view' })
    await page.goto('about:blank')
    await page.close()
    const next = await openPage(token)
    await waitFor(async () => (await storedIds()).includes('refused-1'), 'the event the beacon refused')
    await next.close()
  })

  it('a token reaches its own customer only, sends only what it allows, and expires', async () => {
    await admin('/v1/customers', { method: 'POST', body: JSON.stringify({ id: 'cus_other' }) })
    const readOnly = await mint({})
    const page = await openPage(readOnly)
    const call = (path: string, token: string, init: { method?: string; body?: string } = {}) => page.evaluate(async ({ url, token, init }) => {
      const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
      return { status: res.status, body: await res.json() }
    }, { url: `${collector.url}${path}`, token, init })

    expect((await call(`/v1/customers/${CUSTOMER}/usage?meter=views`, readOnly)).status).toBe(200)
    expect((await call('/v1/customers/cus_other/usage?meter=views', readOnly)).status).toBe(404)
    const event = { id: 'scope-1', event: 'page.view', customerId: CUSTOMER, timestamp: new Date().toISOString() }
    const ingest = await call('/v1/events', readOnly, { method: 'POST', body: JSON.stringify({ events: [event] }) })
    expect(ingest).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } })

    // An expired token, signed as the collector signs them.
    const store = new SqliteStore(dbPath)
    const secret = (await store.findTenantSecret(1, 'customer_tokens'))!
    await store.close()
    const keyId = `key_admin_${hashKey(ADMIN_KEY).toString('hex').slice(0, 12)}`
    const expired = signCustomerToken(secret, { tenantId: 1, customerId: CUSTOMER, keyId, expiresAtMs: Date.now() - 1000, ingestEvents: undefined })
    expect(await call(`/v1/customers/${CUSTOMER}/usage?meter=views`, expired)).toMatchObject({ status: 401, body: { error: { message: expect.stringContaining('expired') } } })
    await page.close()

    // With the SDK and an ingest token: other events and other customers' events are refused one by one.
    const sender = await openPage(await mint({ ingest: { events: ['page.view'] } }))
    await track(sender, { id: 'scope-ok', event: 'page.view' })
    await track(sender, { id: 'scope-event', event: 'render.completed' })
    await track(sender, { id: 'scope-customer', event: 'page.view', customerId: 'cus_other' })
    await sender.evaluate(() => (window as any).mk.flush()) // eslint-disable-line @typescript-eslint/no-explicit-any
    expect((await sender.evaluate(() => (window as any).mkErrors)).sort()).toEqual(['forbidden_customer', 'forbidden_event']) // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(await storedIds()).toContain('scope-ok')
    expect(await storedIds('cus_other')).toEqual([])
    await sender.close()
  })
})
