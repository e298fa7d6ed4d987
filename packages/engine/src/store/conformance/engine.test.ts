// The engine's use-cases on every store: one scenario (configuration, a subscription, credits,
// events of every meter, folds, corrections, usage, billing) played on SQLite and on PostgreSQL
// answers the same, answer for answer.
import { readFileSync } from 'node:fs'
import { configSchema, type TenantConfig } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { STORES, validEvent } from './harness.js'
import type { StoreUnderTest } from './stores.js'

const config = configSchema.parse(JSON.parse(readFileSync(new URL('../../../../../examples/self-hosted/meterkit.config.json', import.meta.url), 'utf8'))) as TenantConfig

const NOV = Date.UTC(2026, 10, 1)
const DAY = 86_400_000
const RESOLUTIONS = ['4k', '1080p', '720p']

function events() {
  const out = []
  for (let i = 0; i < 60; i++) {
    const at = NOV + (i % 28) * DAY + i * 61_000
    const customerId = i % 4 === 0 ? 'cus_7' : 'cus_42'
    const kind = i % 5
    if (kind <= 1) out.push(validEvent({ id: `r-${i}`, customerId, timestampMs: at, properties: { gpuSeconds: (i % 7) * 1.25 + 0.1, resolution: RESOLUTIONS[i % 3]!, status: i % 9 ? 'succeeded' : 'failed' } }))
    else if (kind === 2) out.push(validEvent({ id: `c-${i}`, customerId, event: 'clip.generated', timestampMs: at, properties: { clipId: `clip_${i % 11}` } }))
    else if (kind === 3) out.push(validEvent({ id: `g-${i}`, customerId, event: 'cluster.sample', timestampMs: at, properties: { gpus: (i * 7) % 13 } }))
    else out.push(validEvent({ id: `s-${i}`, customerId, event: 'storage.sample', timestampMs: at, properties: { gb: `${i * 3}.5` } }))
  }
  return out
}

/** Plays the scenario and answers everything the engine said, in order. */
async function play(s: StoreUnderTest): Promise<unknown[]> {
  const { engine } = s
  const out: unknown[] = []
  const tenant = await s.createTenant('scenario')
  const now = NOV + 2 * DAY
  out.push(await engine.applyConfig(tenant, config, null, now))
  out.push(await engine.putCustomer(tenant, { id: 'cus_42', timezone: 'Europe/Paris', name: 'Render Co' }, now))
  out.push(await engine.billing.subscribe(tenant, { id: 'sub_42', customerId: 'cus_42', plan: 'pro', startMs: NOV }, now))
  out.push(await engine.credits.grant(tenant, 'cus_42', { id: 'trial', credits: '200', priority: 1 } as never, now))
  const all = events()
  for (let i = 0; i < all.length; i += 17) out.push(await s.append({ tenantId: tenant, source: 'server', receivedAtMs: now, events: all.slice(i, i + 17) }))
  out.push(await s.append({ tenantId: tenant, source: 'server', receivedAtMs: now, events: [all[3]!, { ...all[4]!, customerId: 'cus_other' }] }))
  await engine.foldAll()
  await engine.credits.catchUp()
  const usage = async () => {
    for (const meter of ['render_seconds', 'clips', 'renders', 'peak_gpus', 'storage_gb']) {
      for (const customerId of ['cus_42', 'cus_7']) {
        out.push(await engine.usage(tenant, { customerId, meter, fromMs: NOV, toMs: NOV + 30 * DAY, window: 'day', groupBy: meter === 'render_seconds' ? ['resolution'] : [] }))
      }
    }
  }
  await usage()
  out.push(await engine.voidEvent(tenant, 'r-1', 'duplicate job', null, now + 1))
  out.push(await engine.amendEvent(tenant, 'r-5', { gpuSeconds: 99.5, resolution: '4k', status: 'succeeded' }, 'meter misread', null, now + 2))
  out.push(await engine.voidEvent(tenant, 'missing', 'x', null, now + 3))
  await engine.foldAll()
  await engine.credits.catchUp()
  await usage()
  out.push(await engine.listEvents(tenant, { customerId: 'cus_42', limit: 7 }))
  out.push(await engine.getEvent(tenant, 'r-5'))
  out.push(await engine.credits.balance(tenant, 'cus_42', now + 4))
  out.push(await engine.credits.ledger(tenant, 'cus_42', { limit: 50 }))
  const closing = Date.UTC(2026, 11, 1, 2)
  out.push(await engine.billing.run(tenant, closing, closing))
  const invoices = await engine.billing.listInvoices(tenant, { limit: 10 })
  out.push(invoices)
  for (const invoice of invoices.data) out.push(await engine.billing.getInvoice(tenant, invoice.id))
  out.push(await engine.credits.balance(tenant, 'cus_42', closing))
  out.push(await engine.verify())
  return out
}

/** Random ids (invoices, deliveries) named by their order of first appearance, which must agree. */
function withStableIds(transcript: unknown[]): unknown[] {
  const names = new Map<string, string>()
  const text = JSON.stringify(transcript).replace(/\b(in|msg|cn)_[A-Za-z0-9_-]{16,}/g, (id, kind: string) => {
    if (!names.has(id)) names.set(id, `${kind}#${names.size + 1}`)
    return names.get(id)!
  })
  return JSON.parse(text) as unknown[]
}

describe('the engine on every store', () => {
  const runnable = STORES.filter((s) => !s.skip)

  it.skipIf(runnable.length < 2)('answers the same on SQLite and PostgreSQL', async () => {
    const transcripts: unknown[][] = []
    for (const { factory } of runnable) {
      const store = await factory.open()
      try {
        transcripts.push(withStableIds(await play(store)))
      } finally {
        await store.close()
      }
    }
    const [sqlite, postgres] = transcripts
    // The scenario says something: usage, credits and invoices are there to compare.
    expect(sqlite!.length).toBeGreaterThan(40)
    const text = JSON.stringify(sqlite)
    for (const said of ['"status":"finalized"', '"type":"deduction"', '"status":"voided"', '"meter":"clips"', '"conflict"']) expect(text).toContain(said)
    expect(postgres!.length).toBe(sqlite!.length)
    sqlite!.forEach((answer, i) => expect({ step: i, answer: postgres![i] }).toEqual({ step: i, answer }))
  })
})
