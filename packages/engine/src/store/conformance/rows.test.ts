// The storage port's rows on every store: the same calls answer the same, on SQLite and on
// PostgreSQL. Events arrive through each store's own ingest path first.
import { describe, expect, it } from 'vitest'
import type { TenantConfig } from '@meterkit/protocol'
import { decimal } from '../../decimal.js'
import { addGrant, deduct, emptyCredits } from '../../credits/index.js'
import type { InvoiceLine } from '../../billing/lines.js'
import type { InvoiceHeader } from '../../billing/storage.js'
import type { Phase } from '../../billing/timeline.js'
import { STORES, useStore, validEvent } from './harness.js'

const T0 = Date.UTC(2026, 10, 1)
const HOUR = 3_600_000

const config = (meter: string): TenantConfig => ({ meters: [{ key: meter, event: 'render.completed', aggregation: 'count' }], features: [], plans: [] } as unknown as TenantConfig)

const phase = (startMs: number, plan = 'pro'): Phase => ({
  startMs,
  plan: { key: plan, currency: 'USD', interval: 'month', anchor: 'calendar', charges: [] } as unknown as Phase['plan'],
  meters: [],
  anchorMs: startMs,
})

const header = (over: Partial<InvoiceHeader> = {}): InvoiceHeader => ({
  id: 'in_1', customerId: 'cus_1', subscriptionId: 'sub_1', boundary: T0, status: 'draft', periodStartMs: T0 - 30 * 24 * HOUR, periodEndMs: T0,
  currency: 'USD', subtotal: '10.5', creditsApplied: '0', total: '10.5', cutoffSeq: 7, ...over,
})

const line = (over: Partial<InvoiceLine> = {}): InvoiceLine => ({
  chargeKey: 'render', kind: 'usage', description: 'Render seconds', quantity: '12.5', amount: '10.5',
  periodStartMs: T0 - 30 * 24 * HOUR, periodEndMs: T0, ...over,
} as InvoiceLine)

describe.each(STORES)('rows on $name', ({ factory, skip }) => {
  describe.skipIf(skip)('', () => {
    const store = useStore(factory)

    it('transactions commit, roll back when fn throws, and writers take turns', async () => {
      const { storage } = store()
      await storage.transaction('write', async (tx) => tx.customers.ensure(1, 'kept', 1))
      await expect(storage.transaction('write', async (tx) => {
        await tx.customers.ensure(1, 'dropped', 1)
        throw new Error('boom')
      })).rejects.toThrow('boom')
      await storage.transaction('read', async (tx) => {
        expect(await tx.customers.timeZone(1, 'kept')).toBe('UTC')
      })
      // Read-modify-write from many callers at once: with writers in turn, none is lost.
      await Promise.all(Array.from({ length: 20 }, () => storage.transaction('write', async (tx) => {
        const seq = await tx.watermarks.get('credits')
        await tx.watermarks.set('credits', seq + 1)
      })))
      expect(await storage.transaction('read', async (tx) => tx.watermarks.get('credits'))).toBe(20)
    })

    it('configs: version 0 and empty before an apply, then the latest, the same object for the same version', async () => {
      const s = store()
      const tenant = await s.createTenant('a')
      const before = await s.storage.transaction('read', async (tx) => tx.configs.current(tenant))
      expect(before.version).toBe(0)
      expect(before.config).toMatchObject({ meters: [], plans: [] })
      await s.storage.transaction('write', async (tx) => {
        await tx.configs.insert(tenant, 1, config('first'), null, 1)
        await tx.configs.insert(tenant, 2, config('second'), 'key_1', 2)
      })
      const a = await s.storage.transaction('read', async (tx) => tx.configs.current(tenant))
      const b = await s.storage.transaction('read', async (tx) => tx.configs.current(tenant))
      expect(a.version).toBe(2)
      expect(a.appliedAtMs).toBe(2)
      expect(a.config.meters.map((m) => m.key)).toEqual(['second'])
      expect(b.config).toBe(a.config)
    })

    it('events: appends tell accepted, duplicate and conflict apart, and reads answer them in their orders', async () => {
      const s = store()
      const tenant = await s.createTenant('a')
      const first = await s.append({
        tenantId: tenant, source: 'server', receivedAtMs: T0, events: [
          validEvent({ id: 'e1', timestampMs: T0, properties: { a: 1, b: 'x' } }),
          validEvent({ id: 'e2', timestampMs: T0 + HOUR, customerId: 'cus_2' }),
          validEvent({ id: 'e3', timestampMs: T0 + 2 * HOUR, event: 'clip.generated' }),
          validEvent({ id: 'e1', timestampMs: T0, properties: { a: 1, b: 'x' } }),
        ],
      })
      expect(first).toEqual(['accepted', 'accepted', 'accepted', 'duplicate'])
      const again = await s.append({
        tenantId: tenant, source: 'server', receivedAtMs: T0 + 1, events: [
          validEvent({ id: 'e1', timestampMs: T0, properties: { b: 'x', a: 1 } }), // same content, keys reordered
          validEvent({ id: 'e2', timestampMs: T0 + HOUR, customerId: 'cus_other' }),
          validEvent({ id: 'e4', timestampMs: T0 + 3 * HOUR, reservationId: 'res_1' }),
        ],
      })
      expect(again).toEqual(['duplicate', 'conflict', 'accepted'])

      await s.storage.transaction('read', async (tx) => {
        expect(await tx.events.maxSeq()).toBe(4)
        const range = await tx.events.range(0, 4)
        expect(range.map((e) => [e.seq, e.id])).toEqual([[1, 'e1'], [2, 'e2'], [3, 'e3'], [4, 'e4']])
        expect(range[0]).toEqual({
          seq: 1, tenantId: tenant, id: 'e1', event: 'render.completed', customerId: 'cus_1', timestampMs: T0, properties: '{"a":1,"b":"x"}',
          source: 'server', status: 'active', reservationId: null, receivedAtMs: T0,
        })
        expect(range[3]!.reservationId).toBe('res_1')
        expect((await tx.events.range(1, 3)).map((e) => e.id)).toEqual(['e2', 'e3'])
        expect(await tx.events.arrivals(2, 4)).toEqual([
          { seq: 3, tenantId: tenant, customerId: 'cus_1', timestampMs: T0 + 2 * HOUR },
          { seq: 4, tenantId: tenant, customerId: 'cus_1', timestampMs: T0 + 3 * HOUR },
        ])
        expect(await tx.events.bySeqs([3, 1])).toEqual([{ id: 'e3', timestampMs: T0 + 2 * HOUR }, { id: 'e1', timestampMs: T0 }])
        await expect(async () => tx.events.bySeqs([99])).rejects.toThrow()

        const ids = async (fromMs: number, toMs: number, options?: { event?: string; folded?: boolean }) =>
          (await tx.events.customerRange(tenant, 'cus_1', fromMs, toMs, options)).map((e) => e.id).sort()
        expect(await ids(T0, T0 + 3 * HOUR)).toEqual(['e1', 'e3'])
        expect(await ids(T0, T0 + 4 * HOUR, { event: 'render.completed' })).toEqual(['e1', 'e4'])
        // Folded and not folded split a range in two, whatever the store has folded so far.
        const folded = await ids(T0, T0 + 4 * HOUR, { folded: true })
        const tail = await ids(T0, T0 + 4 * HOUR, { folded: false })
        expect([...folded, ...tail].sort()).toEqual(['e1', 'e3', 'e4'])
        // The new customers exist.
        expect(await tx.customers.timeZone(tenant, 'cus_2')).toBe('UTC')
      })
    })

    it('rollups: rows written, updated and dropped by key, read by buckets with counts only when asked', async () => {
      const { storage } = store()
      const key = { tenantId: 1, meter: 'gpu', customerId: 'cus_1', groupKey: '' }
      const empty = { latestTs: null, latestId: null, latestValue: null, min: null, max: null }
      await storage.transaction('write', async (tx) => {
        expect(await tx.rollups.insert({ ...key, bucket: 0 }, { bucket: 0, groupKey: '', count: 1, sum: '12', min: '12', max: '12', latestTs: 5, latestId: 'e9', latestValue: '12' })).toBe(true)
        expect(await tx.rollups.insert({ ...key, bucket: 0 }, { bucket: 0, groupKey: '', count: 9, sum: '9', ...empty })).toBe(false)
        await tx.rollups.update({ ...key, bucket: 0 }, { bucket: 0, groupKey: '', count: 2, sum: '12.5', min: '0.5', max: '12', latestTs: 5, latestId: 'e9', latestValue: '12' })
        await tx.rollups.insert({ ...key, bucket: 900_000, groupKey: '{"r":"4k"}' }, { bucket: 900_000, groupKey: '{"r":"4k"}', count: 1, sum: '0.00000000000000000001', ...empty })
        await tx.rollups.insert({ ...key, bucket: 1_800_000 }, { bucket: 1_800_000, groupKey: '', count: 1, sum: '1', ...empty })
        await tx.rollups.insert({ ...key, customerId: 'cus_2', bucket: 0 }, { bucket: 0, groupKey: '', count: 1, sum: '3', ...empty })
        await tx.rollups.insert({ ...key, meter: 'old', bucket: 0 }, { bucket: 0, groupKey: '', count: 1, sum: '3', ...empty })
        await tx.rollups.addUniques({ ...key, bucket: 0 }, ['"clip_1"', '"clip_2"'])
        await tx.rollups.addUniques({ ...key, bucket: 0 }, new Set(['"clip_1"']))
        await tx.rollups.addUniques({ ...key, bucket: 1_800_000 }, [])
      })
      await storage.transaction('read', async (tx) => {
        expect(await tx.rollups.get({ ...key, bucket: 0 })).toEqual({ bucket: 0, groupKey: '', count: 2, sum: '12.5', min: '0.5', max: '12', latestTs: 5, latestId: 'e9', latestValue: '12' })
        expect(await tx.rollups.get({ ...key, bucket: 5 })).toBeUndefined()
        const full = await tx.rollups.rollups(1, 'gpu', 'cus_1', 0, 1_800_000, false)
        expect(full.sort((a, b) => a.bucket - b.bucket)).toEqual([
          { bucket: 0, groupKey: '', count: 2, sum: '12.5', min: '0.5', max: '12', latestTs: 5, latestId: 'e9', latestValue: '12' },
          { bucket: 900_000, groupKey: '{"r":"4k"}', count: 1, sum: '0.00000000000000000001', ...empty },
        ])
        expect(await tx.rollups.rollups(1, 'gpu', 'cus_1', 0, 900_000, true)).toEqual([{ bucket: 0, groupKey: '', count: 2, sum: '12.5', ...empty }])
        expect((await tx.rollups.uniques(1, 'gpu', 'cus_1', 0, 900_000)).map((u) => u.value).sort()).toEqual(['"clip_1"', '"clip_2"'])
        expect(await tx.rollups.uniques(1, 'gpu', 'cus_1', 900_000, 1_800_000)).toEqual([])
        const all = await tx.rollups.allOf(1, 'gpu', 'cus_1')
        expect([all.rows.length, all.uniques.length]).toEqual([3, 2])
      })
      const g = await storage.transaction('read', async (tx) => tx.rollups.generation())
      await storage.transaction('write', async (tx) => {
        await tx.rollups.deleteBucket(1, 'gpu', 'cus_1', 0)
        await tx.rollups.deleteMeter(1, 'old')
        await tx.rollups.bumpGeneration()
      })
      await storage.transaction('read', async (tx) => {
        const left = await tx.rollups.allOf(1, 'gpu', 'cus_1')
        expect([left.rows.map((r) => r.bucket).sort((a, b) => a - b), left.uniques]).toEqual([[900_000, 1_800_000], []])
        expect((await tx.rollups.allOf(1, 'old', 'cus_1')).rows).toEqual([])
        expect((await tx.rollups.allOf(1, 'gpu', 'cus_2')).rows).toHaveLength(1)
        expect(await tx.rollups.generation()).toBe(g + 1)
      })
    })

    it('events: history, corrections, listing newest first, and the fold watermark', async () => {
      const s = store()
      const tenant = await s.createTenant('a')
      await s.append({
        tenantId: tenant, source: 'import', receivedAtMs: 9, events: [
          validEvent({ id: 'b', timestampMs: T0 + HOUR, properties: { v: 1 } }),
          validEvent({ id: 'a', timestampMs: T0 + HOUR, properties: { v: 2 } }),
          validEvent({ id: 'c', timestampMs: T0, customerId: 'cus_2', event: 'clip.generated' }),
          validEvent({ id: 'd', timestampMs: T0 + 2 * HOUR }),
        ],
      })
      await s.storage.transaction('write', async (tx) => {
        await tx.events.correct(tenant, 'a', { action: 'amend', properties: '{"v":3}', reason: 'typo', atMs: 20, keyId: 'key_1' })
        await tx.events.correct(tenant, 'a', { action: 'void', properties: null, reason: 'test data', atMs: 21, keyId: null })
      })
      await s.storage.transaction('write', async (tx) => {
        const h = await tx.events.find(tenant, 'a')
        expect(h).toEqual({
          record: expect.objectContaining({ id: 'a', properties: '{"v":3}', status: 'voided', source: 'import', receivedAtMs: 9 }),
          original: '{"v":2}',
          corrections: [
            { version: 2, action: 'amend', properties: { v: 3 }, reason: 'typo', atMs: 20, keyId: 'key_1' },
            { version: 3, action: 'void', properties: null, reason: 'test data', atMs: 21, keyId: null },
          ],
        })
        expect(await tx.events.find(tenant, 'zz')).toBeUndefined()
        const ids = async (q: Parameters<typeof tx.events.list>[1]) => (await tx.events.list(tenant, q)).map((e) => e.id)
        expect(await ids({ limit: 10 })).toEqual(['d', 'b', 'a', 'c'])
        expect(await ids({ limit: 2, before: [T0 + HOUR, 'b'] })).toEqual(['a', 'c'])
        expect(await ids({ limit: 10, customerId: 'cus_1', fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR })).toEqual(['b', 'a'])
        expect(await ids({ limit: 10, event: 'clip.generated' })).toEqual(['c'])
        expect((await tx.events.named(tenant, 'render.completed', 2)).map((e) => e.id).sort()).toEqual(['a', 'b'])

      })
      // The engine's fold moves the watermark over the port, on either store (SQLite may have folded already).
      await s.engine.foldAll()
      await s.storage.transaction('read', async (tx) => {
        expect(await tx.events.foldedSeq()).toBe(4)
        expect((await tx.events.foldedCustomers()).sort((x, y) => x.customerId.localeCompare(y.customerId))).toEqual([{ tenantId: tenant, customerId: 'cus_1' }, { tenantId: tenant, customerId: 'cus_2' }])
        expect((await tx.events.foldedOf(tenant, 'cus_1')).map((e) => e.id).sort()).toEqual(['a', 'b', 'd'])
        const range = async (folded: boolean) => (await tx.events.customerRange(tenant, 'cus_1', 0, T0 + 3 * HOUR, { folded })).map((e) => e.id).sort()
        expect([await range(true), await range(false)]).toEqual([['a', 'b', 'd'], []])
        expect(await tx.events.audit(4)).toEqual({ events: 4, problems: [] })
      })
    })

    it('customers: created with defaults or by put, updated by the fields given', async () => {
      const { storage } = store()
      await storage.transaction('write', async (tx) => {
        expect(await tx.customers.put({ tenantId: 1, id: 'cus_1', name: 'Ada', metadata: { tier: 'gold', n: 1 } }, 5)).toBe(true)
        expect(await tx.customers.put({ tenantId: 1, id: 'cus_1', email: 'ada@example.com', timezone: 'Europe/Paris' }, 6)).toBe(false)
        await tx.customers.ensure(1, 'cus_1', 7)
        await tx.customers.ensure(1, 'cus_2', 8)
      })
      await storage.transaction('read', async (tx) => {
        expect(await tx.customers.get(1, 'cus_1')).toEqual({ id: 'cus_1', name: 'Ada', email: 'ada@example.com', timezone: 'Europe/Paris', metadata: { tier: 'gold', n: 1 }, createdAtMs: 5 })
        expect(await tx.customers.get(1, 'cus_2')).toEqual({ id: 'cus_2', name: null, email: null, timezone: 'UTC', metadata: null, createdAtMs: 8 })
        expect(await tx.customers.get(2, 'cus_1')).toBeUndefined()
        expect(await tx.customers.timeZone(1, 'cus_1')).toBe('Europe/Paris')
      })
    })

    it('subscriptions: records, phases, generation, tenants and customers in effect', async () => {
      const { storage } = store()
      const g0 = await storage.transaction('read', async (tx) => tx.subscriptions.generation())
      await storage.transaction('write', async (tx) => {
        // Ids that order differently by code point and by a locale: 'B' < 'a' < 'é'.
        await tx.subscriptions.insert(1, { id: 'sub_a', customerId: 'cus_é', startMs: T0 }, 1)
        await tx.subscriptions.insert(1, { id: 'sub_B', customerId: 'cus_a', startMs: T0 + HOUR }, 2)
        await tx.subscriptions.insert(1, { id: 'sub_c', customerId: 'cus_B', startMs: T0 }, 3)
        await tx.subscriptions.insert(1, { id: 'sub_d', customerId: 'cus_a', startMs: T0 }, 4)
        await tx.subscriptions.insert(2, { id: 'sub_x', customerId: 'cus_a', startMs: T0 }, 5)
        await tx.subscriptions.putPhase(1, 'sub_d', phase(T0), 1)
        await tx.subscriptions.putPhase(1, 'sub_d', phase(T0 + 2 * HOUR, 'max'), 1)
        await tx.subscriptions.putPhase(1, 'sub_d', { ...phase(T0 + 3 * HOUR, 'team'), replacesBilled: true }, 2)
      })
      await storage.transaction('read', async (tx) => {
        expect(await tx.subscriptions.generation()).toBe(g0 + 8)
        expect(await tx.subscriptions.get(1, 'sub_a')).toEqual({ id: 'sub_a', customerId: 'cus_é', startMs: T0, endMs: null, billedThroughMs: null, createdAtMs: 1 })
        expect(await tx.subscriptions.get(1, 'sub_x')).toBeUndefined()
        expect((await tx.subscriptions.byCustomer(1, 'cus_a')).map((r) => r.id)).toEqual(['sub_d', 'sub_B'])
        expect((await tx.subscriptions.all(1)).map((r) => r.id)).toEqual(['sub_c', 'sub_B', 'sub_d', 'sub_a'])
        const phases = await tx.subscriptions.phases(1, 'sub_d')
        expect(phases.map((p) => [p.startMs, p.plan.key, p.replacesBilled])).toEqual([[T0, 'pro', undefined], [T0 + 2 * HOUR, 'max', undefined], [T0 + 3 * HOUR, 'team', true]])
        expect((await tx.subscriptions.tenants()).sort()).toEqual([1, 2])
      })
      await storage.transaction('write', async (tx) => {
        // A phase replaces those that start at or after it; an end drops those after it.
        await tx.subscriptions.putPhase(1, 'sub_d', phase(T0 + 2 * HOUR, 'solo'), 3)
        await tx.subscriptions.end(1, 'sub_d', T0 + HOUR)
        await tx.subscriptions.setBilledThrough(1, 'sub_a', T0 + 24 * HOUR)
      })
      await storage.transaction('read', async (tx) => {
        expect(await tx.subscriptions.generation()).toBe(g0 + 10)
        expect((await tx.subscriptions.phases(1, 'sub_d')).map((p) => p.plan.key)).toEqual(['pro'])
        expect(await tx.subscriptions.get(1, 'sub_d')).toMatchObject({ endMs: T0 + HOUR })
        expect(await tx.subscriptions.get(1, 'sub_a')).toMatchObject({ billedThroughMs: T0 + 24 * HOUR })
        expect((await tx.subscriptions.customersInEffect(1, T0 + 2 * HOUR, T0 + 3 * HOUR)).sort()).toEqual(['cus_B', 'cus_a', 'cus_é'])
        expect((await tx.subscriptions.customersInEffect(1, T0 - HOUR, T0)).sort()).toEqual([])
        expect((await tx.subscriptions.customersInEffect(1, T0 - HOUR, T0 + 1)).sort()).toEqual(['cus_B', 'cus_a', 'cus_é'])
      })
    })

    it('invoices: drafts replaced, finals numbered in turn, lists paged, lines with their events, payments and voids', async () => {
      const { storage } = store()
      await storage.transaction('write', async (tx) => {
        await tx.invoices.write(1, header(), [line({ eventSeqs: [1, 2] })], 100)
        await tx.invoices.write(1, header({ subtotal: '11', total: '11' }), [line({ eventSeqs: [3, 5, 8] }), line({ chargeKey: 'base', kind: 'flat', advance: true, credits: '4.25', dimension: '"4k"' })], 101)
        await tx.invoices.write(1, header({ id: 'in_2', boundary: T0 + HOUR, periodStartMs: T0, periodEndMs: T0 + HOUR, status: 'finalized' }), [], 102)
        await tx.invoices.write(1, header({ id: 'in_3', boundary: T0 + 2 * HOUR, status: 'paid', customerId: 'cus_2', subscriptionId: 'sub_2' }), [], 103)
        await tx.invoices.write(2, header({ id: 'in_9', status: 'finalized' }), [], 104)
      })
      await storage.transaction('read', async (tx) => {
        const draft = await tx.invoices.get(1, 'in_1')
        expect(draft).toEqual({
          id: 'in_1', number: null, customerId: 'cus_1', subscriptionId: 'sub_1', boundaryMs: T0, status: 'draft',
          periodStartMs: T0 - 30 * 24 * HOUR, periodEndMs: T0, currency: 'USD', subtotal: '11', creditsApplied: '0', total: '11', amountPaid: '0',
          cutoffSeq: 7, createdAtMs: 100, finalizedAtMs: null, paidAtMs: null, voidedAtMs: null, creditNote: null,
        })
        expect(await tx.invoices.get(1, 'in_2')).toMatchObject({ number: 1, finalizedAtMs: 102, paidAtMs: null })
        expect(await tx.invoices.get(1, 'in_3')).toMatchObject({ number: 2, finalizedAtMs: 103, paidAtMs: 103 })
        expect(await tx.invoices.get(2, 'in_9')).toMatchObject({ number: 1 })
        expect(await tx.invoices.atBoundary(1, 'sub_1', T0 + HOUR)).toMatchObject({ id: 'in_2' })
        expect(await tx.invoices.atBoundary(1, 'sub_1', T0 + 5)).toBeUndefined()
        expect((await tx.invoices.list(1, { limit: 10 })).map((i) => i.id)).toEqual(['in_3', 'in_2', 'in_1'])
        expect((await tx.invoices.list(1, { limit: 2, after: [T0 + HOUR, 'in_2'] })).map((i) => i.id)).toEqual(['in_1'])
        expect((await tx.invoices.list(1, { customerId: 'cus_1', limit: 1 })).map((i) => i.id)).toEqual(['in_2'])
        expect((await tx.invoices.finalClosing(1, 'sub_1')).map((i) => i.id)).toEqual(['in_2'])
        expect(await tx.invoices.finalPeriods(1, 'cus_1')).toEqual([{ startMs: T0, endMs: T0 + HOUR, cutoffSeq: 7 }])
        const lines = await tx.invoices.lines(1, 'in_1')
        expect(lines).toEqual([
          { chargeKey: 'render', kind: 'usage', description: 'Render seconds', quantity: '12.5', amount: '10.5', periodStartMs: T0 - 30 * 24 * HOUR, periodEndMs: T0, eventSeqs: [3, 5, 8] },
          { chargeKey: 'base', kind: 'flat', description: 'Render seconds', quantity: '12.5', amount: '10.5', credits: '4.25', periodStartMs: T0 - 30 * 24 * HOUR, periodEndMs: T0, dimension: '"4k"', advance: true, eventSeqs: [] },
        ])
        const stored = await tx.invoices.storedLines(1, 'in_1')
        expect(stored.map((l) => [l.id, l.eventCount])).toEqual([[expect.any(String), 3], [expect.any(String), 0]])
        expect(await tx.invoices.lineSeqs(1, 'in_1', 1)).toEqual([3, 5, 8])
        expect(await tx.invoices.lineSeqs(1, 'in_1', 2)).toEqual([])
        expect(await tx.invoices.lineSeqs(1, 'in_1', 3)).toBeUndefined()
      })
      await storage.transaction('write', async (tx) => {
        await tx.invoices.write(1, header({ id: 'in_4', boundary: T0 + 3 * HOUR, periodEndMs: T0 + 3 * HOUR, periodStartMs: T0 + 2 * HOUR, status: 'finalized', cutoffSeq: 12 }), [], 105)
        await tx.invoices.addPayment(1, 'in_2', { id: 'pay_b', amount: '5', method: 'wire', reference: null, atMs: 200 })
        await tx.invoices.addPayment(1, 'in_2', { id: 'pay_a', amount: '5.5', method: 'card', reference: 'r-1', atMs: 201 })
        await tx.invoices.setPaid(1, 'in_2', '10.5', 'paid', 201)
        await tx.invoices.setVoid(1, 'in_3', 300, { amount: '10.5', reason: 'duplicate', at: '2026-11-01T00:00:00.000Z' } as never)
      })
      await storage.transaction('read', async (tx) => {
        expect(await tx.invoices.payments(1, 'in_2')).toEqual([
          { id: 'pay_b', amount: '5', method: 'wire', reference: null, atMs: 200 },
          { id: 'pay_a', amount: '5.5', method: 'card', reference: 'r-1', atMs: 201 },
        ])
        expect(await tx.invoices.get(1, 'in_2')).toMatchObject({ status: 'paid', amountPaid: '10.5', paidAtMs: 201 })
        expect(await tx.invoices.get(1, 'in_3')).toMatchObject({ status: 'void', voidedAtMs: 300, creditNote: { amount: '10.5', reason: 'duplicate' } })
        expect((await tx.invoices.finalPeriods(1, 'cus_1')).sort((a, b) => a.startMs - b.startMs)).toEqual([{ startMs: T0, endMs: T0 + HOUR, cutoffSeq: 7 }, { startMs: T0 + 2 * HOUR, endMs: T0 + 3 * HOUR, cutoffSeq: 12 }])
        expect((await tx.invoices.finalClosing(1, 'sub_1')).map((i) => i.id)).toEqual(['in_2', 'in_4'])
      })
    })

    it('billing changes and purchases', async () => {
      const { storage } = store()
      await storage.transaction('write', async (tx) => {
        expect(await tx.billingChanges.scannedThrough()).toBe(0)
        await tx.billingChanges.setScannedThrough(42)
        await tx.billingChanges.add(1, 'cus_1', T0, 5)
        await tx.billingChanges.add(1, 'cus_1', T0, 5)
        await tx.billingChanges.add(1, 'cus_1', T0 + HOUR, 6)
        await tx.billingChanges.add(1, 'cus_2', T0, 7)
        await tx.purchases.record(1, 'cus_1', { grantId: 'g_b', credits: '100', amount: '9.99', atMs: 2 })
        await tx.purchases.record(1, 'cus_1', { grantId: 'g_a', credits: '50', amount: '5', atMs: 2 })
        await tx.purchases.record(1, 'cus_1', { grantId: 'g_a', credits: '999', amount: '999', atMs: 3 })
        await tx.purchases.record(1, 'cus_1', { grantId: 'g_0', credits: '1', amount: '0.01', atMs: 1 })
      })
      await storage.transaction('write', async (tx) => {
        expect(await tx.billingChanges.scannedThrough()).toBe(42)
        expect((await tx.billingChanges.pending(1, 'cus_1', T0, T0 + 2 * HOUR)).sort((a, b) => a.seq - b.seq)).toEqual([{ ts: T0, seq: 5 }, { ts: T0 + HOUR, seq: 6 }])
        await tx.billingChanges.consume(1, 'cus_1', T0, T0 + HOUR)
        expect(await tx.billingChanges.pending(1, 'cus_1', 0, T0 + 2 * HOUR)).toEqual([{ ts: T0 + HOUR, seq: 6 }])
        expect(await tx.purchases.uninvoiced(1, 'cus_1')).toEqual([
          { grantId: 'g_0', credits: '1', amount: '0.01', atMs: 1 },
          { grantId: 'g_a', credits: '50', amount: '5', atMs: 2 },
          { grantId: 'g_b', credits: '100', amount: '9.99', atMs: 2 },
        ])
        await tx.purchases.markInvoiced(1, 'cus_1', 'g_a', 'in_1')
        expect((await tx.purchases.uninvoiced(1, 'cus_1')).map((p) => p.grantId)).toEqual(['g_0', 'g_b'])
      })
    })

    it('ledger: state beside its entries, pages of entries, entries naming an event, overage', async () => {
      const s = store()
      const { storage } = s
      // The overage entry's first event is stored: its time comes with the entry.
      await s.append({ tenantId: 1, source: 'server', receivedAtMs: T0, events: [validEvent({ id: 'e1', timestampMs: T0 - HOUR })] })
      const granted = addGrant(emptyCredits(), { id: 'g1', credits: '10.5' }, T0)
      if (!granted.ok) throw new Error(granted.message)
      const used = deduct(granted.state, { credits: '12', eventIds: ['e1', 'e2'] }, T0 + 1)
      if (!used.ok) throw new Error(used.message)
      await storage.transaction('write', async (tx) => {
        expect((await tx.ledger.state(1, 'cus_1')).balance.toString()).toBe('0')
        await tx.ledger.save(1, 'cus_1', granted)
        await tx.ledger.save(1, 'cus_1', used)
      })
      await storage.transaction('read', async (tx) => {
        const state = await tx.ledger.state(1, 'cus_1')
        expect(state.balance.toString()).toBe(used.state.balance.toString())
        expect(state.nextEntrySeq).toBe(used.state.nextEntrySeq)
        const all = await tx.ledger.entries(1, 'cus_1', 0, 100)
        expect(all).toEqual([...granted.entries, ...used.entries])
        expect(await tx.ledger.entries(1, 'cus_1', 1, 1)).toEqual(all.slice(1, 2))
        const naming = await tx.ledger.entriesNaming(1, 'cus_1', 'e2')
        expect(naming.length).toBeGreaterThan(0)
        expect(naming.every((e) => e.eventIds?.includes('e2'))).toBe(true)
        expect(await tx.ledger.entriesNaming(1, 'cus_1', 'e3')).toEqual([])
        expect(await tx.ledger.overageEntries(1, 'cus_1')).toEqual(
          used.entries.filter((e) => e.type === 'deduction' && e.grantId === undefined).map((e) => ({ type: 'deduction', credits: e.credits.toString(), atMs: e.atMs, eventMs: T0 - HOUR })),
        )
        expect((await tx.ledger.overageEntries(1, 'cus_1')).map((e) => e.credits)).toEqual(['-1.5'])
      })
      // An entry naming an event the store does not hold (or no longer holds) has no event time.
      const more = deduct(used.state, { credits: '2', eventIds: ['gone'] }, T0 + 2)
      if (!more.ok) throw new Error(more.message)
      await storage.transaction('write', async (tx) => tx.ledger.save(1, 'cus_1', more))
      await storage.transaction('read', async (tx) => {
        expect((await tx.ledger.overageEntries(1, 'cus_1')).map((e) => [e.credits, e.eventMs])).toEqual([['-1.5', T0 - HOUR], ['-2', null]])
      })
    })

    it('reservations, thresholds and alerts', async () => {
      const { storage } = store()
      await storage.transaction('write', async (tx) => {
        await tx.reservations.insert(1, { id: 'res_1', customerId: 'cus_1', credits: '2.5', granted: true, available: '7.25', expiresAtMs: T0 }, 1)
        await tx.reservations.insert(1, { id: 'res_2', customerId: 'cus_1', credits: '100', granted: false, available: '7.25', expiresAtMs: T0 }, 1)
        expect(await tx.thresholds.autoTopUp(1, 'cus_1')).toBeUndefined()
        await tx.thresholds.putAutoTopUp(1, 'cus_1', { threshold: '10', credits: '100', amount: null }, true)
        await tx.thresholds.putAutoTopUp(1, 'cus_1', { threshold: '20', credits: '200', amount: '19.99' }, true)
        await tx.thresholds.setAutoTopUpArmed(1, 'cus_1', false)
        expect(await tx.thresholds.alert(1, 'cus_1', 'balance.low')).toBeUndefined()
        await tx.thresholds.putAlert(1, 'cus_1', 'balance.low', true)
        await tx.thresholds.putAlert(1, 'cus_1', 'balance.low', false)
        await tx.thresholds.putAlert(1, 'cus_1', 'limit.reached', true)
      })
      await storage.transaction('read', async (tx) => {
        expect(await tx.reservations.get(1, 'res_1')).toEqual({ id: 'res_1', customerId: 'cus_1', credits: '2.5', granted: true, available: '7.25', expiresAtMs: T0 })
        expect(await tx.reservations.get(1, 'res_2')).toMatchObject({ granted: false })
        expect(await tx.reservations.get(2, 'res_1')).toBeUndefined()
        expect(await tx.thresholds.autoTopUp(1, 'cus_1')).toEqual({ threshold: '20', credits: '200', amount: '19.99', armed: false })
        expect(await tx.thresholds.alert(1, 'cus_1', 'balance.low')).toBe(false)
        expect(await tx.thresholds.alert(1, 'cus_1', 'limit.reached')).toBe(true)
      })
    })

    it('charge totals, corrections and unique values', async () => {
      const { storage } = store()
      await storage.transaction('write', async (tx) => {
        expect(await tx.chargeTotals.totals(1, 'cus_1', 'sub_1:render', T0)).toEqual([])
        await tx.chargeTotals.putTotal(1, 'cus_1', 'sub_1:render', T0, '', '1', '4')
        await tx.chargeTotals.putTotal(1, 'cus_1', 'sub_1:render', T0, '', '2.5', '10')
        await tx.chargeTotals.putTotal(1, 'cus_1', 'sub_1:render', T0, '"4k"', '1', '8')
        expect(await tx.chargeTotals.correction(1, 'cus_1', 'sub_1:render', T0)).toBeUndefined()
        await tx.chargeTotals.putCorrection(1, 'cus_1', 'sub_1:render', T0, '-3')
        await tx.chargeTotals.putCorrection(1, 'cus_1', 'sub_1:render', T0, '-4.5')
        expect(await tx.chargeTotals.addUnique(1, 'cus_1', 'sub_1:clips', T0, '', '"c1"')).toBe(true)
        expect(await tx.chargeTotals.addUnique(1, 'cus_1', 'sub_1:clips', T0, '', '"c1"')).toBe(false)
        expect(await tx.chargeTotals.addUnique(1, 'cus_1', 'sub_1:clips', T0, '"4k"', '"c1"')).toBe(true)
      })
      await storage.transaction('write', async (tx) => {
        expect((await tx.chargeTotals.totals(1, 'cus_1', 'sub_1:render', T0)).sort((a, b) => a.dimension.localeCompare(b.dimension))).toEqual([
          { dimension: '', quantity: '2.5', credits: '10' },
          { dimension: '"4k"', quantity: '1', credits: '8' },
        ])
        expect(await tx.chargeTotals.totals(1, 'cus_1', 'sub_1:render', T0 + 1)).toEqual([])
        expect(await tx.chargeTotals.correction(1, 'cus_1', 'sub_1:render', T0)).toBe('-4.5')
        await tx.chargeTotals.clearUniques(1, 'cus_1', 'sub_1:clips', T0)
        expect(await tx.chargeTotals.addUnique(1, 'cus_1', 'sub_1:clips', T0, '', '"c1"')).toBe(true)
      })
    })

    it('outbox: one delivery per subscribed endpoint, in the caller\'s transaction', async () => {
      const { storage } = store()
      const endpoints = [
        { url: 'https://a.example/hook', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', events: ['invoice.finalized', 'balance.low'] },
        { url: 'https://b.example/hook', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', events: ['limit.reached'] },
      ]
      const data = { customerId: 'cus_1', balance: '1', available: '1', threshold: '5' } as never
      const ids = await storage.transaction('write', async (tx) => tx.outbox.enqueue(1, endpoints, 'balance.low', data, T0))
      expect(ids).toHaveLength(1)
      expect(ids[0]).toMatch(/^msg_[A-Za-z0-9]{24}$/)
      expect(await storage.transaction('write', async (tx) => tx.outbox.enqueue(1, endpoints, 'top_up.created', data, T0))).toEqual([])
      // Rolled back with its transaction: a second enqueue after a failure answers fresh ids.
      await expect(storage.transaction('write', async (tx) => {
        await tx.outbox.enqueue(1, endpoints, 'limit.reached', data, T0)
        throw new Error('rolled back')
      })).rejects.toThrow('rolled back')
    })

    it('watermarks start at 0 and keep what is set', async () => {
      const { storage } = store()
      expect(await storage.transaction('read', async (tx) => tx.watermarks.get('credits'))).toBe(0)
      await storage.transaction('write', async (tx) => tx.watermarks.set('credits', 17))
      expect(await storage.transaction('read', async (tx) => tx.watermarks.get('credits'))).toBe(17)
    })

    it('decimals keep their digits: no float anywhere', async () => {
      const { storage } = store()
      const tiny = '0.000000000000000000000000000001'
      const huge = '123456789012345678901234567890.123456789012345678901234567890'
      await storage.transaction('write', async (tx) => tx.chargeTotals.putTotal(1, 'c', 'k', 0, '', huge, tiny))
      const [row] = await storage.transaction('read', async (tx) => tx.chargeTotals.totals(1, 'c', 'k', 0))
      expect(row).toEqual({ dimension: '', quantity: huge, credits: tiny })
      expect(decimal(row!.quantity).plus(tiny).toString()).toBe('123456789012345678901234567890.123456789012345678901234567891')
    })
  })
})
