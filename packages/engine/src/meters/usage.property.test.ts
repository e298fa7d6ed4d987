// Every aggregation against a brute-force reference computed from the raw events, on random
// event sets with late, duplicate, voided, amended and backfilled events, group-by, windows and
// time zones, with the rollups folded at random moments.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Big from 'big.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JsonValue, MeterConfig, Properties } from '@meterkit/protocol'
import { validateEvent } from '@meterkit/protocol'
import { ingestEvents } from '../ingest/ingest.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { splitRange } from './timezone.js'

const T0 = Date.parse('2026-03-07T00:00:00Z') // spans the Los Angeles DST change
const SPAN = 3 * 86_400_000
const METERS: MeterConfig[] = [
  { key: 'gpu_sum', event: 'render', aggregation: 'sum', property: 'gpu', groupBy: ['res'] },
  { key: 'renders', event: 'render', aggregation: 'count', filter: { status: ['ok'] } },
  { key: 'clips', event: 'render', aggregation: 'unique_count', property: 'clip', groupBy: ['res'] },
  { key: 'gpu_max', event: 'render', aggregation: 'max', property: 'gpu' },
  { key: 'gpu_min', event: 'render', aggregation: 'min', property: 'gpu', groupBy: ['res'] },
  { key: 'gpu_latest', event: 'render', aggregation: 'latest', property: 'gpu' },
  { key: 'gpu_avg', event: 'render', aggregation: 'avg', property: 'gpu', groupBy: ['res'] },
  { key: 'browser_count', event: 'render', aggregation: 'count', sources: ['browser'] },
]

interface ModelEvent { id: string; customerId: string; ts: number; props: Properties; voided: boolean }

const props = fc.record({
  gpu: fc.oneof(fc.constantFrom(0.1, 0.2, 0.3, 12.5, 1e-7, 3), fc.integer({ min: -5, max: 1000 }), fc.constantFrom('2.25', '0.05', 'x')),
  res: fc.constantFrom('4k', '1080p', 7),
  clip: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom('3', '4')),
  status: fc.constantFrom('ok', 'fail'),
}, { requiredKeys: ['status'] })

const op = fc.oneof(
  fc.record({ kind: fc.constant('ingest' as const), events: fc.array(fc.record({ customer: fc.constantFrom('c1', 'c2'), offset: fc.integer({ min: 0, max: SPAN - 1 }), props }), { minLength: 1, maxLength: 12 }), import: fc.boolean() }),
  fc.record({ kind: fc.constant('resend' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('void' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('amend' as const), pick: fc.nat(), props }),
  fc.record({ kind: fc.constant('fold' as const) }),
)

const query = fc.record({
  meter: fc.constantFrom(...METERS.map((m) => m.key)),
  from: fc.integer({ min: -3_600_000, max: SPAN }),
  length: fc.integer({ min: 1, max: SPAN + 3_600_000 }),
  window: fc.constantFrom('hour', 'day', 'none') as fc.Arbitrary<'hour' | 'day' | 'none'>,
  grouped: fc.boolean(),
  customer: fc.constantFrom('c1', 'c2'),
})

function num(v: JsonValue | undefined): Big | undefined {
  if (typeof v === 'number') return new Big(String(v))
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return new Big(v)
  return undefined
}

/** The reference: a direct reading of the contract over the model's events. */
function reference(meter: MeterConfig, events: ModelEvent[], customer: string, from: number, to: number): string | null {
  const counted = events.filter((e) => !e.voided && e.customerId === customer && e.ts >= from && e.ts < to)
    .filter(() => (meter.sources ?? ['server']).includes('server')) // every model event is a server or import event
    .filter((e) => Object.entries(meter.filter ?? {}).every(([k, vs]) => vs.some((v) => JSON.stringify(v) === JSON.stringify(e.props[k]))))
  if (meter.aggregation === 'count') return String(counted.length)
  if (meter.aggregation === 'unique_count') {
    return String(new Set(counted.map((e) => e.props[meter.property!]).filter((v) => v !== undefined && v !== null).map((v) => JSON.stringify(v))).size)
  }
  const withValue = counted.map((e) => ({ e, v: num(e.props[meter.property!]) })).filter((x) => x.v !== undefined) as { e: ModelEvent; v: Big }[]
  if (withValue.length === 0) return meter.aggregation === 'sum' ? '0' : null
  const sum = withValue.reduce((s, x) => s.plus(x.v), new Big(0))
  switch (meter.aggregation) {
    case 'sum': return sum.toFixed()
    case 'max': return withValue.reduce((m, x) => (x.v.gt(m) ? x.v : m), withValue[0]!.v).toFixed()
    case 'min': return withValue.reduce((m, x) => (x.v.lt(m) ? x.v : m), withValue[0]!.v).toFixed()
    case 'latest': {
      const last = [...withValue].sort((a, b) => a.e.ts - b.e.ts || (a.e.id < b.e.id ? -1 : 1)).pop()!
      return last.v.toFixed()
    }
    case 'avg': return new Big(sum.div(withValue.length).toFixed(20)).toFixed()
  }
}

describe('usage equals a brute-force reference from raw events', () => {
  it('for every aggregation, range, window, group and time zone', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.array(query, { minLength: 1, maxLength: 8 }), fc.constantFrom('UTC', 'America/Los_Angeles', 'Asia/Kolkata'), async (ops, queries, tz) => {
        const dir = mkdtempSync(join(tmpdir(), 'meterkit-usage-'))
        const store = new SqliteStore(join(dir, 'm.db'))
        try {
          const tenantId = (await store.defaultTenant('t', 0)).id
          await store.applyConfig(tenantId, { meters: METERS, features: [], plans: [] }, null, 0)
          for (const c of ['c1', 'c2']) await store.putCustomer(tenantId, { id: c, timezone: tz }, 0)
          const model: ModelEvent[] = []
          let n = 0
          for (const o of ops) {
            if (o.kind === 'ingest') {
              const raw = o.events.map((e) => ({ id: `e${n++}`, event: 'render', customerId: e.customer, timestamp: new Date(T0 + e.offset).toISOString(), properties: e.props }))
              const results = await ingestEvents(store, raw, { tenantId, source: o.import ? 'import' : 'server', nowMs: T0 + SPAN, latenessWindowMs: o.import ? undefined : 35 * 86_400_000 })
              results.forEach((r, i) => {
                expect(r.status).toBe('accepted')
                model.push({ id: raw[i]!.id, customerId: raw[i]!.customerId, ts: Date.parse(raw[i]!.timestamp), props: raw[i]!.properties as Properties, voided: false })
              })
            } else if (o.kind === 'fold') {
              await store.foldAll()
            } else if (model.length > 0) {
              const target = model[o.pick % model.length]!
              if (o.kind === 'resend') {
                const check = validateEvent({ id: target.id, event: 'render', customerId: target.customerId, timestamp: new Date(target.ts).toISOString(), properties: target.props })
                expect(check.ok).toBe(true)
                await store.ingest({ tenantId, source: 'server', receivedAtMs: T0, events: [(check as { event: never }).event] })
              } else if (o.kind === 'void') {
                const r = await store.voidEvent(tenantId, target.id, 'test', null, T0)
                expect(r.ok).toBe(!target.voided)
                target.voided = true
              } else {
                const r = await store.amendEvent(tenantId, target.id, o.props, 'test', null, T0)
                expect(r.ok).toBe(!target.voided)
                if (!target.voided) target.props = o.props
              }
            }
          }
          await store.foldAll()
          expect((await store.verify()).differences).toEqual([])
          for (const q of queries) {
            const meter = METERS.find((m) => m.key === q.meter)!
            const from = T0 + q.from
            const to = from + q.length
            const groupBy = q.grouped && meter.groupBy ? meter.groupBy : []
            const usage = await store.usage(tenantId, { customerId: q.customer, meter: q.meter, fromMs: from, toMs: to, window: q.window, groupBy })
            if ('error' in usage) throw new Error(usage.error)
            expect(usage.value).toBe(reference(meter, model, q.customer, from, to))
            if (groupBy.length > 0) {
              for (const g of usage.groups!) {
                const only = model.filter((e) => JSON.stringify(e.props.res ?? null) === JSON.stringify(g.group.res))
                expect(g.value, JSON.stringify(g.group)).toBe(reference(meter, only, q.customer, from, to))
              }
            }
            if (q.window !== 'none') {
              const edges = splitRange(from, to, q.window, tz)
              expect(usage.buckets!.map((b) => Date.parse(b.start))).toEqual(edges.slice(0, -1))
              usage.buckets!.forEach((b, i) => {
                expect(b.value, b.start).toBe(reference(meter, model, q.customer, edges[i]!, edges[i + 1]!))
              })
            }
          }
        } finally {
          await store.close()
          rmSync(dir, { recursive: true, force: true })
        }
      }),
      { numRuns: 60 },
    )
  }, 120_000)
})

describe('verify', () => {
  it('reports a difference planted in the rollups, and none before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterkit-verify-'))
    const store = new SqliteStore(join(dir, 'm.db'))
    try {
      const tenantId = (await store.defaultTenant('t', 0)).id
      await store.applyConfig(tenantId, { meters: METERS, features: [], plans: [] }, null, 0)
      const raw = Array.from({ length: 50 }, (_, i) => ({ id: `v${i}`, event: 'render', customerId: 'c1', timestamp: new Date(T0 + i * 60_000).toISOString(), properties: { gpu: 1.5, res: '4k', clip: i % 4, status: 'ok' } }))
      await ingestEvents(store, raw, { tenantId, source: 'server', nowMs: T0 + SPAN, latenessWindowMs: undefined })
      await store.foldAll()
      const clean = await store.verify()
      expect(clean).toMatchObject({ events: 50, differences: [] })
      store.db.prepare("UPDATE meter_rollups SET sum = '999' WHERE meter = 'gpu_sum' AND bucket = (SELECT min(bucket) FROM meter_rollups)").run()
      store.db.prepare("DELETE FROM meter_uniques WHERE value = '3'").run()
      const dirty = (await store.verify()).differences
      expect(dirty.some((d) => d.includes('gpu_sum') && d.includes('999'))).toBe(true)
      expect(dirty.some((d) => d.includes('unique values differ'))).toBe(true)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
