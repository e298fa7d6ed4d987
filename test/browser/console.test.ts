// The console and the customer portal in headless Chromium, against a real collector process
// with seeded data (two billed months, payments, credits): every page loads without console
// errors, the figures on the page equal the API's, a line's events open, a live usage figure
// follows an ingest, a CSV download parses back to the API's figures, and the portal shows only
// its own customer. Screenshots go to test-results/ (docs/console/ with MK_SCREENSHOTS=docs).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, ROOT, type CollectorProcess, postEvents, startCollector, tempDir } from '../support/collector-process.js'
import { OUTPUT_DIR, hasChromium, launchChromium } from '../support/chromium.js'

const SHOTS = process.env.MK_SCREENSHOTS === 'docs' ? join(ROOT, 'docs/console') : join(OUTPUT_DIR, 'console')

let collector: CollectorProcess
let browser: Awaited<ReturnType<typeof launchChromium>>

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; key?: string } = {}): Promise<any> {
  const res = await fetch(`${collector.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.key ?? ADMIN_KEY}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`)
  return text === '' ? undefined : JSON.parse(text)
}

const monthStart = (ago: number) => {
  const d = new Date()
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - ago, 1))
}
const inMonth = (ago: number, day: number) => new Date(monthStart(ago).getTime() + (day - 1) * 86_400_000 + 3_600_000).toISOString()

async function seed() {
  await api('/v1/config', { method: 'PUT', body: {
    meters: [
      { key: 'render_seconds', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', groupBy: ['resolution'] },
      { key: 'renders', event: 'render.completed', aggregation: 'count' },
    ],
    plans: [
      { key: 'pro', name: 'Pro', currency: 'USD', interval: 'month', charges: [
        { key: 'base', model: 'flat', amount: '49', timing: 'advance' },
        { key: 'render', meter: 'render_seconds', model: 'per_unit', unitAmount: '0.1' },
      ] },
      { key: 'creator', name: 'Creator', currency: 'USD', interval: 'month', creditPrice: '0.01', charges: [
        { key: 'render', meter: 'render_seconds', unit: 'credits', model: 'per_unit', unitAmount: '1' },
        { key: 'renders', meter: 'renders', model: 'per_unit', unitAmount: '0.5' },
      ] },
    ],
  } })
  await api('/v1/customers', { method: 'POST', body: { id: 'cus_acme', name: 'Acme Films', email: 'billing@acme.test' } })
  await api('/v1/customers', { method: 'POST', body: { id: 'cus_beta', name: 'Beta Studio', email: 'ops@beta.test' } })
  const start = monthStart(2).toISOString()
  await api('/v1/subscriptions', { method: 'POST', body: { id: 'sub_acme', customerId: 'cus_acme', plan: 'pro', startAt: start } })
  await api('/v1/subscriptions', { method: 'POST', body: { id: 'sub_beta', customerId: 'cus_beta', plan: 'creator', startAt: start } })
  await api('/v1/customers/cus_beta/grants', { method: 'POST', body: { id: 'welcome', credits: '500' } })
  const events = [
    ['acme-1', 'cus_acme', inMonth(2, 3), 30, '4k'], ['acme-2', 'cus_acme', inMonth(2, 9), 12.5, '1080p'], ['acme-3', 'cus_acme', inMonth(1, 4), 44, '4k'],
    ['beta-1', 'cus_beta', inMonth(2, 5), 120, '1080p'], ['beta-2', 'cus_beta', inMonth(1, 6), 80, '4k'], ['beta-3', 'cus_beta', inMonth(1, 7), 15, '1080p'],
  ].map(([id, customerId, timestamp, gpuSeconds, resolution]) => JSON.stringify({ id, event: 'render.completed', customerId, timestamp, properties: { gpuSeconds, resolution } }))
  await api('/v1/events/import', { method: 'POST', body: events.join('\n'), headers: { 'content-type': 'application/x-ndjson' } })
  await api('/v1/billing/run', { method: 'POST', body: { until: new Date().toISOString() } })
  const invoices = (await api('/v1/invoices?customerId=cus_acme')).data as { id: string; status: string; total: string }[]
  const final = invoices.filter((i) => i.status === 'finalized')
  await api(`/v1/invoices/${final[final.length - 1]!.id}/payments`, { method: 'POST', body: { amount: final[final.length - 1]!.total, method: 'wire', reference: 'WT-1042' } })
  await api('/v1/webhooks/endpoints', { method: 'POST', body: { url: 'https://hooks.example.com/meterkit', events: ['invoice.finalized'] } }).catch(() => undefined)
}

/** A page that records console errors and uncaught exceptions. */
async function openPage(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage()
  await page.setViewportSize({ width: 1280, height: 900 })
  page.setDefaultTimeout(10_000)
  const errors: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
  page.on('pageerror', (e) => errors.push(String(e)))
  await page.goto(`${collector.url}${path}`)
  return { page, errors }
}

async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

async function signIn(page: Page) {
  await page.locator('input[name=key]').fill(ADMIN_KEY)
  await page.locator('button[type=submit]').click()
  await page.locator('nav').waitFor()
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents()

describe.skipIf(!hasChromium)('the console and the portal in Chromium', () => {
  beforeAll(async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
    execFileSync(process.execPath, [join(ROOT, 'collector/scripts/build-console.mjs')], { stdio: 'inherit' })
    collector = await startCollector(join(tempDir(), 'meterkit.db'))
    await seed()
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    collector?.child.kill('SIGTERM')
    await collector?.exited
  })

  it('serves the pages from the collector with a policy that allows this origin only', async () => {
    const res = await fetch(`${collector.url}/console`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const html = await res.text()
    expect(html).not.toMatch(/https?:\/\//)
    expect((await fetch(`${collector.url}/console/assets/console.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await fetch(`${collector.url}/console/assets/..%2F..%2Fpackage.json`)).status).toBe(404)
  })

  it('signs in with a secret key kept in sessionStorage and shows the overview with the API’s figures', async () => {
    const { page, errors } = await openPage('/console')
    await signIn(page)
    expect(page.url()).not.toContain(ADMIN_KEY)
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await page.evaluate(() => sessionStorage.getItem('meterkit.console.key'))).toBe(ADMIN_KEY)
    await page.locator('[data-testid="revenue-USD"]').waitFor()
    const revenue = await api('/v1/reports/revenue')
    expect(await texts(page, '[data-testid="revenue-USD"] [data-cell="invoiced"]')).toEqual(revenue.data.map((m: { totals: { invoiced: string }[] }) => m.totals[0]!.invoiced))
    expect(await texts(page, '[data-testid="revenue-USD"] [data-cell="paid"]')).toEqual(revenue.data.map((m: { totals: { paid: string }[] }) => m.totals[0]!.paid))
    expect(await texts(page, '[data-testid="revenue-USD"] [data-cell="due"]')).toEqual(revenue.data.map((m: { totals: { due: string }[] }) => m.totals[0]!.due))
    const byMeter = await api('/v1/reports/usage-revenue?groupBy=meter')
    const meterRows = await page.locator('[data-testid="usage-by-meter"] tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)))
    expect(meterRows).toEqual(byMeter.data.map((u: { meter: string | null; amount: string; currency: string; credits: string; lines: number }) =>
      [u.meter ?? 'credit overage', `${u.amount} ${u.currency}`, u.credits, String(u.lines)]))
    const active = await api('/v1/reports/active-customers')
    expect(await page.locator('[data-testid="active-customers"]').textContent()).toBe(String(active.data.at(-1).customers))
    expect(await page.locator('[data-testid="revenue-chart-USD"] canvas').count()).toBe(1)
    await shot(page, 'overview')
    expect(errors).toEqual([])
    await page.close()
  })

  it('searches customers and follows a customer’s usage live after an ingest', async () => {
    const { page, errors } = await openPage('/console')
    await signIn(page)
    await page.goto(`${collector.url}/console#/customers`)
    await page.locator('input[name=search]').fill('acme')
    await page.locator('form.inline button').click()
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="customers"] tbody tr').length === 1)
    await page.locator('[data-testid="customers"] a', { hasText: 'cus_acme' }).click()
    await page.locator('[data-testid="live-state"]', { hasText: 'live' }).waitFor()
    // The live figure covers the last 30 days, as the stream does.
    const last30 = () => api(`/v1/customers/cus_acme/usage?meter=render_seconds&from=${new Date(Date.now() - 30 * 86_400_000).toISOString()}`)
    const usage = await last30()
    await page.waitForFunction((v) => document.querySelector('[data-meter="render_seconds"] .value')?.textContent === v, usage.value)
    const upcoming = await api('/v1/customers/cus_acme/invoices/upcoming')
    expect(await page.locator('[data-testid="upcoming"]').textContent()).toContain(`${upcoming.total} ${upcoming.currency}`)
    const res = await postEvents(collector.url, [{ id: 'live-1', event: 'render.completed', customerId: 'cus_acme', timestamp: new Date().toISOString(), properties: { gpuSeconds: 7.5, resolution: '4k' } }])
    expect(res.status).toBe(200)
    const after = (await last30()).value as string
    expect(after).not.toBe(usage.value)
    await page.waitForFunction((v) => document.querySelector('[data-meter="render_seconds"] .value')?.textContent === v, after, { timeout: 10_000 })
    await shot(page, 'customer')
    expect(errors).toEqual([])
    await page.close()
  })

  it('opens an invoice and, from a usage line, its exact source events', async () => {
    const invoices = (await api('/v1/invoices?customerId=cus_acme')).data as { id: string; total: string; lines: { id: string; chargeKey: string; eventCount: number }[] }[]
    const invoice = invoices.find((i) => i.lines.some((l) => l.chargeKey === 'render' && l.eventCount > 0))!
    const line = invoice.lines.find((l) => l.chargeKey === 'render' && l.eventCount > 0)!
    const { page, errors } = await openPage('/console')
    await signIn(page)
    await page.goto(`${collector.url}/console#/invoices/${invoice.id}`)
    await page.locator('[data-testid="invoice-total"]').waitFor()
    expect(await page.locator('[data-testid="invoice-total"]').textContent()).toBe(`${invoice.total} USD`)
    await page.locator(`button[data-line="${line.id}"]`).click()
    await page.locator('[data-testid="line-events"] [data-event-id]').first().waitFor()
    const apiEvents = (await api(`/v1/invoices/${invoice.id}/lines/${line.id}/events`)).data.map((e: { id: string }) => e.id)
    expect(await texts(page, '[data-testid="line-events"] [data-event-id]')).toEqual(apiEvents)
    await shot(page, 'invoice')
    await page.locator('[data-testid="line-events"] [data-event-id]').first().click()
    await page.locator('[data-testid="event-id"]').waitFor()
    expect(await page.locator('[data-testid="event-id"]').textContent()).toBe(apiEvents[0])
    expect(errors).toEqual([])
    await page.close()
  })

  it('lists events, amends one with a reason, and shows its versions', async () => {
    const { page, errors } = await openPage('/console')
    await signIn(page)
    await page.goto(`${collector.url}/console#/events`)
    await page.locator('[data-testid="events"] tbody tr').first().waitFor()
    const listed = (await api('/v1/events?limit=50')).data.map((e: { id: string }) => e.id)
    expect(await texts(page, '[data-testid="events"] tbody tr td:first-child')).toEqual(listed)
    await page.goto(`${collector.url}/console#/events/live-1`)
    await page.locator('textarea[name=properties]').fill('{"gpuSeconds": 9, "resolution": "4k"}')
    await page.locator('input[aria-label="amend reason"]').fill('worker reported the wrong duration')
    await page.locator('button', { hasText: 'Amend' }).click()
    await page.locator('[data-testid="event-status"]', { hasText: 'amended' }).waitFor()
    const detail = await api('/v1/events/live-1')
    expect(detail.status).toBe('amended')
    expect(detail.versions.at(-1).reason).toBe('worker reported the wrong duration')
    await shot(page, 'event')
    await page.goto(`${collector.url}/console#/events`)
    await page.locator('[data-testid="events"] tbody tr').first().waitFor()
    await shot(page, 'events')
    expect(errors).toEqual([])
    await page.close()
  })

  it('shows plans and meters and simulates a candidate plan per customer', async () => {
    const { page, errors } = await openPage('/console')
    await signIn(page)
    await page.goto(`${collector.url}/console#/plans`)
    await page.locator('[data-testid="meters"]').waitFor()
    expect(await page.locator('[data-testid="config-version"]').textContent()).toBe(`version ${(await api('/v1/config')).version}`)
    await page.locator('[data-testid="config-versions"] tbody tr').first().waitFor()
    const versions = (await api('/v1/config/versions')).data.map((v: { version: number }) => String(v.version))
    expect(await texts(page, '[data-testid="config-versions"] tbody tr td:first-child')).toEqual(versions)
    const from = monthStart(2).toISOString().slice(0, 16)
    const to = monthStart(0).toISOString().slice(0, 16)
    await page.locator('input[name=from]').fill(from)
    await page.locator('input[name=to]').fill(to)
    await page.locator('[data-testid="simulation-form"] button').click()
    await page.locator('[data-testid="simulation"]').waitFor()
    const sim = await api('/v1/simulations', { method: 'POST', body: { plan: 'pro', from: new Date(from).toISOString(), to: new Date(to).toISOString() } })
    const rows = await page.locator('[data-testid="simulation"] tbody tr').evaluateAll((trs) => trs.map((r) => r.querySelector('td:last-child')!.textContent))
    expect(rows).toEqual(sim.data.map((r: { difference: string; currency: string }) => `${r.difference} ${r.currency}`))
    await shot(page, 'plans')
    await page.goto(`${collector.url}/console#/webhooks`)
    await page.locator('[data-testid="deliveries"]').waitFor()
    await shot(page, 'webhooks')
    expect(errors).toEqual([])
    await page.close()
  })

  it('downloads a CSV that parses back to the API’s figures', async () => {
    const { page, errors } = await openPage('/console')
    await signIn(page)
    await page.goto(`${collector.url}/console#/exports`)
    const form = page.locator('[data-testid="export-invoices"]')
    await form.locator('input[name=from]').fill('2000-01-01')
    await form.locator('input[name=to]').fill('2100-01-01')
    const [download] = await Promise.all([page.waitForEvent('download'), form.locator('button').click()])
    expect(download.suggestedFilename()).toBe('invoices.csv')
    const records = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[]
    const invoices = (await api('/v1/invoices?limit=1000')).data as { id: string; total: string; amountDue: string; status: string }[]
    expect(records.map((r) => [r.id, r.status, r.total, r.amountDue])).toEqual(invoices.map((i) => [i.id, i.status, i.total, i.amountDue]))
    await shot(page, 'exports')
    expect(errors).toEqual([])
    await page.close()
  })

  it('the portal shows its own customer only: live credits, charges and invoices', async () => {
    const { token } = await api('/v1/customer-tokens', { method: 'POST', body: { customerId: 'cus_beta', ttlSeconds: 900 } })
    const { page, errors } = await openPage(`/portal?token=${token}`)
    await page.locator('[data-testid="available"]').waitFor()
    // The token leaves the address bar at once.
    expect(page.url()).not.toContain('mk_ct_')
    expect(await page.locator('[data-testid="portal-customer"]').textContent()).toBe('cus_beta')
    const balance = await api('/v1/customers/cus_beta/balance')
    expect(await page.locator('[data-testid="available"]').textContent()).toBe(balance.available)
    const own = (await api('/v1/invoices?customerId=cus_beta')).data.map((i: { number: number | null; id: string }) => String(i.number ?? i.id))
    expect(await texts(page, '[data-testid="portal-invoices"] tbody tr td:first-child')).toEqual(own)
    await page.locator('[data-testid="live-state"]', { hasText: 'live' }).waitFor()
    // A render burns credits; the portal follows over the stream.
    await postEvents(collector.url, [{ id: 'portal-1', event: 'render.completed', customerId: 'cus_beta', timestamp: new Date().toISOString(), properties: { gpuSeconds: 25, resolution: '4k' } }])
    const after = (await api('/v1/customers/cus_beta/balance')).available as string
    expect(after).not.toBe(balance.available)
    await page.waitForFunction((v) => document.querySelector('[data-testid="available"]')?.textContent === v, after, { timeout: 10_000 })
    // What that render cost, beside the event that caused it.
    await page.locator('[data-testid="charges"] tr', { hasText: 'portal-1' }).waitFor()
    await page.locator('[data-testid="portal-invoices"] a').first().click()
    await page.locator('[data-testid="invoice-frame"]').waitFor()
    await shot(page, 'portal')
    expect(errors).toEqual([])
    // The token reaches nothing of another customer's.
    const foreign = await page.evaluate(async (t) => Promise.all(['/v1/customers/cus_acme/balance', '/v1/customers/cus_acme/invoices', '/v1/invoices', '/v1/reports/revenue']
      .map((p) => fetch(p, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status))), token)
    expect(foreign).toEqual([404, 404, 403, 403])
    await page.close()
  })
})
